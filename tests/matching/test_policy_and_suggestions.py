"""The matching policy (versioned) and the interactive suggestions and candidates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobmatch.models import AccessLog
from matching.models import Candidate, MatchingPolicy, Suggestion
from matching.services.policy import policy_current
from matching.services.suggestions import laborer_suggestions_compute, vacancy_candidates_compute
from tests.factories import LaborerFactory, MatchFactory, UserFactory, VacancyFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/matching/policy/"
DEFAULTS = {
    "occupation": 40,
    "wage": 20,
    "destination": 15,
    "start": 10,
    "amenities": 5,
    "priority": 10,
    "related_factor": 1.0,
    "occupation_base": 0.5,
    "years_full": 5,
    "wage_margin": 0.3,
    "start_full_days": 7,
    "start_zero_days": 60,
    "k": 10,
}


def test_first_read_creates_version_one_with_the_defaults(client_for, coordinator):
    body = client_for(coordinator).get(URL).json()
    assert (body["version"], body["weights"], body["note"]) == (1, DEFAULTS, "defaults")
    assert MatchingPolicy.objects.count() == 1


def test_supervisor_saves_a_new_version(client_for, supervisor):
    policy_current()
    response = client_for(supervisor).put(
        URL,
        {"weights": {"occupation": 35, "priority": 15}, "note": "more weight on priority"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["version"], body["note"]) == (2, "more weight on priority")
    assert body["weights"] == {**DEFAULTS, "occupation": 35, "priority": 15}
    assert list(
        MatchingPolicy.objects.order_by("version").values_list("version", "created_by")
    ) == [
        (1, None),
        (2, supervisor.pk),
    ]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"occupation": 50}, "weights: weights must sum to 100, got 110"),
        (
            {"wage": -5, "occupation": 65},
            "weights.wage: Ensure this value is greater than or equal to 0.",
        ),
        ({"wage": 0, "occupation": 50}, "weights: weights must sum to 100, got 90"),
        ({"speed": 3}, "weights.speed: Unknown field."),
        ({"related_factor": 2}, "weights: related_factor must be within [0, 1]"),
        ({"occupation": "forty"}, "weights.occupation: A valid integer is required."),
        ({}, "weights: Give at least one value to change."),
    ],
)
def test_invalid_policies_are_refused_and_nothing_saved(client_for, supervisor, weights, message):
    policy_current()
    response = client_for(supervisor).put(URL, {"weights": weights}, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert MatchingPolicy.objects.count() == 1


@pytest.mark.parametrize("role", ["caseworker", "coordinator", "employer"])
def test_only_supervisors_and_admins_edit_the_policy(client_for, role):
    user = UserFactory(role=role)
    response = client_for(user).put(URL, {"weights": {"k": 5}}, format="json")
    assert response.status_code == 403
    assert MatchingPolicy.objects.filter(version__gt=1).count() == 0


def test_employers_do_not_read_the_policy(client_for, employer_user):
    assert client_for(employer_user).get(URL).status_code == 403


def _scene():
    start = timezone.localdate() + timedelta(days=20)
    good = VacancyFactory(occupation_id="welder", wage_min=6500, wage_max=9000, start_date=start)
    related = VacancyFactory(
        occupation_id="electrician", wage_min=6000, wage_max=8000, start_date=start
    )
    VacancyFactory(occupation_id="cook", start_date=start)  # no fitting skill: never suggested
    laborer = LaborerFactory(
        skills=[("welder", 6)],
        min_monthly_wage=5000,
        available_from=timezone.localdate() + timedelta(days=3),
        poverty_alleviated=True,
    )
    return laborer, good, related


def test_suggestions_rank_fitting_vacancies_with_explanations(client_for, caseworker):
    laborer, good, related = _scene()
    assert laborer_suggestions_compute(laborer_ids=[laborer.pk]) == 2
    body = client_for(caseworker).get(f"/api/v1/laborers/{laborer.pk}/suggestions/").json()
    assert [s["vacancy"] for s in body] == [good.pk, related.pk]
    first = body[0]
    assert first["rank"] == 1
    parts = first["explanation"]["parts"]
    assert sum(parts.values()) == first["score"] == first["explanation"]["score"]
    assert parts["priority"] == 10
    # Reasons name occupations and places as caseworkers know them, not by position.
    reasons = first["explanation"]["reasons"]
    assert reasons["occupation"] == "has 焊工 with 6 years of experience"
    assert reasons["destination"] == "宝安区福永街道; no preference given"
    assert body[1]["explanation"]["reasons"]["occupation"] == (
        "related 焊工 (fit 0.50) with 6 years of experience"
    )
    assert set(first) == {
        "rank", "vacancy", "title", "employer", "destination", "wage_min", "wage_max",
        "start_date", "score", "explanation", "computed_at",
    }  # fmt: skip


def test_suggestions_follow_laborer_visibility(client_for, other_caseworker, employer_user):
    laborer, _, _ = _scene()
    laborer_suggestions_compute(laborer_ids=[laborer.pk])
    assert (
        client_for(other_caseworker).get(f"/api/v1/laborers/{laborer.pk}/suggestions/").status_code
        == 404
    )
    assert (
        client_for(employer_user).get(f"/api/v1/laborers/{laborer.pk}/suggestions/").status_code
        == 403
    )


def test_candidates_are_masked_for_the_employer(client_for, employer_user):
    laborer, _, _ = _scene()
    vacancy = VacancyFactory(
        employer=employer_user.employer_account.employer,
        occupation_id="welder",
        wage_min=6500,
        wage_max=9000,
        start_date=timezone.localdate() + timedelta(days=20),
    )
    assert vacancy_candidates_compute(vacancy_id=vacancy.pk) == 1
    stored = Candidate.objects.get()
    body = client_for(employer_user).get(f"/api/v1/vacancies/{vacancy.pk}/candidates/").json()
    assert len(body) == 1
    candidate = body[0]
    assert (
        candidate["laborer"]["id_number"]
        == laborer.id_number[:6] + "********" + laborer.id_number[14:]
    )
    assert candidate["laborer"]["phone"] == laborer.phone[:3] + "****" + laborer.phone[7:]
    # Household status (the policy-priority part) never reaches the employer.
    assert "priority" not in candidate["explanation"]["parts"]
    assert candidate["score"] == stored.score - 10
    assert sum(candidate["explanation"]["parts"].values()) == candidate["score"]
    assert AccessLog.objects.count() == 0


def test_candidates_of_another_employers_vacancy_are_hidden(client_for, employer_user):
    vacancy = VacancyFactory()
    assert (
        client_for(employer_user).get(f"/api/v1/vacancies/{vacancy.pk}/candidates/").status_code
        == 404
    )


def test_saving_a_laborer_computes_suggestions_on_commit(
    client_for, caseworker, django_capture_on_commit_callbacks
):
    start = timezone.localdate() + timedelta(days=20)
    vacancy = VacancyFactory(occupation_id="welder", wage_min=6500, wage_max=9000, start_date=start)
    payload = {
        "name": "韦小明",
        "id_number": "451081199003151239",
        "phone": "13812345678",
        "county": "451081",
        "township": "451081100",
        "skills": [{"occupation": "welder", "years": 3}],
        "min_monthly_wage": 5000,
        "available_from": (timezone.localdate() + timedelta(days=2)).isoformat(),
        "consent_to_share": True,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(caseworker).post("/api/v1/laborers/", payload, format="json")
    assert response.status_code == 201
    assert list(Suggestion.objects.values_list("laborer_id", "vacancy_id", "rank")) == [
        (response.json()["id"], vacancy.pk, 1)
    ]


def test_suggestions_leave_out_a_vacancy_the_laborer_declined(client_for, caseworker):
    laborer, good, related = _scene()
    MatchFactory(laborer=laborer, vacancy=good, status="declined")
    assert laborer_suggestions_compute(laborer_ids=[laborer.pk]) == 1
    body = client_for(caseworker).get(f"/api/v1/laborers/{laborer.pk}/suggestions/").json()
    assert [s["vacancy"] for s in body] == [related.pk]


POLICY_RULE_CASES = [
    ({"occupation": 1.5}, "integer", "weight occupation must be an integer"),
    ({"wage": -5, "occupation": 65}, "negative", "weight wage must be >= 0"),
    ({"occupation": 50}, "sum", "weights must sum to 100, got 110"),
    ({"occupation_base": 1.5}, "unit", "occupation_base must be within [0, 1]"),
    ({"years_full": 0}, "years_full", "years_full must be >= 1"),
    ({"wage_margin": 0.0}, "wage_margin", "wage_margin must be > 0"),
    ({"start_full_days": 70}, "start_days", "need 0 <= start_full_days < start_zero_days"),
    ({"k": 0}, "k", "k must be >= 1"),
    ({"speed": 3}, "unknown", "unknown policy keys: ['speed']"),
]


def test_every_policy_rule_of_the_core_has_a_translated_message() -> None:
    from django.utils import translation

    from matching.core.types import Policy, PolicyError
    from matching.services import policy as policy_services

    seen = set()
    for change, rule, english in POLICY_RULE_CASES:
        with pytest.raises(PolicyError) as caught:
            Policy.from_dict({**Policy().to_dict(), **change})
        assert (caught.value.rule, str(caught.value)) == (rule, english)
        assert policy_services._policy_message(caught.value) == english
        with translation.override("zh-hans"):
            chinese = policy_services._policy_message(caught.value)
        assert chinese != english
        seen.add(rule)
    assert seen == set(policy_services._RULES)


def test_a_refused_policy_is_explained_in_chinese(client_for, supervisor) -> None:
    policy_current()
    client = client_for(supervisor)
    client.credentials(HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = client.put(URL, {"weights": {"occupation": 50}}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "weights: 各项权重之和必须为 100，当前为 110",
        "extra": {"weights": ["各项权重之和必须为 100，当前为 110"]},
    }
    assert MatchingPolicy.objects.count() == 1
