"""Input and output of the progress report and the year's targets."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from jobmatch import vocabulary
from jobmatch.api.serializers import StrictInputSerializer
from matching.progress_models import REPORTED_INDICATORS, CountyReport, Indicator, ProgressTarget

MIN_YEAR, MAX_YEAR = 2020, 2100


def _reportable(value: Any) -> Any:
    """A day progress can be counted for: not in the future, in a year targets may have."""
    if value > timezone.localdate():
        raise serializers.ValidationError(_("The date cannot be in the future."))
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise serializers.ValidationError(_("Give a date from %(year)s on.") % {"year": MIN_YEAR})
    return value


def _known_county(value: str | None) -> str | None:
    if value is not None and value not in vocabulary.get().counties:
        raise serializers.ValidationError(_("Unknown county code %(code)r.") % {"code": value})
    return value


class ProgressQuerySerializer(StrictInputSerializer):
    date = serializers.DateField(required=False)
    county = serializers.CharField(max_length=6, required=False)

    def validate_date(self, value: Any) -> Any:
        return _reportable(value)

    def validate_county(self, value: str) -> str | None:
        return _known_county(value)


class ProgressTargetQuerySerializer(StrictInputSerializer):
    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR, required=False)


class ProgressTargetChangeSerializer(StrictInputSerializer):
    indicator = serializers.ChoiceField(choices=Indicator.choices)
    county = serializers.CharField(max_length=6, allow_null=True, default=None)
    target = serializers.IntegerField(min_value=0, max_value=10_000_000)
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

    def validate_county(self, value: str | None) -> str | None:
        return _known_county(value)


class ProgressTargetsInputSerializer(StrictInputSerializer):
    year = serializers.IntegerField(min_value=MIN_YEAR, max_value=MAX_YEAR)
    targets = ProgressTargetChangeSerializer(many=True, allow_empty=False, max_length=200)

    def validate_targets(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = set()
        for change in value:
            key = (change["indicator"], change["county"])
            if key in seen:
                raise serializers.ValidationError(
                    _("Indicator %(indicator)r for %(county)s is given twice.")
                    % {"indicator": key[0], "county": key[1] or _("all of Baise")}
                )
            seen.add(key)
        return value


class ProgressTargetOutputSerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county_id", allow_null=True)
    updated_by = serializers.CharField(source="updated_by.username", default=None)

    class Meta:
        model = ProgressTarget
        fields = ["year", "indicator", "county", "target", "note", "updated_by", "updated_at"]


class ProgressDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()


class ProgressIndicatorSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=Indicator.choices)
    name = serializers.CharField()
    done = serializers.IntegerField()
    target = serializers.IntegerField(allow_null=True)
    share = serializers.FloatField(allow_null=True)
    on_track = serializers.BooleanField(allow_null=True)
    on_date = serializers.IntegerField()
    last_7_days = ProgressDaySerializer(many=True)


class ProgressCountyFigureSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    target = serializers.IntegerField(allow_null=True)
    share = serializers.FloatField(allow_null=True)


class ProgressCountySerializer(serializers.Serializer):
    county = serializers.CharField()
    name = serializers.CharField()
    indicators = serializers.DictField(child=ProgressCountyFigureSerializer())


class ProgressReportSerializer(serializers.Serializer):
    date = serializers.DateField()
    year = serializers.IntegerField()
    year_elapsed = serializers.FloatField()
    counties = serializers.ListField(child=serializers.CharField(), allow_null=True)
    indicators = ProgressIndicatorSerializer(many=True)
    by_county = ProgressCountySerializer(many=True)


class CountyReportQuerySerializer(StrictInputSerializer):
    read_only_names = frozenset({"limit", "offset"})

    county = serializers.CharField(max_length=6, required=False)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)

    def validate_county(self, value: str) -> str | None:
        return _known_county(value)


class CountyReportInputSerializer(StrictInputSerializer):
    county = serializers.CharField(max_length=6)
    date = serializers.DateField()
    figures = serializers.DictField(
        child=serializers.IntegerField(min_value=0, max_value=1_000_000), allow_empty=False
    )

    def validate_county(self, value: str) -> str | None:
        return _known_county(value)

    def validate_date(self, value: Any) -> Any:
        return _reportable(value)

    def validate_figures(self, value: dict[str, int]) -> dict[str, int]:
        known = {str(i) for i in REPORTED_INDICATORS}
        unknown = sorted(set(value) - known)
        if unknown:
            raise serializers.ValidationError(
                _("Unknown indicator %(indicator)r; counties report %(indicators)s.")
                % {"indicator": unknown[0], "indicators": ", ".join(sorted(known))}
            )
        return value


class CountyReportOutputSerializer(serializers.ModelSerializer):
    county = serializers.CharField(source="county_id")
    reported_by = serializers.CharField(source="reported_by.username", default=None)

    class Meta:
        model = CountyReport
        fields = ["county", "date", "indicator", "count", "reported_by", "updated_at"]
