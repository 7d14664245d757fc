"""Point-to-point coaches: plans (Celery), trips and the day of departure."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from jobmatch.api.errors import ApplicationError
from jobmatch.api.permissions import county_scope, role_of, roles
from jobmatch.models import Role
from jobmatch.privacy import log_request_full_read
from matching.models import Seat, TransferPlan, Trip, TripStop
from matching.services import trips as trip_services
from matching.services.transfers import plan_create
from matching.transfer_models import TripState
from matching.transfer_serializers import (
    TransferPlanInputSerializer,
    TransferPlanOutputSerializer,
    TransferPlanQueuedSerializer,
    TripBoardInputSerializer,
    TripOutputSerializer,
)

PLAN_ROLES = {Role.COORDINATOR, Role.ADMIN}
TRIP_READ_ROLES = {Role.COORDINATOR, Role.SUPERVISOR, Role.ADMIN, Role.CASEWORKER}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TransferPlanApi(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Coach plans: one at a time, computed by a Celery task."""

    permission_classes = [roles(read=PLAN_ROLES | {Role.SUPERVISOR}, write=PLAN_ROLES)]
    serializer_class = TransferPlanOutputSerializer
    filter_backends: list = []

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return TransferPlan.objects.order_by("-id")

    @extend_schema(
        request=TransferPlanInputSerializer, responses={202: TransferPlanQueuedSerializer}
    )
    def create(self, request: Request) -> Response:
        serializer = TransferPlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_create(actor=request.user, **serializer.validated_data)
        return Response({"id": plan.pk, "status": plan.status}, status=status.HTTP_202_ACCEPTED)


class TripFilter(django_filters.FilterSet):
    date = django_filters.DateFilter(field_name="departure", lookup_expr="date")
    county = django_filters.CharFilter(field_name="county_id", max_length=6)
    destination = django_filters.CharFilter(method="filter_destination", max_length=9)
    state = django_filters.ChoiceFilter(choices=TripState.choices)
    plan = django_filters.NumberFilter(field_name="plan_id")

    class Meta:
        model = Trip
        fields = ["date", "county", "destination", "state", "plan"]

    def filter_destination(self, queryset, name, value):  # type: ignore[no-untyped-def]
        # A city code matches its trips; a street or district matches trips stopping there.
        return queryset.filter(
            Q(city_id=value)
            | Q(stops__destination_id=value)
            | Q(stops__destination__parent_id=value)
        ).distinct()


class TripApi(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Trips with stops and times; coordinators lock, board, depart, arrive and cancel."""

    permission_classes = [roles(read=TRIP_READ_ROLES, write=PLAN_ROLES)]
    serializer_class = TripOutputSerializer
    filterset_class = TripFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        qs = Trip.objects.select_related("coach_type").prefetch_related(
            Prefetch(
                "stops",
                queryset=TripStop.objects.select_related("township", "destination").order_by(
                    "order"
                ),
            ),
            Prefetch(
                "seat_set",
                queryset=Seat.objects.only(
                    "id", "trip_id", "pickup_id", "dropoff_id", "boarded_at"
                ),
            ),
        )
        user = self.request.user
        role = role_of(user)
        if role is None:  # the schema generator asks as an anonymous user
            return qs.none()
        if role == Role.CASEWORKER:
            qs = qs.filter(county_id__in=county_scope(user) or set())
        return qs.order_by("departure", "id")

    def _transition(self, request: Request, service: Any, **kwargs: Any) -> Response:
        trip = self.get_object()
        service(actor=request.user, trip=trip, **kwargs)
        return Response(TripOutputSerializer(self.get_queryset().get(pk=trip.pk)).data)

    @extend_schema(request=None, responses=TripOutputSerializer)
    @action(detail=True, methods=["post"])
    def lock(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, trip_services.trip_lock)

    @extend_schema(request=None, responses=TripOutputSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, trip_services.trip_unlock)

    @extend_schema(request=TripBoardInputSerializer, responses=TripOutputSerializer)
    @action(detail=True, methods=["post"])
    def board(self, request: Request, pk: str | None = None) -> Response:
        serializer = TripBoardInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._transition(
            request, trip_services.trip_board, laborer_ids=serializer.validated_data["laborers"]
        )

    @extend_schema(request=None, responses=TripOutputSerializer)
    @action(detail=True, methods=["post"])
    def depart(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, trip_services.trip_depart)

    @extend_schema(request=None, responses=TripOutputSerializer)
    @action(detail=True, methods=["post"])
    def arrive(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, trip_services.trip_arrive)

    @extend_schema(request=None, responses=TripOutputSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, trip_services.trip_cancel)

    @extend_schema(
        summary="Real-name passenger list (csv or xlsx; logged as a full read)",
        parameters=[OpenApiParameter("format", str, enum=["csv", "xlsx"], default="xlsx")],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        permission_classes=[roles(read=PLAN_ROLES)],
        filter_backends=[],
    )
    def manifest(self, request: Request, pk: str | None = None) -> HttpResponse:
        trip = self.get_object()
        kind = request.query_params.get("format", "xlsx")
        if kind == "csv":
            content, ids = trip_services.manifest_csv(trip)
            response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        elif kind == "xlsx":
            content, ids = trip_services.manifest_xlsx(trip)
            response = HttpResponse(content, content_type=XLSX)
        else:
            message = _("Use csv or xlsx.")
            raise ApplicationError(f"format: {message}", {"format": [message]})
        log_request_full_read(request, ids)
        response["Content-Disposition"] = f'attachment; filename="manifest-trip-{trip.pk}.{kind}"'
        return response
