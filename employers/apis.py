"""Employers and their vacancies."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from employers.filters import VacancyFilter
from employers.selectors import employer_list, vacancy_list
from employers.serializers import (
    EmployerInputSerializer,
    EmployerOutputSerializer,
    VacancyInputSerializer,
    VacancyOutputSerializer,
)
from employers.services import (
    employer_create,
    employer_delete,
    employer_update,
    vacancy_create,
    vacancy_delete,
    vacancy_update,
)
from jobmatch.api.permissions import ALL_ROLES, RolePermission, roles
from jobmatch.api.views import InputOutputSerializersMixin
from jobmatch.models import Role


class EmployerPermission(RolePermission):
    """Everyone reads (employers only their own); coordinators and admins register
    employers; an employer account edits its own record; only admins delete."""

    read_roles = ALL_ROLES
    write_roles = frozenset({Role.COORDINATOR, Role.ADMIN, Role.EMPLOYER})

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.user.role == Role.EMPLOYER and view.action == "create":
            return False
        return not (view.action == "destroy" and request.user.role != Role.ADMIN)


@extend_schema_view(
    create=extend_schema(
        request=EmployerInputSerializer, responses={201: EmployerOutputSerializer}
    ),
    update=extend_schema(request=EmployerInputSerializer, responses=EmployerOutputSerializer),
    partial_update=extend_schema(
        request=EmployerInputSerializer, responses=EmployerOutputSerializer
    ),
    destroy=extend_schema(responses={204: None}),
)
class EmployerApi(InputOutputSerializersMixin, viewsets.ModelViewSet):
    permission_classes = [EmployerPermission]
    serializer_class = EmployerOutputSerializer
    input_serializer_class = EmployerInputSerializer
    search_fields = ["name", "^uscc"]
    filterset_fields: list[str] = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return employer_list(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = EmployerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        employer = employer_create(actor=request.user, data=serializer.validated_data)
        return Response(EmployerOutputSerializer(employer).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        employer = self.get_object()
        serializer = EmployerInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        employer = employer_update(
            actor=request.user, employer=employer, data=serializer.validated_data
        )
        return Response(EmployerOutputSerializer(employer).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        employer_delete(actor=request.user, employer=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    create=extend_schema(request=VacancyInputSerializer, responses={201: VacancyOutputSerializer}),
    update=extend_schema(request=VacancyInputSerializer, responses=VacancyOutputSerializer),
    partial_update=extend_schema(request=VacancyInputSerializer, responses=VacancyOutputSerializer),
    destroy=extend_schema(responses={204: None}),
)
class VacancyApi(InputOutputSerializersMixin, viewsets.ModelViewSet):
    """Everyone reads vacancies (employers only their own); employers post their own,
    coordinators and admins post for any employer."""

    permission_classes = [
        roles(read=ALL_ROLES, write={Role.EMPLOYER, Role.COORDINATOR, Role.ADMIN})
    ]
    serializer_class = VacancyOutputSerializer
    input_serializer_class = VacancyInputSerializer
    filterset_class = VacancyFilter
    search_fields = ["title"]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return vacancy_list(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = VacancyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        vacancy = vacancy_create(actor=request.user, data=serializer.validated_data)
        return Response(VacancyOutputSerializer(vacancy).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        vacancy = self.get_object()
        serializer = VacancyInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        vacancy = vacancy_update(
            actor=request.user, vacancy=vacancy, data=serializer.validated_data
        )
        return Response(VacancyOutputSerializer(vacancy).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        vacancy_delete(actor=request.user, vacancy=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
