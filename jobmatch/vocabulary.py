"""In-process lookup tables of the reference vocabulary (codes rarely change).

Validation of every laborer row (API and sheets of 10,000 rows) checks codes against
these sets instead of querying per field. `clear()` drops them (tests, admin edits).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from jobmatch.models import County, Destination, LegacyCountyCode, Occupation, Township


@dataclass(frozen=True)
class Vocabulary:
    counties: dict[str, str]  # code -> name
    county_by_name: dict[str, str]  # name -> code
    legacy_county: dict[str, str]  # legacy code -> current code
    townships: dict[str, str]  # code -> county code
    township_by_name: dict[tuple[str, str], str]  # (county code, name) -> code
    destinations: dict[str, str]  # code -> city code
    destination_by_name: dict[str, str]
    occupations: frozenset[str]
    occupation_by_name: dict[str, str]  # Chinese or English name -> key


@cache
def get() -> Vocabulary:
    counties = dict(County.objects.values_list("code", "name"))
    townships = list(Township.objects.values_list("code", "county_id", "name"))
    destinations = list(Destination.objects.values_list("code", "city_id", "name"))
    occupations = list(Occupation.objects.values_list("key", "name_zh", "name_en"))
    by_name: dict[str, str] = {}
    for key, zh, en in occupations:
        by_name[zh] = key
        by_name[en.lower()] = key
        # "电子厂普工/装配" is also typed as its parts.
        for part in zh.split("/"):
            by_name.setdefault(part, key)
    return Vocabulary(
        counties=counties,
        county_by_name={name: code for code, name in counties.items()},
        legacy_county=dict(LegacyCountyCode.objects.values_list("code", "county_id")),
        townships={code: county for code, county, _ in townships},
        township_by_name={(county, name): code for code, county, name in townships},
        destinations={code: city for code, city, _ in destinations},
        destination_by_name={name: code for code, _, name in destinations},
        occupations=frozenset(key for key, _, _ in occupations),
        occupation_by_name=by_name,
    )


def clear() -> None:
    get.cache_clear()
