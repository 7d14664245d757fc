from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobmatch import vocabulary
from jobmatch.api.serializers import StrictInputSerializer
from jobmatch.identifiers import (
    IdentifierError,
    mask_phone,
    mask_resident_id,
    parse_mobile,
    parse_resident_id,
)
from workers.models import Household, Laborer

MAX_SKILLS = 10
MAX_PREFERRED = 10
MAX_WAGE = 1_000_000


class LaborerSkillInputSerializer(StrictInputSerializer):
    occupation = serializers.CharField(max_length=40)
    years = serializers.IntegerField(min_value=0, max_value=60, default=0)

    def validate_occupation(self, value: str) -> str:
        if value not in vocabulary.get().occupations:
            raise serializers.ValidationError(_("Unknown occupation %(key)r.") % {"key": value})
        return value


class LaborerInputSerializer(StrictInputSerializer):
    """Field formats of a laborer; rules between fields and records are in services."""

    read_only_names = frozenset(
        {
            "id",
            "gender",
            "birth_date",
            "from_outside_baise",
            "household",
            "status",
            "created_at",
            "updated_at",
        }
    )

    name = serializers.CharField(max_length=50)
    id_number = serializers.CharField(max_length=40)
    phone = serializers.CharField(max_length=40)
    county = serializers.CharField(max_length=6)
    township = serializers.CharField(max_length=9)
    village = serializers.CharField(max_length=60, allow_blank=True, required=False, default="")
    skills = LaborerSkillInputSerializer(
        many=True, required=False, default=list, max_length=MAX_SKILLS
    )
    preferred_destinations = serializers.ListField(
        child=serializers.CharField(max_length=9),
        required=False,
        default=list,
        max_length=MAX_PREFERRED,
    )
    min_monthly_wage = serializers.IntegerField(
        min_value=1, max_value=MAX_WAGE, allow_null=True, required=False, default=None
    )
    available_from = serializers.DateField()
    poverty_alleviated = serializers.BooleanField(required=False, default=False)
    monitored_household = serializers.BooleanField(required=False, default=False)
    employment_difficulty = serializers.BooleanField(required=False, default=False)
    consent_to_share = serializers.BooleanField(required=False, default=False)

    def validate_id_number(self, value: str) -> Any:
        try:
            return parse_resident_id(value, today=timezone.localdate())
        except IdentifierError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_phone(self, value: str) -> str:
        try:
            return parse_mobile(value)
        except IdentifierError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_county(self, value: str) -> str:
        value = value.strip()
        if value not in vocabulary.get().counties:
            raise serializers.ValidationError(_("Unknown county code %(code)r.") % {"code": value})
        return value

    def validate_township(self, value: str) -> str:
        value = value.strip()
        if value not in vocabulary.get().townships:
            raise serializers.ValidationError(
                _("Unknown township code %(code)r.") % {"code": value}
            )
        return value

    def validate_skills(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen = [s["occupation"] for s in value]
        if len(set(seen)) != len(seen):
            raise serializers.ValidationError(_("Each occupation may appear only once."))
        return value

    def validate_preferred_destinations(self, value: list[str]) -> list[str]:
        known = vocabulary.get().destinations
        unknown = [code for code in value if code not in known]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown destination code %(code)r.") % {"code": unknown[0]}
            )
        return sorted(set(value))


class LaborerSkillOutputSerializer(serializers.Serializer):
    occupation = serializers.CharField(source="occupation_id")
    years = serializers.IntegerField()


class LaborerOutputSerializer(serializers.ModelSerializer):
    """A laborer as the caller may see it.

    `context["full_scope"]`: None (every county) or the set of counties whose laborers the
    caller sees in full; others get masked ID numbers and phones. The ids of laborers
    shown in full are collected in `context["shown_full"]` for the access log.
    """

    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    county = serializers.CharField(source="county_id")
    township = serializers.CharField(source="township_id")
    skills = serializers.SerializerMethodField()
    preferred_destinations = serializers.SerializerMethodField()
    household = serializers.IntegerField(source="household_id", allow_null=True)

    class Meta:
        model = Laborer
        fields = [
            "id",
            "name",
            "id_number",
            "gender",
            "birth_date",
            "from_outside_baise",
            "phone",
            "county",
            "township",
            "village",
            "skills",
            "preferred_destinations",
            "min_monthly_wage",
            "available_from",
            "household",
            "poverty_alleviated",
            "monitored_household",
            "employment_difficulty",
            "consent_to_share",
            "status",
            "created_at",
            "updated_at",
        ]

    def _full(self, obj: Laborer) -> bool:
        scope = self.context.get("full_scope", set())
        full = scope is None or obj.county_id in scope
        if full:
            self.context.setdefault("shown_full", set()).add(obj.pk)
        return full

    def get_id_number(self, obj: Laborer) -> str:
        return obj.id_number if self._full(obj) else mask_resident_id(obj.id_number)

    def get_phone(self, obj: Laborer) -> str:
        return obj.phone if self._full(obj) else mask_phone(obj.phone)

    def _relations(self, obj: Laborer) -> tuple[list[dict[str, Any]], list[str]] | None:
        return self.context.get("relations", {}).get(obj.pk)

    @extend_schema_field(LaborerSkillOutputSerializer(many=True))
    def get_skills(self, obj: Laborer) -> list[dict[str, Any]]:
        relations = self._relations(obj)
        if relations is not None:
            return relations[0]
        return [{"occupation": s.occupation_id, "years": s.years} for s in obj.skills.all()]

    def get_preferred_destinations(self, obj: Laborer) -> list[str]:
        relations = self._relations(obj)
        if relations is not None:
            return relations[1]
        return sorted(d.code for d in obj.preferred_destinations.all())


class HouseholdInputSerializer(StrictInputSerializer):
    read_only_names = frozenset({"id", "created_at", "updated_at"})

    members = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), min_length=2, max_length=20
    )
    keep_together = serializers.ChoiceField(choices=Household.KeepTogether.choices)

    def validate_members(self, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("A laborer may appear only once."))
        return value


class HouseholdOutputSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["id", "keep_together", "members", "created_at", "updated_at"]

    def get_members(self, obj: Household) -> list[int]:
        return sorted(m.pk for m in obj.members.all())


class ImportInputSerializer(StrictInputSerializer):
    file = serializers.FileField()
    dry_run = serializers.BooleanField(required=False, default=False)


class ImportRejectedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ImportOutputSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = ImportRejectedRowSerializer(many=True)
