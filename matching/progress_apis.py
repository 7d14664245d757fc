"""Supervisors follow the year's progress; caseworkers follow their own counties'."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobmatch.api.errors import ApplicationError
from jobmatch.api.pagination import LimitOffsetPagination
from jobmatch.api.permissions import county_scope, roles
from jobmatch.models import Role
from matching.progress_serializers import (
    CountyReportInputSerializer,
    CountyReportOutputSerializer,
    CountyReportQuerySerializer,
    ProgressQuerySerializer,
    ProgressReportSerializer,
    ProgressTargetOutputSerializer,
    ProgressTargetQuerySerializer,
    ProgressTargetsInputSerializer,
)
from matching.services.progress import (
    TargetChange,
    county_report_list,
    county_reports_set,
    progress_report,
    progress_targets,
    progress_targets_set,
)

READ_ROLES = {Role.CASEWORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN}
TARGET_ROLES = {Role.SUPERVISOR, Role.ADMIN}
REPORT_ROLES = {Role.CASEWORKER, Role.SUPERVISOR, Role.ADMIN}


def _caseworker_scope(request: Request) -> set[str] | None:
    """The counties a caseworker answers for; None (every county) for the other roles."""
    return county_scope(request.user) if request.user.role == Role.CASEWORKER else None


def _check_county(scope: set[str] | None, county: str) -> None:
    if scope is not None and county not in scope:
        raise ApplicationError(
            _("You may follow only the progress of your own counties."), status=403
        )


class ProgressApi(APIView):
    """The year's indicators up to `date` (default today) against their targets, with the
    last week day by day and every county's figures; caseworkers see their counties."""

    permission_classes = [roles(read=READ_ROLES)]

    @extend_schema(parameters=[ProgressQuerySerializer], responses=ProgressReportSerializer)
    def get(self, request: Request) -> Response:
        query = ProgressQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("date") or timezone.localdate()
        county = query.validated_data.get("county")
        scope = _caseworker_scope(request)
        if county is not None:
            _check_county(scope, county)
            scope = {county}
        report = progress_report(as_of=as_of, counties=scope)
        return Response(ProgressReportSerializer(report).data)


class ProgressTargetsApi(APIView):
    """The year's targets (default this year); supervisors and admins set them (a target of
    0 removes one; targets not named stay as they are)."""

    permission_classes = [roles(read=READ_ROLES, write=TARGET_ROLES)]

    @extend_schema(
        parameters=[ProgressTargetQuerySerializer],
        responses=ProgressTargetOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = ProgressTargetQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        year = query.validated_data.get("year") or timezone.localdate().year
        targets = progress_targets(year=year)
        return Response(ProgressTargetOutputSerializer(targets, many=True).data)

    @extend_schema(
        request=ProgressTargetsInputSerializer,
        responses=ProgressTargetOutputSerializer(many=True),
    )
    def put(self, request: Request) -> Response:
        serializer = ProgressTargetsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        targets = progress_targets_set(
            actor=request.user,
            year=data["year"],
            changes=[TargetChange(**change) for change in data["targets"]],
        )
        return Response(ProgressTargetOutputSerializer(targets, many=True).data)


class CountyReportsApi(APIView):
    """The counties' daily figures of the official indicators (new counts of the day, newest
    first); caseworkers report and read their own counties', supervisors and admins any."""

    permission_classes = [roles(read=READ_ROLES, write=REPORT_ROLES)]

    @extend_schema(
        parameters=[CountyReportQuerySerializer],
        responses=CountyReportOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        query = CountyReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        scope = _caseworker_scope(request)
        county = query.validated_data.get("county")
        if county is not None:
            _check_county(scope, county)
            scope = {county}
        reports = county_report_list(
            counties=scope,
            first=query.validated_data.get("date_from"),
            last=query.validated_data.get("date_to"),
        )
        # A plain APIView paginated by hand: a GenericAPIView with `put` makes DRF's OPTIONS
        # metadata call get_object(), which this list endpoint has no key for.
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(reports, request, view=self)
        data = CountyReportOutputSerializer(page, many=True).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        request=CountyReportInputSerializer, responses=CountyReportOutputSerializer(many=True)
    )
    def put(self, request: Request) -> Response:
        serializer = CountyReportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        _check_county(_caseworker_scope(request), data["county"])
        reports = county_reports_set(
            actor=request.user, county=data["county"], day=data["date"], figures=data["figures"]
        )
        return Response(CountyReportOutputSerializer(reports, many=True).data)
