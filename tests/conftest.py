from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from jobmatch import vocabulary
from jobmatch.celery import app as celery_app
from jobmatch.models import Role, User
from tests.factories import EmployerAccountFactory, UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    cache.clear()
    vocabulary.clear()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Code run outside a request (services, tasks, the exception handler) speaks English, the
    language the assertions are written in. Deliberately not a test `LANGUAGE_CODE`: the
    product's default stays Chinese, a request still gets the language it asks for
    (`LocaleMiddleware`), and tests/jobmatch/test_messages.py checks the Chinese answers."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    """Tasks queued on commit run in the test itself, unless a test starts a real Celery
    worker (`celery_worker_session` turns this off for its tests)."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def client() -> Client:
    """pytest-django's `client`, asking for English messages as `client_for` does (without
    the header a request gets the default, Chinese)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An API client acting as `user` (anonymous for None), asking for English messages."""

    def make(user: User | None) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def caseworker(db: None) -> User:
    return UserFactory(username="caseworker", role=Role.CASEWORKER, counties=["451081"])


@pytest.fixture
def other_caseworker(db: None) -> User:
    return UserFactory(username="other-caseworker", role=Role.CASEWORKER, counties=["451002"])


@pytest.fixture
def coordinator(db: None) -> User:
    return UserFactory(username="coordinator", role=Role.COORDINATOR)


@pytest.fixture
def supervisor(db: None) -> User:
    return UserFactory(username="supervisor", role=Role.SUPERVISOR)


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def employer_user(db: None) -> User:
    return EmployerAccountFactory(user__username="employer").user
