"""Shared vocabulary (read-only), token login and the personal-data access log."""

from __future__ import annotations

import django_filters
from django.contrib.auth import authenticate
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobmatch.api.permissions import roles
from jobmatch.auth import clear_login_failures, client_ip, login_throttled
from jobmatch.models import AccessLog, County, Destination, MinimumWage, Occupation, Role
from jobmatch.serializers import (
    AccessLogOutputSerializer,
    CountyOutputSerializer,
    DestinationOutputSerializer,
    OccupationOutputSerializer,
    TokenInputSerializer,
    TokenOutputSerializer,
)


class CountyApi(viewsets.ReadOnlyModelViewSet):
    """The 12 counties of Baise with their townships (coach pickup points)."""

    queryset = County.objects.prefetch_related("legacy_codes", "townships").order_by("code")
    serializer_class = CountyOutputSerializer
    filter_backends: list = []
    # Codes are digits: anything else is a 404 from the URL resolver, never a query (a NUL
    # byte in a text lookup is a database error on PostgreSQL).
    lookup_value_regex = r"\d{6}"


class DestinationApi(viewsets.ReadOnlyModelViewSet):
    """Places of work in Guangdong with the minimum wages of their city."""

    # A class-level queryset names the path parameter `code` in the schema (not `id`).
    queryset = Destination.objects.prefetch_related(
        Prefetch("city__minimum_wages", queryset=MinimumWage.objects.order_by("effective_from"))
    ).order_by("code")
    serializer_class = DestinationOutputSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d{6}|\d{9}"


class OccupationApi(viewsets.ReadOnlyModelViewSet):
    queryset = Occupation.objects.prefetch_related("related").order_by("key")
    serializer_class = OccupationOutputSerializer
    filter_backends: list = []
    lookup_value_regex = r"[a-z0-9_]{1,40}"


class TokenApi(APIView):
    """Exchange a username and password for an API token (failed logins are throttled)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        # Without it DRF turns the AuthenticationFailed of a wrong password into a 403.
        return "Token"

    @extend_schema(request=TokenInputSerializer, responses={200: TokenOutputSerializer})
    def post(self, request: Request) -> Response:
        from rest_framework.authtoken.models import Token

        serializer = TokenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["username"]
        if login_throttled(username, client_ip(request._request)):
            raise exceptions.Throttled(detail=_("Too many failed logins: try again later."))
        user = authenticate(
            request._request, username=username, password=serializer.validated_data["password"]
        )
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed(_("Wrong username or password."))
        clear_login_failures(username)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class AccessLogFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="at", lookup_expr="lt")

    class Meta:
        model = AccessLog
        fields = ["user", "since", "until"]


class AccessLogApi(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Who was shown full resident ID numbers or phones, when, where, of whom."""

    queryset = AccessLog.objects.select_related("user").order_by("-at", "-id")
    serializer_class = AccessLogOutputSerializer
    permission_classes = [roles(read={Role.SUPERVISOR, Role.ADMIN})]
    filterset_class = AccessLogFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend]
