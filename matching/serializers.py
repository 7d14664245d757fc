from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from jobmatch import vocabulary
from jobmatch.api.serializers import StrictInputSerializer
from jobmatch.identifiers import age_on, mask_phone, mask_resident_id
from jobmatch.models import Role
from matching.core.types import Policy
from matching.models import Match, MatchingPolicy, MatchingRun, MatchStatus
from workers.models import Laborer


class LaborerSummarySerializer(serializers.Serializer):
    """What a match shows of the laborer: enough to decide, no more.

    Context `viewer`: "full" (the laborer's caseworker, supervisors, admins: everything
    they may see), "employer" (masked ID and phone until the laborer has accepted; never
    household or policy status), "masked" (coordinators). Ids shown in full are collected
    in `context["shown_full"]` for the access log.
    """

    id = serializers.IntegerField()
    name = serializers.CharField()
    age = serializers.SerializerMethodField()
    county = serializers.CharField(source="county_id")
    skills = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    def _full(self, laborer: Laborer) -> bool:
        full = self.context.get("full_ids_for", lambda lab: False)(laborer)
        if full:
            self.context.setdefault("shown_full", set()).add(laborer.pk)
        return full

    def get_age(self, laborer: Laborer) -> int:
        return age_on(laborer.birth_date, timezone.localdate())

    def get_skills(self, laborer: Laborer) -> list[dict[str, Any]]:
        return [{"occupation": s.occupation_id, "years": s.years} for s in laborer.skills.all()]

    def get_id_number(self, laborer: Laborer) -> str:
        return laborer.id_number if self._full(laborer) else mask_resident_id(laborer.id_number)

    def get_phone(self, laborer: Laborer) -> str:
        return laborer.phone if self._full(laborer) else mask_phone(laborer.phone)


class MatchOutputSerializer(serializers.ModelSerializer):
    laborer = serializers.IntegerField(source="laborer_id")
    vacancy = serializers.IntegerField(source="vacancy_id")
    run = serializers.IntegerField(source="run_id", allow_null=True)
    laborer_summary = serializers.SerializerMethodField()

    class Meta:
        model = Match
        fields = [
            "id",
            "laborer",
            "vacancy",
            "score",
            "explanation",
            "status",
            "run",
            "employed_at",
            "laborer_summary",
            "created_at",
            "updated_at",
        ]

    def get_laborer_summary(self, match: Match) -> dict[str, Any]:
        return dict(LaborerSummarySerializer(match.laborer, context=self.context).data)

    def to_representation(self, match: Match) -> dict[str, Any]:
        data = super().to_representation(match)
        if self.context.get("employer_view"):
            data["score"], data["explanation"] = employer_view_of(match.explanation, match.score)
        return data


def full_ids_rule(user: Any, *, accepted_laborers: set[int] | None = None) -> Any:
    """Who sees a laborer's ID and phone in full in matching views."""
    from jobmatch.api.permissions import county_scope

    if user.role == Role.EMPLOYER:
        accepted = accepted_laborers or set()
        return lambda lab: lab.pk in accepted
    if user.role == Role.COORDINATOR:
        return lambda lab: False
    scope = county_scope(user)
    return lambda lab: scope is None or lab.county_id in scope


class MatchingRunInputSerializer(StrictInputSerializer):
    counties = serializers.ListField(
        child=serializers.CharField(max_length=6), required=False, default=list, max_length=12
    )
    occupations = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=50
    )

    def validate_counties(self, value: list[str]) -> list[str]:
        known = vocabulary.get().counties
        unknown = [c for c in value if c not in known]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown county code %(code)r.") % {"code": unknown[0]}
            )
        return sorted(set(value))

    def validate_occupations(self, value: list[str]) -> list[str]:
        known = vocabulary.get().occupations
        unknown = [o for o in value if o not in known]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown occupation %(key)r.") % {"key": unknown[0]}
            )
        return sorted(set(value))


class MatchingRunOutputSerializer(serializers.ModelSerializer):
    policy = serializers.IntegerField(source="policy.version")

    class Meta:
        model = MatchingRun
        fields = [
            "id",
            "status",
            "progress",
            "counties",
            "occupations",
            "laborers",
            "openings",
            "candidate_pairs",
            "assigned",
            "total_score",
            "upper_bound",
            "gap",
            "household_bound",
            "household_gap",
            "seconds",
            "stats",
            "error",
            "policy",
            "created_at",
            "started_at",
            "finished_at",
        ]


class MatchingRunQueuedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()


class MatchingPolicyOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = MatchingPolicy
        fields = ["version", "weights", "note", "created_at"]


class MatchStatusQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MatchStatus.choices)


def _policy_weight_fields() -> dict[str, serializers.Field]:
    """One optional field per policy value, typed like the core's `Policy` defaults."""
    out: dict[str, serializers.Field] = {}
    for f in dataclass_fields(Policy):
        if isinstance(f.default, float):
            out[f.name] = serializers.FloatField(required=False, min_value=0, max_value=1000)
        else:
            out[f.name] = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    return out


MatchingPolicyWeightsSerializer = type(
    "MatchingPolicyWeightsSerializer", (StrictInputSerializer,), _policy_weight_fields()
)


class MatchingPolicyUpdateSerializer(StrictInputSerializer):
    """Values not given keep those of the current version; the core checks the whole."""

    read_only_names = frozenset({"version", "created_at"})

    weights = MatchingPolicyWeightsSerializer()
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

    def validate_weights(self, value: dict[str, Any]) -> dict[str, Any]:
        if not value:
            raise serializers.ValidationError(_("Give at least one value to change."))
        return value


def employer_view_of(explanation: dict[str, Any], score: int) -> tuple[int, dict[str, Any]]:
    """An employer never learns a laborer's household status: the policy-priority part
    (poverty alleviation, monitoring, employment difficulty) is left out of what it sees."""
    parts = dict(explanation.get("parts", {}))
    priority = int(parts.pop("priority", 0))
    reasons = dict(explanation.get("reasons", {}))
    reasons.pop("priority", None)
    shown = {"score": score - priority, "parts": parts}
    if reasons:
        shown["reasons"] = reasons
    return score - priority, shown


class SuggestionOutputSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    vacancy = serializers.IntegerField(source="vacancy_id")
    title = serializers.CharField(source="vacancy.title")
    employer = serializers.CharField(source="vacancy.employer.name")
    destination = serializers.CharField(source="vacancy.destination_id")
    wage_min = serializers.IntegerField(source="vacancy.wage_min")
    wage_max = serializers.IntegerField(source="vacancy.wage_max")
    start_date = serializers.DateField(source="vacancy.start_date")
    score = serializers.IntegerField()
    explanation = serializers.JSONField()
    computed_at = serializers.DateTimeField()


class CandidateOutputSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    laborer = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()
    explanation = serializers.SerializerMethodField()
    computed_at = serializers.DateTimeField()

    def _employer(self) -> bool:
        return bool(self.context.get("employer_view"))

    def get_laborer(self, candidate: Any) -> dict[str, Any]:
        return dict(LaborerSummarySerializer(candidate.laborer, context=self.context).data)

    def get_score(self, candidate: Any) -> int:
        if self._employer():
            return employer_view_of(candidate.explanation, candidate.score)[0]
        return int(candidate.score)

    def get_explanation(self, candidate: Any) -> dict[str, Any]:
        if self._employer():
            return employer_view_of(candidate.explanation, candidate.score)[1]
        return dict(candidate.explanation)
