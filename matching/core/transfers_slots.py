"""Departure times: stop order per coach and staggered first-pickup times per pickup point.

Internal to `matching.core.transfers`. After packing, every coach gets its stop order
(`transfers_timing.best_itinerary`) and then a first-pickup minute inside the departure
window such that, at every pickup point, coaches are at least `min_gap` minutes apart and
no more than `max_departures` call there that day.

Per (county, day) the coaches are placed one by one on a `step`-minute grid: locked trips
at their fixed time first, kept trips at their previous time when it still fits, then the
rest ordered by their latest feasible start (the coach closest to missing a deadline picks
first). Each takes the earliest time that fits and does not run into the 02:00-05:00 ban;
only when every fitting time would, it takes the earliest fitting one and the itinerary
shows the night stop. A coach that fits nowhere is handed back for repair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matching.core.transfers_packing import Coach, Context
from matching.core.transfers_timing import (
    Itinerary,
    best_itinerary,
    evaluate,
    latest_start,
    meets,
)


@dataclass(slots=True)
class Slot:
    """The schedule chosen for one coach."""

    coach: Coach
    itinerary: Itinerary


class DayBook:
    """Times at which coaches call at each pickup point of one county on one day."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.times: dict[int, list[int]] = {}

    def fits(self, itinerary: Itinerary) -> bool:
        n = itinerary.n_pickups
        return self.fits_times(itinerary.stops[:n], itinerary.etas[:n])

    def fits_times(self, points: Sequence[int], times: Sequence[int]) -> bool:
        """Whether calls at `points` at `times` respect the cap and the gap at each point."""
        for p, t in zip(points, times, strict=True):
            taken = self.times.get(p, [])
            if len(taken) >= self.ctx.max_departures:
                return False
            if any(abs(t - x) < self.ctx.min_gap for x in taken):
                return False
        return True

    def add(self, itinerary: Itinerary) -> None:
        for i in range(itinerary.n_pickups):
            self.times.setdefault(itinerary.stops[i], []).append(itinerary.etas[i])

    def remove(self, itinerary: Itinerary) -> None:
        for i in range(itinerary.n_pickups):
            self.times[itinerary.stops[i]].remove(itinerary.etas[i])


class Scheduler:
    """Holds the day books and chosen itineraries of a whole plan."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.books: dict[tuple[str, int], DayBook] = {}
        self.slots: dict[int, Slot] = {}  # coach uid -> slot
        self._prepared: dict[tuple, tuple] = {}

    def book(self, county: str, day: int) -> DayBook:
        key = (county, day)
        if key not in self.books:
            self.books[key] = DayBook(self.ctx)
        return self.books[key]

    def place_locked(self, coach: Coach) -> Slot:
        """A locked trip keeps its stops and time, whatever the rules say today."""
        assert coach.preferred_start is not None
        stops = coach.fixed_pickups + coach.fixed_dropoffs
        it = evaluate(
            self.ctx.model, stops, len(coach.fixed_pickups), coach.flows(), coach.preferred_start
        )
        self.book(coach.county, coach.day).add(it)
        slot = Slot(coach, it)
        self.slots[coach.uid] = slot
        return slot

    def _prepare(
        self, coach: Coach
    ) -> tuple[dict[tuple[int, int], int], dict[int, int], Itinerary | None, int | None]:
        """Flows, deadlines, best stop order at the window start and latest start (cached)."""
        ctx = self.ctx
        flows, deadlines = coach.flows(), coach.deadlines()
        key = (coach.uid, coach.day, tuple(sorted(flows.items())), tuple(sorted(deadlines.items())))
        hit = self._prepared.get(key)
        if hit is not None:
            return hit
        day0 = coach.day * 1440
        earliest, latest = day0 + ctx.window[0], day0 + ctx.window[1]
        base = best_itinerary(
            ctx.model,
            flows,
            deadlines,
            earliest,
            exact_max_orders=ctx.exact_max_orders,
            pyvrp_time_limit_s=ctx.solver_time_limit_s,
            seed=ctx.seed,
            counters=ctx.counters,
        )
        last: int | None = None
        if base is not None:
            offset = ctx.safe_offset.get((coach.county, coach.city))
            soonest = min(deadlines.values(), default=1 << 40)
            if offset is not None and soonest >= day0 + offset:
                last = latest - (latest - earliest) % ctx.step
            else:
                last = latest_start(ctx.model, base, flows, deadlines, earliest, latest, ctx.step)
        result = (flows, deadlines, base, last)
        self._prepared[key] = result
        return result

    def place(self, coach: Coach) -> Slot | None:
        """Choose order and first-pickup time for `coach`; None if no time fits."""
        ctx = self.ctx
        flows, deadlines, base, last = self._prepare(coach)
        if base is None or last is None:
            return None
        earliest = coach.day * 1440 + ctx.window[0]
        candidates = list(range(earliest, last + 1, ctx.step))
        if coach.preferred_start is not None and earliest <= coach.preferred_start <= last:
            candidates.insert(0, coach.preferred_start)
        book = self.book(coach.county, coach.day)
        n_p = base.n_pickups
        offsets = [base.etas[i] - base.etas[0] for i in range(n_p)]
        points = base.stops[:n_p]
        chosen: Itinerary | None = None
        for t0 in candidates:
            if not book.fits_times(points, [t0 + off for off in offsets]):
                continue
            it = evaluate(ctx.model, base.stops, n_p, flows, t0)
            if not meets(it, deadlines) or not book.fits(it):
                continue
            if not it.halts:
                chosen = it
                break
            if chosen is None:
                chosen = it  # the earliest fitting time, should every time hit the night ban
        if chosen is None:
            return None
        book.add(chosen)
        slot = Slot(coach, chosen)
        self.slots[coach.uid] = slot
        return slot

    def unplace(self, coach: Coach) -> None:
        slot = self.slots.pop(coach.uid, None)
        if slot is not None:
            self.book(coach.county, coach.day).remove(slot.itinerary)

    def latest_key(self, coach: Coach) -> tuple[int, int]:
        """Sort key: coaches with the least room before a deadline choose their time first."""
        _, _, base, last = self._prepare(coach)
        if base is None or last is None:
            return (coach.day * 1440, coach.uid)
        return (last, coach.uid)
