"""Every API route under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from employers.apis import EmployerApi, VacancyApi
from jobmatch.apis import AccessLogApi, CountyApi, DestinationApi, OccupationApi, TokenApi
from matching.apis import (
    LaborerSuggestionsApi,
    MatchApi,
    MatchingPolicyApi,
    MatchingRunApi,
    VacancyCandidatesApi,
)
from matching.progress_apis import CountyReportsApi, ProgressApi, ProgressTargetsApi
from matching.transfer_apis import TransferPlanApi, TripApi
from workers.apis import HouseholdApi, LaborerApi

router = SimpleRouter()
router.register("counties", CountyApi, basename="county")
router.register("destinations", DestinationApi, basename="destination")
router.register("occupations", OccupationApi, basename="occupation")
router.register("access-log", AccessLogApi, basename="access-log")
router.register("laborers", LaborerApi, basename="laborer")
router.register("households", HouseholdApi, basename="household")
router.register("employers", EmployerApi, basename="employer")
router.register("vacancies", VacancyApi, basename="vacancy")
router.register("matches", MatchApi, basename="match")
router.register("matching/runs", MatchingRunApi, basename="matching-run")
router.register("transfers/plans", TransferPlanApi, basename="transfer-plan")
router.register("transfers/trips", TripApi, basename="trip")

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("progress/", ProgressApi.as_view(), name="progress"),
    path("progress/targets/", ProgressTargetsApi.as_view(), name="progress-targets"),
    path("progress/reports/", CountyReportsApi.as_view(), name="progress-reports"),
    path("matching/policy/", MatchingPolicyApi.as_view(), name="matching-policy"),
    path(
        "laborers/<int:pk>/suggestions/",
        LaborerSuggestionsApi.as_view(),
        name="laborer-suggestions",
    ),
    path(
        "vacancies/<int:pk>/candidates/", VacancyCandidatesApi.as_view(), name="vacancy-candidates"
    ),
    path("", include(router.urls)),
]
