"""Laborers and households: registered by caseworkers, read by staff, never by employers."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from jobmatch.api.permissions import STAFF_ROLES, county_scope, roles
from jobmatch.api.views import InputOutputSerializersMixin
from jobmatch.models import Role
from jobmatch.privacy import log_request_full_read
from workers import imports
from workers.filters import LaborerFilter
from workers.models import Household
from workers.selectors import household_list, laborer_list, laborer_relations
from workers.serializers import (
    HouseholdInputSerializer,
    HouseholdOutputSerializer,
    ImportInputSerializer,
    ImportOutputSerializer,
    LaborerInputSerializer,
    LaborerOutputSerializer,
)
from workers.services import (
    household_create,
    household_delete,
    household_update,
    laborer_create,
    laborer_delete,
    laborer_update,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def laborer_data(request: Request, laborers: Any, *, many: bool) -> Any:
    """Serialize as the caller may see them, and log every full ID number or phone shown."""
    ids = [lab.pk for lab in laborers] if many else [laborers.pk]
    context: dict[str, Any] = {
        "request": request,
        "full_scope": county_scope(request.user),
        "relations": laborer_relations(ids),
    }
    data = LaborerOutputSerializer(laborers, many=many, context=context).data
    log_request_full_read(request, context.get("shown_full", ()))
    return data


@extend_schema_view(
    list=extend_schema(summary="List laborers", responses=LaborerOutputSerializer(many=True)),
    retrieve=extend_schema(summary="Read a laborer", responses=LaborerOutputSerializer),
    create=extend_schema(
        summary="Register a laborer",
        request=LaborerInputSerializer,
        responses={201: LaborerOutputSerializer},
    ),
    update=extend_schema(request=LaborerInputSerializer, responses=LaborerOutputSerializer),
    partial_update=extend_schema(request=LaborerInputSerializer, responses=LaborerOutputSerializer),
    destroy=extend_schema(responses={204: None}),
)
class LaborerApi(InputOutputSerializersMixin, viewsets.ModelViewSet):
    """Caseworkers write the laborers of their counties; staff read; employers never.

    ID numbers and phones are shown in full only to the laborer's caseworkers,
    supervisors and admins (masked for the rest); every full read is logged.
    """

    permission_classes = [roles(read=STAFF_ROLES, write={Role.CASEWORKER})]
    serializer_class = LaborerOutputSerializer
    input_serializer_class = LaborerInputSerializer
    filterset_class = LaborerFilter
    search_fields = ["name", "^id_number", "^phone"]
    personal_search_fields = ("^id_number", "^phone")

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return laborer_list(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(laborer_list(user=request.user, prefetch=False))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(laborer_data(request, page, many=True))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(laborer_data(request, self.get_object(), many=False))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = LaborerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        laborer = laborer_create(actor=request.user, data=serializer.validated_data)
        laborer = self.get_queryset().get(pk=laborer.pk)
        return Response(laborer_data(request, laborer, many=False), status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        laborer = self.get_object()
        serializer = LaborerInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        laborer_update(actor=request.user, laborer=laborer, data=serializer.validated_data)
        laborer = self.get_queryset().get(pk=laborer.pk)
        return Response(laborer_data(request, laborer, many=False))

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        laborer_delete(actor=request.user, laborer=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Import a village sheet (.xlsx or .csv)",
        request={"multipart/form-data": ImportInputSerializer},
        responses={200: ImportOutputSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filter_backends=[],
        pagination_class=None,
    )
    def import_sheet(self, request: Request) -> Response:
        imports.check_upload_size(request)
        serializer = ImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = imports.laborer_import(
            actor=request.user,
            upload=serializer.validated_data["file"],
            dry_run=serializer.validated_data["dry_run"],
        )
        return Response(ImportOutputSerializer(result).data)

    @extend_schema(
        summary="The import template (.xlsx)",
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="import/template",
        filter_backends=[],
        pagination_class=None,
        permission_classes=[roles(read={Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN})],
    )
    def import_template(self, request: Request) -> HttpResponse:
        response = HttpResponse(imports.template_xlsx(), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="laborers-template.xlsx"'
        return response

    @extend_schema(
        summary="Export the caller's laborers (.xlsx, logged as a full read)",
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="export",
        pagination_class=None,
        permission_classes=[roles(read={Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN})],
    )
    def export(self, request: Request) -> HttpResponse:
        queryset = self.filter_queryset(self.get_queryset())
        content, laborer_ids = imports.export_xlsx(queryset)
        log_request_full_read(request, laborer_ids)
        response = HttpResponse(content, content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="laborers.xlsx"'
        return response


@extend_schema_view(
    create=extend_schema(
        request=HouseholdInputSerializer, responses={201: HouseholdOutputSerializer}
    ),
    update=extend_schema(request=HouseholdInputSerializer, responses=HouseholdOutputSerializer),
    partial_update=extend_schema(
        request=HouseholdInputSerializer, responses=HouseholdOutputSerializer
    ),
    destroy=extend_schema(responses={204: None}),
)
class HouseholdApi(InputOutputSerializersMixin, viewsets.ModelViewSet):
    """Households whose members are placed and carried together."""

    permission_classes = [roles(read=STAFF_ROLES, write={Role.CASEWORKER})]
    serializer_class = HouseholdOutputSerializer
    input_serializer_class = HouseholdInputSerializer
    filter_backends: list = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return household_list(user=self.request.user)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = HouseholdInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        household = household_create(
            actor=request.user,
            member_ids=serializer.validated_data["members"],
            keep_together=serializer.validated_data["keep_together"],
        )
        household = self.get_queryset().get(pk=household.pk)
        return Response(HouseholdOutputSerializer(household).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        household: Household = self.get_object()
        serializer = HouseholdInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        household_update(
            actor=request.user,
            household=household,
            member_ids=serializer.validated_data.get("members"),
            keep_together=serializer.validated_data.get("keep_together"),
        )
        household = self.get_queryset().get(pk=household.pk)
        return Response(HouseholdOutputSerializer(household).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        household_delete(actor=request.user, household=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
