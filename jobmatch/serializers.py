from __future__ import annotations

from rest_framework import serializers

from jobmatch.models import AccessLog, County, Destination, Occupation, Township


class TownshipOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Township
        fields = ["code", "name", "pinyin", "lat", "lng", "coords_from_seat", "is_seat"]


class CountyOutputSerializer(serializers.ModelSerializer):
    legacy_codes = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    townships = TownshipOutputSerializer(many=True, read_only=True)

    class Meta:
        model = County
        fields = [
            "code",
            "name",
            "pinyin",
            "kind",
            "seat",
            "lat",
            "lng",
            "est_road_km_to_shenzhen",
            "est_coach_hours_to_shenzhen",
            "legacy_codes",
            "townships",
        ]


class MinimumWageOutputSerializer(serializers.Serializer):
    effective_from = serializers.DateField()
    monthly = serializers.IntegerField()


class DestinationOutputSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", allow_null=True)
    city = serializers.CharField(source="city_id")
    # Minimum wages belong to the city: every destination shows its city's table.
    minimum_wages = MinimumWageOutputSerializer(
        source="city.minimum_wages", many=True, read_only=True
    )

    class Meta:
        model = Destination
        fields = ["code", "name", "pinyin", "kind", "parent", "city", "lat", "lng", "minimum_wages"]


class OccupationOutputSerializer(serializers.ModelSerializer):
    related = serializers.SlugRelatedField(many=True, read_only=True, slug_field="key")

    class Meta:
        model = Occupation
        fields = [
            "key",
            "name_zh",
            "name_en",
            "classification_code",
            "code_confidence",
            "wage_low",
            "wage_high",
            "related",
        ]


class TokenInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenOutputSerializer(serializers.Serializer):
    token = serializers.CharField()


class AccessLogOutputSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")

    class Meta:
        model = AccessLog
        fields = [
            "id",
            "user",
            "username",
            "at",
            "method",
            "endpoint",
            "laborer_ids",
            "laborer_count",
        ]
