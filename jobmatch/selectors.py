"""Reads of the shared vocabulary."""

from __future__ import annotations

from datetime import date

from jobmatch.models import Destination, MinimumWage


def minimum_wage_on(*, city: Destination | str, on: date) -> MinimumWage | None:
    """The minimum wage in force in a city on a date (None before the first known one)."""
    city_code = city if isinstance(city, str) else city.code
    return (
        MinimumWage.objects.filter(city_id=city_code, effective_from__lte=on)
        .order_by("-effective_from")
        .first()
    )
