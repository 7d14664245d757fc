"""Transactions whose row locks wait briefly, for requests.

A matching round's write holds the proposals it replaces for up to a minute at Baise
scale (`matching.services.rounds.EarlyWrite`). A request that waits for such a row
would hang for that long, and then past the server's timeout. It should rather answer
at once that the row is busy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction
from psycopg.errors import LockNotAvailable

from jobmatch.api.errors import Conflict


@contextmanager
def atomic_waiting_briefly(wait_ms: int, busy: str) -> Iterator[None]:
    """`transaction.atomic()` in which a row lock waits at most `wait_ms` milliseconds
    (PostgreSQL's `lock_timeout`, for this transaction only), then gives up with
    `Conflict(busy)`; whatever the block wrote is rolled back. Other databases wait as
    they do (SQLite locks the whole database for each write anyway)."""
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT set_config('lock_timeout', %s, true)", [f"{int(wait_ms)}ms"]
                    )
            yield
    except OperationalError as exc:
        if isinstance(exc.__cause__, LockNotAvailable):
            raise Conflict(busy) from exc
        raise
