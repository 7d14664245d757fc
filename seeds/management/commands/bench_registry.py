"""Registry benchmarks: a 10,000-row village sheet import, and laborer list latency.

    python manage.py bench_registry --import-rows 10000 --requests 300

Runs against the configured database (meant for PostgreSQL holding about 1,000,000
laborers: seed them first with `seed_demo --laborers 1000000`). The sheet is made from
freshly generated laborers that are exported and rolled back, then imported for real as a
caseworker of all 12 counties, through the same service the API calls.
"""

from __future__ import annotations

import io
import time
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from rest_framework.test import APIClient

from jobmatch.models import County, Role
from jobmatch.services import account_upsert
from seeds import demo
from seeds.bench import emit, machine, summary_ms
from workers import imports
from workers.models import Laborer


class Command(BaseCommand):
    help = "Benchmark the sheet import and the laborer list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--import-rows", type=int, default=10_000)
        parser.add_argument("--requests", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--json-out")

    def handle(self, *args: Any, **options: Any) -> None:
        counties = list(County.objects.order_by("code").values_list("code", flat=True))
        caseworker, _ = account_upsert(
            username="bench-caseworker",
            role=Role.CASEWORKER,
            password="bench-only",
            counties=counties,
        )
        supervisor, _ = account_upsert(
            username="bench-supervisor", role=Role.SUPERVISOR, password="bench-only"
        )
        result: dict[str, Any] = {
            "machine": machine(),
            "laborers_in_database": Laborer.objects.count(),
        }
        result["list"] = self._list_latency(supervisor, counties, options["requests"])
        result["import"] = self._import(caseworker, options["import_rows"], options["seed"])
        emit(result, options["json_out"])

    def _list_latency(self, user: Any, counties: list[str], requests: int) -> dict[str, Any]:
        """GET /api/v1/laborers/?county=... in-process (Django test client, no network)."""
        if connection.vendor == "postgresql":
            # A freshly bulk-loaded table has no visibility map yet, so index-only scans
            # (the page count) read the heap; autovacuum sets it soon after any bulk
            # insert in production. Measure the steady state, as the service runs.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) workers_laborer")
        client = APIClient()
        client.force_authenticate(user=user)
        for county in counties:  # warm the plan cache and the connection
            client.get("/api/v1/laborers/", {"county": county})
        timings = []
        for i in range(requests):
            county = counties[i % len(counties)]
            started = time.perf_counter()
            response = client.get(
                "/api/v1/laborers/", {"county": county, "offset": (i * 50) % 5000}
            )
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content[:200]
        return {
            "endpoint": "GET /api/v1/laborers/?county=C&offset=O (limit 50)",
            **summary_ms(timings),
        }

    def _import(self, caseworker: Any, rows: int, seed: int) -> dict[str, Any]:
        # A sheet of new laborers: generate, export, roll the generation back.
        with transaction.atomic():
            before = Laborer.objects.order_by("-id").values_list("id", flat=True).first() or 0
            demo.generate(laborers=rows, vacancies=0, openings=0, seed=seed, rebuild_indexes=False)
            content, _ = imports.export_xlsx(Laborer.objects.filter(id__gt=before).order_by("id"))
            transaction.set_rollback(True)
        upload = SimpleUploadedFile("village.xlsx", content)
        started = time.perf_counter()
        first = imports.laborer_import(actor=caseworker, upload=upload, dry_run=False)
        first_seconds = time.perf_counter() - started
        upload = SimpleUploadedFile("village.xlsx", io.BytesIO(content).getvalue())
        started = time.perf_counter()
        again = imports.laborer_import(actor=caseworker, upload=upload, dry_run=False)
        again_seconds = time.perf_counter() - started
        return {
            "rows": rows,
            "sheet_bytes": len(content),
            "first_import_seconds": round(first_seconds, 2),
            "first_import": {k: first[k] for k in ("created", "updated", "unchanged")}
            | {"rejected": len(first["rejected"])},
            "reimport_seconds": round(again_seconds, 2),
            "reimport": {k: again[k] for k in ("created", "updated", "unchanged")}
            | {"rejected": len(again["rejected"])},
        }
