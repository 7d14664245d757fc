from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from employers.models import Employer, Vacancy, VacancyStatus
from jobmatch import vocabulary
from jobmatch.api.serializers import StrictInputSerializer
from jobmatch.identifiers import IdentifierError, parse_mobile, parse_uscc

MAX_WAGE = 1_000_000


def _destination(value: str) -> str:
    value = value.strip()
    if value not in vocabulary.get().destinations:
        raise serializers.ValidationError(_("Unknown destination code %(code)r.") % {"code": value})
    return value


class EmployerInputSerializer(StrictInputSerializer):
    read_only_names = frozenset({"id", "created_at", "updated_at"})

    name = serializers.CharField(max_length=100)
    uscc = serializers.CharField(max_length=40)
    destination = serializers.CharField(max_length=9)
    address = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    contact_name = serializers.CharField(
        max_length=50, allow_blank=True, required=False, default=""
    )
    contact_phone = serializers.CharField(
        max_length=40, allow_blank=True, required=False, default=""
    )
    verified = serializers.BooleanField(required=False)

    def validate_uscc(self, value: str) -> str:
        try:
            return parse_uscc(value)
        except IdentifierError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_destination(self, value: str) -> str:
        return _destination(value)

    def validate_contact_phone(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return parse_mobile(value)
        except IdentifierError as exc:
            raise serializers.ValidationError(str(exc)) from None


class EmployerOutputSerializer(serializers.ModelSerializer):
    destination = serializers.CharField(source="destination_id")

    class Meta:
        model = Employer
        fields = [
            "id",
            "name",
            "uscc",
            "destination",
            "address",
            "contact_name",
            "contact_phone",
            "verified",
            "created_at",
            "updated_at",
        ]


# Keys that would state a gender requirement; equal employment forbids them.
GENDER_KEYS = ("gender", "sex", "性别")


class VacancyInputSerializer(StrictInputSerializer):
    read_only_names = frozenset({"id", "openings_left", "created_at", "updated_at"})

    employer = serializers.IntegerField(min_value=1, max_value=2**62, required=False)
    title = serializers.CharField(max_length=100)
    occupation = serializers.CharField(max_length=40)
    openings = serializers.IntegerField(min_value=1, max_value=100_000)
    wage_min = serializers.IntegerField(min_value=1, max_value=MAX_WAGE)
    wage_max = serializers.IntegerField(min_value=1, max_value=MAX_WAGE)
    destination = serializers.CharField(max_length=9)
    age_min = serializers.IntegerField(min_value=16, max_value=65, required=False, default=16)
    age_max = serializers.IntegerField(min_value=16, max_value=65, required=False, default=60)
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True, default=None)
    accommodation = serializers.BooleanField(required=False, default=False)
    meals = serializers.BooleanField(required=False, default=False)
    status = serializers.ChoiceField(
        choices=[VacancyStatus.OPEN, VacancyStatus.CLOSED],
        required=False,
        default=VacancyStatus.OPEN,
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            gender_keys = [k for k in data if any(g in str(k).lower() for g in GENDER_KEYS)]
            if gender_keys:
                message = _(
                    "Gender requirements are not accepted: vacancies are open to "
                    "women and men alike (equal employment)."
                )
                raise serializers.ValidationError({key: [message] for key in gender_keys})
        return super().to_internal_value(data)

    def validate_occupation(self, value: str) -> str:
        if value not in vocabulary.get().occupations:
            raise serializers.ValidationError(_("Unknown occupation %(key)r.") % {"key": value})
        return value

    def validate_destination(self, value: str) -> str:
        return _destination(value)


class VacancyOutputSerializer(serializers.ModelSerializer):
    employer = serializers.IntegerField(source="employer_id")
    occupation = serializers.CharField(source="occupation_id")
    destination = serializers.CharField(source="destination_id")

    class Meta:
        model = Vacancy
        fields = [
            "id",
            "employer",
            "title",
            "occupation",
            "openings",
            "openings_left",
            "wage_min",
            "wage_max",
            "destination",
            "age_min",
            "age_max",
            "start_date",
            "end_date",
            "accommodation",
            "meals",
            "status",
            "created_at",
            "updated_at",
        ]
