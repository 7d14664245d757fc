from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from workers.web import laborer_register

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("jobmatch.api_urls")),
    path("api/auth/", include("rest_framework.urls", namespace="rest_framework")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # The caseworkers' web form (session login, the same rules as the API).
    path("register/", laborer_register, name="laborer-register"),
]

handler400 = "jobmatch.api.errors.handler400"
handler403 = "jobmatch.api.errors.handler403"
handler404 = "jobmatch.api.errors.handler404"
handler500 = "jobmatch.api.errors.handler500"
