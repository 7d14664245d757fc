"""Reference data shipped with the project (`seeds/reference/*.json`, sources inside).

`load_reference` upserts it; data migrations call it with the historical `apps`, so every
database (SQLite, PostgreSQL, test) has the same vocabulary.
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


@cache
def read(name: str) -> dict[str, Any]:
    with (REFERENCE_DIR / f"{name}.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def load_reference(apps: Any) -> None:
    County = apps.get_model("jobmatch", "County")
    LegacyCountyCode = apps.get_model("jobmatch", "LegacyCountyCode")
    Township = apps.get_model("jobmatch", "Township")
    Destination = apps.get_model("jobmatch", "Destination")
    MinimumWage = apps.get_model("jobmatch", "MinimumWage")
    Occupation = apps.get_model("jobmatch", "Occupation")

    for c in read("regions")["counties"]:
        county, _ = County.objects.update_or_create(
            code=c["code"],
            defaults={
                "name": c["name"],
                "pinyin": c["pinyin"],
                "kind": c["kind"],
                "seat": c["seat"],
                "lat": c["lat"],
                "lng": c["lng"],
                "est_road_km_to_shenzhen": c["est_road_km_to_shenzhen"],
                "est_coach_hours_to_shenzhen": c["est_coach_hours_to_shenzhen"],
            },
        )
        for legacy in c["legacy_codes"]:
            LegacyCountyCode.objects.update_or_create(
                code=legacy["code"],
                defaults={
                    "county": county,
                    "name": legacy["name"],
                    "valid_from": legacy["from"],
                    "valid_to": legacy["to"],
                },
            )
        for t in c["townships"]:
            own = t["lat"] is not None and t["lng"] is not None
            Township.objects.update_or_create(
                code=t["code"],
                defaults={
                    "name": t["name"],
                    "pinyin": t["pinyin"],
                    "county": county,
                    "lat": t["lat"] if own else c["lat"],
                    "lng": t["lng"] if own else c["lng"],
                    "coords_from_seat": not own,
                    "is_seat": t["is_seat"],
                },
            )

    # Parents first: cities, then districts and towns, then streets.
    order = {"city": 0, "district": 1, "town": 1, "street": 2}
    for d in sorted(read("destinations")["destinations"], key=lambda d: order[d["kind"]]):
        parent = Destination.objects.get(code=d["parent"]) if d["parent"] else None
        city_code = d["code"] if parent is None else (parent.city_id or parent.code)
        Destination.objects.update_or_create(
            code=d["code"],
            defaults={
                "name": d["name"],
                "pinyin": d["pinyin"],
                "kind": d["kind"],
                "parent": parent,
                "city_id": city_code,
                "lat": d["lat"],
                "lng": d["lng"],
            },
        )

    for w in read("minimum_wages")["minimum_wages"]:
        MinimumWage.objects.update_or_create(
            city_id=w["city"],
            effective_from=date.fromisoformat(w["from"]),
            defaults={"monthly": w["monthly"], "hourly": w["hourly"], "source": w["source"][:300]},
        )

    occupations = read("occupations")["occupations"]
    for o in occupations:
        Occupation.objects.update_or_create(
            key=o["key"],
            defaults={
                "name_zh": o["name_zh"],
                "name_en": o["name_en"],
                "classification_code": o["classification_code"],
                "classification_note": o["classification_note"][:120],
                "code_confidence": o["code_confidence"],
                "wage_low": o["wage_shenzhen"][0],
                "wage_high": o["wage_shenzhen"][1],
            },
        )
    for o in occupations:
        Occupation.objects.get(key=o["key"]).related.set(o["related"])
