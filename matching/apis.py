"""Matching: policy, rounds, matches and their transitions, suggestions and candidates."""

from __future__ import annotations

from typing import Any

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from employers.selectors import vacancy_list
from jobmatch.api.permissions import ALL_ROLES, STAFF_ROLES, roles
from jobmatch.models import Role
from jobmatch.privacy import log_request_full_read
from matching.models import Candidate, Match, MatchStatus, Suggestion
from matching.selectors import match_list, run_list
from matching.serializers import (
    CandidateOutputSerializer,
    MatchingPolicyOutputSerializer,
    MatchingPolicyUpdateSerializer,
    MatchingRunInputSerializer,
    MatchingRunOutputSerializer,
    MatchingRunQueuedSerializer,
    MatchOutputSerializer,
    SuggestionOutputSerializer,
    full_ids_rule,
)
from matching.services.matches import (
    match_accept,
    match_confirm_employed,
    match_decline,
    match_offer,
    match_reject,
)
from matching.services.policy import policy_current, policy_update
from matching.services.runs import run_create
from workers.selectors import laborer_list

RUN_ROLES = {Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN}


def match_data(request: Request, matches: Any, *, many: bool) -> Any:
    """Serialize matches with the laborer shown as the caller may see them; log full reads."""
    items = list(matches) if many else [matches]
    accepted = {m.laborer_id for m in items if m.status == MatchStatus.ACCEPTED}
    context: dict[str, Any] = {
        "request": request,
        "full_ids_for": full_ids_rule(request.user, accepted_laborers=accepted),
        "employer_view": request.user.role == Role.EMPLOYER,
    }
    data = MatchOutputSerializer(matches, many=many, context=context).data
    log_request_full_read(request, context.get("shown_full", ()))
    return data


class MatchFilter(django_filters.FilterSet):
    run = django_filters.NumberFilter(field_name="run_id")
    laborer = django_filters.NumberFilter(field_name="laborer_id")
    vacancy = django_filters.NumberFilter(field_name="vacancy_id")
    status = django_filters.ChoiceFilter(choices=MatchStatus.choices)

    class Meta:
        model = Match
        fields = ["run", "laborer", "vacancy", "status"]


class MatchApi(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Matches: employers see those for their vacancies (laborers masked until accepted),
    caseworkers those of their counties' laborers, coordinators/supervisors/admins all."""

    permission_classes = [roles(read=ALL_ROLES, write={Role.EMPLOYER, Role.CASEWORKER})]
    serializer_class = MatchOutputSerializer
    filterset_class = MatchFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return match_list(user=self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(match_data(request, page, many=True))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(match_data(request, self.get_object(), many=False))

    def _transition(self, request: Request, service: Any) -> Response:
        match = self.get_object()
        service(actor=request.user, match=match)
        return Response(match_data(request, self.get_queryset().get(pk=match.pk), many=False))

    @extend_schema(request=None, responses=MatchOutputSerializer, summary="Employer offers the job")
    @action(detail=True, methods=["post"])
    def offer(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, match_offer)

    @extend_schema(request=None, responses=MatchOutputSerializer, summary="Employer rejects")
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, match_reject)

    @extend_schema(
        request=None, responses=MatchOutputSerializer, summary="Laborer accepts (caseworker)"
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, match_accept)

    @extend_schema(
        request=None, responses=MatchOutputSerializer, summary="Laborer declines (caseworker)"
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, match_decline)

    @extend_schema(
        request=None, responses=MatchOutputSerializer, summary="Employer confirms work started"
    )
    @action(detail=True, methods=["post"])
    def employed(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, match_confirm_employed)


class MatchingRunApi(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Matching rounds: one at a time; the round runs in Celery."""

    permission_classes = [roles(read=RUN_ROLES, write=RUN_ROLES)]
    serializer_class = MatchingRunOutputSerializer
    filter_backends: list = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return run_list()

    @extend_schema(request=MatchingRunInputSerializer, responses={202: MatchingRunQueuedSerializer})
    def create(self, request: Request) -> Response:
        serializer = MatchingRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = run_create(actor=request.user, **serializer.validated_data)
        return Response({"id": run.pk, "status": run.status}, status=status.HTTP_202_ACCEPTED)


class MatchingPolicyApi(APIView):
    """The current matching policy; supervisors and admins save a new version."""

    permission_classes = [roles(read=STAFF_ROLES, write={Role.SUPERVISOR, Role.ADMIN})]

    @extend_schema(responses=MatchingPolicyOutputSerializer)
    def get(self, request: Request) -> Response:
        return Response(MatchingPolicyOutputSerializer(policy_current()).data)

    @extend_schema(request=MatchingPolicyUpdateSerializer, responses=MatchingPolicyOutputSerializer)
    def put(self, request: Request) -> Response:
        serializer = MatchingPolicyUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = policy_update(actor=request.user, **serializer.validated_data)
        return Response(MatchingPolicyOutputSerializer(policy).data)


class LaborerSuggestionsApi(APIView):
    """The laborer's best open vacancies (stored when the laborer was last saved)."""

    permission_classes = [roles(read=STAFF_ROLES)]

    @extend_schema(responses=SuggestionOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        laborer = get_object_or_404(laborer_list(user=request.user), pk=pk)
        suggestions = (
            Suggestion.objects.filter(laborer=laborer)
            .select_related("vacancy__employer")
            .order_by("rank")
        )
        return Response(SuggestionOutputSerializer(suggestions, many=True).data)


class VacancyCandidatesApi(APIView):
    """The vacancy's best laborers (stored when the vacancy was last saved); employers see
    them masked: name, age, county, skills and score, no ID number, phone or household
    status."""

    permission_classes = [roles(read=ALL_ROLES)]

    @extend_schema(responses=CandidateOutputSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        vacancy = get_object_or_404(vacancy_list(user=request.user), pk=pk)
        candidates = (
            Candidate.objects.filter(vacancy=vacancy)
            .select_related("laborer")
            .prefetch_related("laborer__skills")
            .order_by("rank")
        )
        context: dict[str, Any] = {
            "full_ids_for": full_ids_rule(request.user),
            "employer_view": request.user.role == Role.EMPLOYER,
        }
        data = CandidateOutputSerializer(candidates, many=True, context=context).data
        log_request_full_read(request, context.get("shown_full", ()))
        return Response(data)
