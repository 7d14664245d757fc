"""An upper bound that prices households: the Lagrangian of the vacancies' openings.

The round's `upper_bound` is the relaxation without household rules. Keeping households
together costs 1.5 to 5% of it on the seed data at the optimum (`household_bound`
proves that on samples), so its gap says little about how far a round is from the best
household-keeping assignment of its candidate pairs. This bound keeps the household
rules and relaxes the openings instead: at prices p >= 0 per opening,

    L(p) = sum over vacancies of openings * p
         + sum over single laborers of max(0, best pair's score - p)
         + sum over households of max(0, best option), an option being one employer
           (`same_employer`) or one city (`same_city`) where every member has a pair,
           worth the sum of each member's best score there less its price.

Every household-keeping assignment over the pairs scores at most L(p), for any p >= 0
(each placed laborer's score is at most its price plus its share of the max terms).
Price adjustments from the relaxation's prices (`priced_bound`) lower L. Pure numpy, at
most a fixed number of steps: the same pairs in the same order give the same bound (ties
between pairs go to the first). The round computes it over its own candidate pairs up to
`assignment.PRICED_MAX_PAIRS`: a bound for assignments made of those pairs, not for
every assignment of the pool (`household_bound.household_optimum` prices every feasible
pair, on samples).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.core.types import CandidatePairs

# Price adjustments of the priced bound; each is one pass over the pairs. On a round of
# 100,000 laborers (1.1M pairs) 60 took 0.9 s and came within 0.08% of 480 (6.4 s).
PRICED_STEPS = 60
# Steps without a lower L before the step factor halves.
PRICED_PATIENCE = 3


@dataclass(frozen=True)
class PricedBound:
    """No household-keeping assignment over the pairs scores more than `bound`."""

    bound: int  # floor of the least L(p) met (plus 1e-4 for the float sums' rounding)
    steps: int
    prices: np.ndarray  # float64[V], where L(p) was least
    seconds: float


def _starts(*keys: np.ndarray) -> np.ndarray:
    """Bool mask of the first element of each run of equal key tuples (sorted input)."""
    new = np.zeros(keys[0].shape[0], dtype=bool)
    new[:1] = True
    for k in keys:
        new[1:] |= k[1:] != k[:-1]
    return new


def _first_per_group(mask: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Positions of the first True of each group (`group` sorted)."""
    hit = np.flatnonzero(mask)
    if hit.shape[0]:
        g = group[hit]
        hit = hit[_starts(g)]
    return hit


class _Layout:
    """The pairs grouped once, for evaluating L at many prices."""

    def __init__(
        self,
        singles: CandidatePairs,
        members: CandidatePairs,
        member_option: np.ndarray,
        household: np.ndarray,
        size: np.ndarray,
    ) -> None:
        # Singles: grouped by laborer.
        o = np.argsort(singles.laborer, kind="stable")
        s_lab = singles.laborer[o]
        self.s_vac = singles.vacancy[o]
        self.s_sc = singles.score[o]
        new = _starts(s_lab) if s_lab.shape[0] else np.zeros(0, dtype=bool)
        self.s_seg = np.flatnonzero(new)
        self.s_id = (np.cumsum(new) - 1).astype(np.int32)
        del o, s_lab, new
        # Members: grouped by (household, option, member) = g1, then (household, option)
        # = g2, then household.
        m_lab = members.laborer.astype(np.int64)
        m_hid = household[m_lab].astype(np.int64)
        if (m_hid < 0).any():
            raise ValueError("members' pairs include a laborer in no household")
        m_key = np.asarray(member_option, dtype=np.int64)
        o = np.lexsort((m_lab, m_key, m_hid))
        m_lab, m_hid, m_key = m_lab[o], m_hid[o], m_key[o]
        self.m_vac = members.vacancy[o]
        self.m_sc = members.score[o]
        if m_lab.shape[0] == 0:
            self.g1 = np.zeros(0, dtype=np.int64)
            return
        new = _starts(m_hid, m_key, m_lab)
        self.g1 = np.flatnonzero(new)
        self.g1_id = np.cumsum(new) - 1
        g_hid, g_key = m_hid[self.g1], m_key[self.g1]
        new2 = _starts(g_hid, g_key)
        self.g2 = np.flatnonzero(new2)
        self.g2_of_g1 = np.cumsum(new2) - 1
        g2_hid = g_hid[self.g2]
        # An option counts only where every member has a pair in it.
        self.complete = np.diff(np.append(self.g2, self.g1.shape[0])) == size[g2_hid]
        new3 = _starts(g2_hid)
        self.h_seg = np.flatnonzero(new3)
        self.h_id = np.cumsum(new3) - 1

    def evaluate(self, price: np.ndarray, cap: np.ndarray) -> tuple[float, np.ndarray]:
        """L(price), and how many openings of each vacancy the max terms ask for."""
        n_vac = cap.shape[0]
        value = float((cap * price).sum())  # numpy's own sum: no BLAS, same on every run
        demand = np.zeros(n_vac, dtype=np.float64)
        if self.s_seg.shape[0]:
            r = self.s_sc - price[self.s_vac]  # float64
            best = np.maximum.reduceat(r, self.s_seg)
            value += float(best[best > 0].sum())
            b = best[self.s_id]
            take = _first_per_group((r == b) & (b > 0), self.s_id)
            demand += np.bincount(self.s_vac[take], minlength=n_vac)
        if self.g1.shape[0]:
            r = self.m_sc - price[self.m_vac]
            best = np.maximum.reduceat(r, self.g1)  # a member's best in an option
            worth = np.add.reduceat(best, self.g2)
            worth[~self.complete] = -np.inf
            top = np.maximum.reduceat(worth, self.h_seg)
            value += float(top[top > 0].sum())
            # Each household's first best option, if worth taking: its members ask for
            # the vacancy of their best pair there.
            first = _first_per_group((worth == top[self.h_id]) & (top[self.h_id] > 0), self.h_id)
            chosen = np.zeros(worth.shape[0], dtype=bool)
            chosen[first] = True
            g1 = self.g1_id
            take = _first_per_group((r == best[g1]) & chosen[self.g2_of_g1][g1], g1)
            demand += np.bincount(self.m_vac[take], minlength=n_vac)
        return value, demand


