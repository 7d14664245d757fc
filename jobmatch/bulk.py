"""Bulk writes: PostgreSQL COPY, batched INSERTs elsewhere (the SQLite of `make run`).

Used where rows come by the hundred thousand (proposed matches of a round, demo and
benchmark data): model instances and `bulk_create` cost seconds per 100,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, Protocol

import numpy as np
from django.core.management.color import no_style
from django.db import connection, models

INSERT_BATCH = 2_000
# Rows per write to COPY's stream in `CopyWriter.write_text`.
COPY_CHUNK = 10_000


class Writer(Protocol):
    method: str

    def reserve_ids(self, model: type[models.Model], count: int) -> np.ndarray: ...

    def write(
        self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int: ...

    def finish(self, written: Sequence[type[models.Model]]) -> None: ...


class CopyWriter:
    """PostgreSQL: ids from the table's sequence, rows through COPY FROM STDIN."""

    method = "PostgreSQL COPY"

    def __init__(self) -> None:
        connection.ensure_connection()
        self.pg = connection.connection  # the psycopg 3 connection, in Django's transaction

    def reserve_ids(self, model: type[models.Model], count: int) -> np.ndarray:
        if count == 0:
            return np.empty(0, dtype=np.int64)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            ids = np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64, count=count)
        ids.sort()
        return ids

    def write(
        self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
        written = 0
        with self.pg.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
        return written

    def write_text(
        self, model: type[models.Model], columns: Sequence[str], lines: Iterable[str]
    ) -> int:
        """Rows already in COPY's text format (tab-separated, escaped, each ending in a
        newline): for callers that can format whole columns at once, which costs a
        fraction of `write`'s per-row adaptation at hundreds of thousands of rows.

        `lines` is read COPY_CHUNK at a time: a generator is formatted while PostgreSQL
        stores the chunk before (its server process runs on the other core).
        """
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
        written = 0
        lines = iter(lines)
        with self.pg.cursor() as cursor, cursor.copy(sql) as copy:
            while chunk := list(islice(lines, COPY_CHUNK)):
                copy.write("".join(chunk))
                written += len(chunk)
        return written

    def finish(self, written: Sequence[type[models.Model]]) -> None:
        """Nothing to reset: every id came from nextval()."""


class InsertWriter:
    """Other databases: batched INSERTs with explicit ids.

    Not `bulk_create`: it would overwrite explicit timestamps of auto_now_add fields.
    """

    method = "batched INSERT"

    def reserve_ids(self, model: type[models.Model], count: int) -> np.ndarray:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT MAX(id) FROM {connection.ops.quote_name(table)}")
            last = cursor.fetchone()[0] or 0
            if connection.vendor == "sqlite":
                # AUTOINCREMENT never reuses the ids of deleted rows: neither do we.
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                row = cursor.fetchone()
                last = max(last, row[0] if row else 0)
        return np.arange(last + 1, last + 1 + count, dtype=np.int64)

    def write(
        self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> int:
        fields = [model._meta.get_field(c) for c in columns]
        convert = [
            (i, f)
            for i, f in enumerate(fields)
            if isinstance(f, models.DateField | models.BooleanField | models.JSONField)
        ]
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        written = 0
        with connection.cursor() as cursor:
            for batch in batches(rows, INSERT_BATCH):
                prepared = []
                for row in batch:
                    values = list(row)
                    for i, f in convert:
                        if isinstance(f, models.JSONField) and isinstance(values[i], str):
                            continue  # already serialised
                        values[i] = f.get_db_prep_save(values[i], connection)
                    prepared.append(values)
                cursor.executemany(sql, prepared)
                written += len(prepared)
        return written

    def finish(self, written: Sequence[type[models.Model]]) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), list(written))
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


def batches(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def writer_for_connection() -> Writer:
    return CopyWriter() if connection.vendor == "postgresql" else InsertWriter()
