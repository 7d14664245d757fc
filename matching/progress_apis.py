"""Supervisors follow the year's progress; caseworkers follow their own counties'."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobmatch.api.errors import ApplicationError
from jobmatch.api.permissions import county_scope, roles
from jobmatch.models import Role
from matching.progress_serializers import (
    ProgressQuerySerializer,
    ProgressReportSerializer,
    ProgressTargetOutputSerializer,
    ProgressTargetQuerySerializer,
    ProgressTargetsInputSerializer,
)
from matching.services.progress import (
    TargetChange,
    progress_report,
    progress_targets,
    progress_targets_set,
)

READ_ROLES = {Role.CASEWORKER, Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN}
TARGET_ROLES = {Role.SUPERVISOR, Role.ADMIN}


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
        scope = county_scope(request.user) if request.user.role == Role.CASEWORKER else None
        if county is not None:
            if scope is not None and county not in scope:
                raise ApplicationError(
                    "You may follow only the progress of your own counties.", status=403
                )
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
