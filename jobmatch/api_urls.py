"""Every API route under /api/v1/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from employers.apis import EmployerApi, VacancyApi
from jobmatch.apis import AccessLogApi, CountyApi, DestinationApi, OccupationApi, TokenApi
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

urlpatterns = [
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("", include(router.urls)),
]
