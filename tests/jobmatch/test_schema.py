"""The OpenAPI schema generates without warnings, documents the errors, and is served offline."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.test import APIClient

from jobmatch.models import User

# Every test here touches the database: marked statically so pytest-django runs them
# before the transactional tests that flush it (fixtures asked for by name are invisible).
pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], APIClient]
ERROR_REF = {"$ref": "#/components/schemas/Error"}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The schema, generated and validated once, with the generator's warnings and errors."""
    target: Path = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    GENERATOR_STATS.reset()
    call_command("spectacular", "--validate", "--file", str(target))
    return {
        "schema": yaml.safe_load(target.read_text(encoding="utf-8")),
        "warnings": sorted(GENERATOR_STATS._warn_cache),
        "errors": sorted(GENERATOR_STATS._error_cache),
    }


@pytest.fixture
def schema(generated: dict[str, Any]) -> dict[str, Any]:
    return generated["schema"]


def test_the_schema_generates_without_warnings_or_errors(generated: dict[str, Any]) -> None:
    # What `manage.py spectacular --validate --fail-on-warn` checks; listed here on failure.
    assert generated["errors"] == []
    assert generated["warnings"] == []


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]


def test_every_endpoint_is_in_the_schema(schema: dict[str, Any]) -> None:
    assert {
        "/api/v1/auth/token/",
        "/api/v1/access-log/",
        "/api/v1/counties/",
        "/api/v1/counties/{code}/",
        "/api/v1/destinations/",
        "/api/v1/destinations/{code}/",
        "/api/v1/occupations/",
        "/api/v1/occupations/{key}/",
        "/api/v1/laborers/",
        "/api/v1/laborers/{id}/",
        "/api/v1/households/",
        "/api/v1/households/{id}/",
        "/api/v1/employers/",
        "/api/v1/employers/{id}/",
        "/api/v1/vacancies/",
        "/api/v1/vacancies/{id}/",
    } <= set(schema["paths"])
    assert schema["info"]["title"] == "Jobmatch API"


def test_the_error_shape_is_a_component(schema: dict[str, Any]) -> None:
    error = schema["components"]["schemas"]["Error"]

    assert error["type"] == "object"
    assert set(error["properties"]) == {"message", "extra"}
    assert error["properties"]["message"]["type"] == "string"
    assert error["properties"]["extra"]["type"] == "object"
    assert sorted(error["required"]) == ["extra", "message"]


def test_every_operation_documents_its_errors(schema: dict[str, Any]) -> None:
    missing = []
    for path, method, op in operations(schema):
        expected = {"401", "403", "405", "429"}
        if method in {"post", "put", "patch"}:
            expected |= {"400", "415", "409"}
        if method == "delete":
            expected.add("409")
        if "{" in path or method == "get":
            expected.add("404")
        if method == "get":
            expected.add("400")
        for code in sorted(expected):
            response = op["responses"].get(code)
            if response is None or response["content"]["application/json"]["schema"] != ERROR_REF:
                missing.append((method.upper(), path, code))
    assert missing == []


def test_success_responses_are_not_errors(schema: dict[str, Any]) -> None:
    laborers = schema["paths"]["/api/v1/laborers/"]
    created = laborers["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created == {"$ref": "#/components/schemas/LaborerOutput"}
    request = laborers["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert request == {"$ref": "#/components/schemas/LaborerInputRequest"}
    assert "204" in schema["paths"]["/api/v1/laborers/{id}/"]["delete"]["responses"]


def test_path_parameters_are_typed(schema: dict[str, Any]) -> None:
    def parameter(path: str, name: str) -> dict[str, Any]:
        op = schema["paths"][path]["get"]
        return next(p for p in op["parameters"] if p["in"] == "path" and p["name"] == name)

    for path in ("laborers", "households", "employers", "vacancies"):
        assert parameter(f"/api/v1/{path}/{{id}}/", "id")["schema"]["type"] == "integer"
    assert parameter("/api/v1/counties/{code}/", "code")["schema"]["type"] == "string"
    assert parameter("/api/v1/destinations/{code}/", "code")["schema"]["type"] == "string"


def test_filters_and_pagination_are_documented(schema: dict[str, Any]) -> None:
    def query(path: str) -> set[str]:
        op = schema["paths"][path]["get"]
        return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}

    assert {"county", "township", "status", "occupation", "household", "search"} <= query(
        "/api/v1/laborers/"
    )
    assert {"limit", "offset"} <= query("/api/v1/laborers/")
    assert {"employer", "occupation", "destination", "status", "start_from", "start_to"} <= query(
        "/api/v1/vacancies/"
    )
    assert {"user", "since", "until"} <= query("/api/v1/access-log/")


def test_input_components_refuse_gender_and_keep_openings_left_read_only(
    schema: dict[str, Any],
) -> None:
    components = schema["components"]["schemas"]
    vacancy_in = components["VacancyInputRequest"]["properties"]

    assert "openings_left" not in vacancy_in
    assert not any("gender" in name or "sex" in name for name in vacancy_in)
    assert "openings_left" in components["VacancyOutput"]["properties"]


def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(schema)]

    assert len(ids) == len(set(ids))


def test_the_schema_is_served(db: None, client_for: ClientFor) -> None:
    response = client_for(None).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    body = json.loads(response.content)
    assert body["openapi"].startswith("3.")
    assert "/api/v1/laborers/" in body["paths"]


def test_swagger_ui_is_served_from_our_own_static_files(db: None, client_for: ClientFor) -> None:
    response = client_for(None).get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    for cdn in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
        assert cdn not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        assert finders.find(f"drf_spectacular_sidecar/swagger-ui-dist/{asset}") is not None
