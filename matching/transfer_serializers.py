from __future__ import annotations

from datetime import time
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from jobmatch.api.serializers import StrictInputSerializer
from matching.models import TransferPlan, Trip, TripStop


class TransferPlanInputSerializer(StrictInputSerializer):
    from_date = serializers.DateField()
    to_date = serializers.DateField()
    max_pickup_stops = serializers.IntegerField(min_value=1, max_value=6, required=False)
    max_dropoff_stops = serializers.IntegerField(min_value=1, max_value=6, required=False)
    max_departures_per_pickup_per_day = serializers.IntegerField(
        min_value=1, max_value=12, required=False
    )
    min_gap_minutes = serializers.IntegerField(min_value=0, max_value=240, required=False)
    departure_window_start = serializers.TimeField(required=False)
    departure_window_end = serializers.TimeField(required=False)
    coach_types = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, min_length=1, max_length=10
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["to_date"] < attrs["from_date"]:
            raise serializers.ValidationError(
                {"to_date": [_("to_date must not be before from_date.")]}
            )
        if (attrs["to_date"] - attrs["from_date"]).days > 60:
            raise serializers.ValidationError({"to_date": [_("A plan covers at most 60 days.")]})
        start = attrs.get("departure_window_start", time(6))
        end = attrs.get("departure_window_end", time(10))
        if end <= start:
            raise serializers.ValidationError(
                {"departure_window_end": [_("The departure window must end after it starts.")]}
            )
        return attrs


class TransferPlanQueuedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class TransferPlanOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = TransferPlan
        fields = [
            "id",
            "status",
            "from_date",
            "to_date",
            "parameters",
            "riders",
            "seated",
            "unseated",
            "trips",
            "lower_bound_trips",
            "seat_utilization",
            "seconds",
            "stats",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]


class TripStopOutputSerializer(serializers.ModelSerializer):
    point = serializers.CharField(source="point_code")
    name = serializers.SerializerMethodField()
    riders = serializers.SerializerMethodField()

    class Meta:
        model = TripStop
        fields = ["order", "kind", "point", "name", "eta", "riders"]

    def get_name(self, stop: TripStop) -> str:
        point = stop.township if stop.kind == TripStop.Kind.PICKUP else stop.destination
        return point.name if point else ""

    def get_riders(self, stop: TripStop) -> int:
        counts = self.context.get("stop_riders", {})
        return counts.get(stop.pk, 0)


class TripOutputSerializer(serializers.ModelSerializer):
    coach_type = serializers.CharField(source="coach_type_id")
    county = serializers.CharField(source="county_id")
    city = serializers.CharField(source="city_id")
    plan = serializers.IntegerField(source="plan_id")
    riders = serializers.SerializerMethodField()
    boarded = serializers.SerializerMethodField()
    stops = serializers.SerializerMethodField()

    class Meta:
        model = Trip
        fields = [
            "id",
            "plan",
            "state",
            "coach_type",
            "seats",
            "riders",
            "boarded",
            "county",
            "city",
            "departure",
            "arrival",
            "night_stop",
            "stops",
            "created_at",
            "updated_at",
        ]

    def get_riders(self, trip: Trip) -> int:
        return len(trip.seat_set.all())

    def get_boarded(self, trip: Trip) -> int:
        return sum(1 for s in trip.seat_set.all() if s.boarded_at is not None)

    def get_stops(self, trip: Trip) -> list[dict[str, Any]]:
        counts: dict[int, int] = {}
        for seat in trip.seat_set.all():
            counts[seat.pickup_id] = counts.get(seat.pickup_id, 0) + 1
            counts[seat.dropoff_id] = counts.get(seat.dropoff_id, 0) + 1
        return list(
            TripStopOutputSerializer(
                trip.stops.all(), many=True, context={"stop_riders": counts}
            ).data
        )


class TripBoardInputSerializer(StrictInputSerializer):
    laborers = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), min_length=1, max_length=100
    )

    def validate_laborers(self, value: list[int]) -> list[int]:
        return sorted(set(value))
