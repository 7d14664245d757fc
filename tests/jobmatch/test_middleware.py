import pytest
from django.test import override_settings

from workers.models import Laborer

pytestmark = pytest.mark.django_db


@override_settings(IMPORT_MAX_BYTES=1000, DATA_UPLOAD_MAX_MEMORY_SIZE=500)
def test_oversized_api_request_is_413_before_the_body_is_read(client, caseworker):
    # A browser session (CSRF reads the body) gets the same 413 as a token client.
    client.force_login(caseworker)
    body = b"x" * (1000 + 16 * 1024 + 1)
    response = client.generic(
        "POST", "/api/v1/laborers/import/", body, content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code == 413
    assert response.json() == {
        "message": "The request is too large: at most 17384 bytes are accepted.",
        "extra": {"max_bytes": 17384},
    }
    assert Laborer.objects.count() == 0


@override_settings(IMPORT_MAX_BYTES=1000, DATA_UPLOAD_MAX_MEMORY_SIZE=500)
def test_requests_outside_the_api_are_left_alone(client):
    response = client.generic("POST", "/admin/login/", b"x" * 20_000, content_type="text/plain")
    assert response.status_code != 413
