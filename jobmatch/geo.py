"""Travel estimates between Baise pickup points and Guangdong destinations.

One documented function family, used by matching (is the laborer there on time?) and by
transfer planning (when does each coach reach each stop?). The model is the reference
data's own (`../shared/reference/baise_reference.json`, `route.county_estimates_note`):

    road km      = great-circle km x 1.22  (calibrated so 右江区 -> 深圳 is about 950 km)
    driving h    = road km / 75 km/h       (coach average on expressways)
    coach hours  = driving h + 20 min per full 4 h of driving (mandatory break)
                   + 45 min meal stop when driving exceeds 6 h

It reproduces every county's `est_coach_hours_to_shenzhen` in the reference to 0.1 h.
Coaches may not run between 02:00 and 05:00: a schedule that would is stopped for that
time (`arrival_after`).
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

EARTH_RADIUS_KM = 6371.0088
ROAD_FACTOR = 1.22
COACH_KMH = 75.0
BREAK_EVERY_H = 4.0
BREAK_MINUTES = 20
MEAL_AFTER_H = 6.0
MEAL_MINUTES = 45
NIGHT_BAN_START_H = 2
NIGHT_BAN_END_H = 5
# Latest hour a coach may reach the factory the evening before work starts.
LATEST_ARRIVAL_H = 22
# Earliest usual departure from a county pickup point.
EARLIEST_DEPARTURE_H = 6


def great_circle_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def road_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return great_circle_km(lat1, lng1, lat2, lng2) * ROAD_FACTOR


def coach_hours_for_km(km: float) -> float:
    """Hours on board for `km` of road, breaks and the meal stop included."""
    driving = km / COACH_KMH
    breaks = math.floor(driving / BREAK_EVERY_H) * BREAK_MINUTES / 60
    meal = MEAL_MINUTES / 60 if driving > MEAL_AFTER_H else 0.0
    return driving + breaks + meal


def coach_hours(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return coach_hours_for_km(road_km(lat1, lng1, lat2, lng2))


def arrival_after(departure: datetime, hours: float) -> datetime:
    """Arrival time of a coach leaving at `departure` with `hours` of travel.

    A journey that would be on the road during 02:00-05:00 waits out the ban (the
    itinerary shows the stop), so the arrival moves later by the overlap.
    """
    remaining = timedelta(hours=hours)
    now = departure
    while remaining > timedelta(0):
        day = now.date()
        ban_start = datetime.combine(day, time(NIGHT_BAN_START_H), tzinfo=now.tzinfo)
        ban_end = datetime.combine(day, time(NIGHT_BAN_END_H), tzinfo=now.tzinfo)
        if ban_start <= now < ban_end:
            now = ban_end
            continue
        next_ban = ban_start if now < ban_start else ban_start + timedelta(days=1)
        leg = min(remaining, next_ban - now)
        now += leg
        remaining -= leg
    return now


def days_needed(hours: float, depart_hour: int = EARLIEST_DEPARTURE_H) -> int:
    """Whole days between the departure date and the first working day.

    A laborer who leaves on day D at `depart_hour` is ready to start on D + days_needed:
    the coach must arrive by 22:00 on the evening before the first working day.
    """
    departure = datetime(2000, 1, 1, depart_hour)
    arrival = arrival_after(departure, hours)
    days = (arrival.date() - departure.date()).days
    if arrival.time() > time(LATEST_ARRIVAL_H):
        days += 1
    return days + 1


def earliest_start(available_from: date, hours: float) -> date:
    return available_from + timedelta(days=days_needed(hours))