def priced_bound(
    singles: CandidatePairs,
    members: CandidatePairs,
    member_option: np.ndarray,
    household: np.ndarray,
    size: np.ndarray,
    cap: np.ndarray,
    *,
    start: np.ndarray | None = None,
    steps: int = PRICED_STEPS,
) -> PricedBound:
    """The least L(p) met in `steps` price adjustments from `start` (default p = 0;
    `assignment_prices` of the relaxation is a far better one).

    `singles` are the pairs of laborers in no household, `members` those of household
    members, `member_option[k]` the employer or city of members' pair k, as its
    household's rule says; `household[i]` laborer i's household (-1: none); `size[h]`
    the members of household h (every member, with pairs or not: a member without
    pairs leaves its household no option); `cap[j]` the openings of vacancy j.

    Each step is a subgradient step scaled per vacancy: a price rises where the max
    terms ask for more openings than there are and falls where they ask for fewer, by
    the excess over the openings (times a factor that halves, from the best prices so
    far, after PRICED_PATIENCE steps without a lower L). On the samples this reached in
    60 steps what plain subgradient steps (Polyak's length, the same for every vacancy)
    reached in 150.
    """
    if steps < 1:
        raise ValueError("steps must be >= 1")
    started = time.perf_counter()
    cap = np.maximum(np.asarray(cap), 0).astype(np.float64)
    layout = _Layout(singles, members, member_option, np.asarray(household), np.asarray(size))
    price = np.zeros(cap.shape[0]) if start is None else np.maximum(np.asarray(start, float), 0.0)
    best, best_price = np.inf, price
    factor, stall, done = 1.0, 0, 0
    while done < steps:
        done += 1
        value, demand = layout.evaluate(price, cap)
        if value < best - 1e-9:
            best, best_price, stall = value, price, 0
        else:
            stall += 1
            if stall >= PRICED_PATIENCE:  # overshooting: smaller steps, from the best
                factor, stall, price = factor / 2, 0, best_price
                continue
        excess = demand - cap
        if not np.any(excess[price > 0]) and not np.any(excess > 0):
            break  # the asks fit the openings, exactly where priced: L is optimal
        price = np.maximum(0.0, price + factor * excess / np.maximum(cap, 1.0))
    return PricedBound(
        bound=int(np.floor(best + 1e-4)),
        steps=done,
        prices=best_price,
        seconds=time.perf_counter() - started,
    )


def assignment_prices(
    parts: Sequence[CandidatePairs], cap: np.ndarray, vacancy_of: np.ndarray
) -> np.ndarray:
    """Start prices for `priced_bound` from an assignment over the pairs of `parts`
    (households ignored; the round's relaxation).

    A vacancy with openings left costs 0. A full one costs the most any other laborer
    with a pair there would gain by taking one of its openings: its pair's score, less
    the score it has now (0 if unplaced). That is one Bellman-Ford pass towards the
    flow's dual prices; more passes were worse starts on the samples, because the
    round's relaxation (pruned flows) is not an optimal assignment of the score alone.
    """
    n_vac = cap.shape[0]
    cur = np.asarray(vacancy_of).astype(np.int64)
    cur_sc = np.zeros(cur.shape[0], dtype=np.float64)
    full = np.bincount(cur[cur >= 0], minlength=n_vac) >= np.maximum(cap, 0)
    away = []
    for p in parts:
        here = cur[p.laborer] == p.vacancy
        cur_sc[p.laborer[here]] = p.score[here]
        sel = ~here & full[p.vacancy]
        away.append((p.laborer[sel], p.vacancy[sel], p.score[sel]))
    price = np.zeros(n_vac, dtype=np.float64)
    for a_lab, a_vac, a_sc in away:
        np.maximum.at(price, a_vac, a_sc - cur_sc[a_lab])
    return price
