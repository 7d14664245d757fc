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
Price adjustments from the relaxation's prices (`priced_bound`: steps towards each
vacancy's clearing price, then subgradient steps) lower L. Pure numpy, at most a fixed
number of steps: the same pairs in the same order give the same bound (ties between
pairs go to the first). The round computes it over its own candidate pairs (inside the
round up to `assignment.PRICED_MAX_PAIRS`, after it above): a bound for assignments made
of those pairs, not for every assignment of the pool (`household_bound.household_optimum`
prices every feasible pair, on samples).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matching.core.types import CandidatePairs

# Price adjustments of the priced bound, each one pass over the pairs: 60 took 1.3 s at
# 100,000 laborers (1.2M pairs) and 46 to 63 s at Baise scale (35M pairs, AMD EPYC).
PRICED_STEPS = 60
# Subgradient steps without a lower L before the step factor halves.
PRICED_PATIENCE = 3
# Clearing steps move each price this part of the way to its clearing price: all of the
# way, every vacancy at once, overshoots (each price assumes the others stay).
CLEARING_DAMPING = 0.5
# Clearing steps stop once L fell by no more than this share over that many steps.
CLEARING_MIN_DROP = 1e-5
CLEARING_PATIENCE = 3
# Bids are counted in price steps of a quarter point, up to the highest score (100).
BID_STEP = 0.25
BID_BINS = int(100 / BID_STEP) + 1


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
        self.m_g2 = self.g2_of_g1[self.g1_id]  # each pair's (household, option)
        new3 = _starts(g2_hid)
        self.h_seg = np.flatnonzero(new3)
        self.h_id = np.cumsum(new3) - 1

    def evaluate(self, price: np.ndarray, cap: np.ndarray) -> tuple[float, np.ndarray]:
        """L(price), and how many openings of each vacancy the max terms ask for."""
        n_vac = cap.shape[0]
        value = float((cap * price).sum())  # numpy's own sum: no BLAS, same on every run
        demand = np.zeros(n_vac, dtype=np.float64)
        if self.s_seg.shape[0]:
            r = _reduced(self.s_sc, price, self.s_vac)
            best = np.maximum.reduceat(r, self.s_seg)
            value += float(best[best > 0].sum())
            b = best[self.s_id]
            take = _first_per_group((r == b) & (b > 0), self.s_id)
            demand += np.bincount(self.s_vac[take], minlength=n_vac)
        if self.g1.shape[0]:
            r = _reduced(self.m_sc, price, self.m_vac)
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

    def clearing(self, price: np.ndarray, cap: np.ndarray) -> tuple[float, np.ndarray]:
        """L(price), and each vacancy's clearing price with the other prices held.

        A pair's bid is the price below which its laborer (a household: its best option)
        would rather take it than anything else at these prices: its score less the
        best the laborer (the household, with the other members' best places in the
        pair's option) gets elsewhere, or less the laborer's next pair in the option,
        whichever is more. With the others' prices held, a vacancy's price at its
        openings-th highest bid makes exactly as many laborers want it as it has
        openings: the vacancy's part of L is least there. Bids are counted in steps of
        BID_STEP (the price is rounded down to one) and only above 0: a vacancy with
        fewer positive bids than openings clears at 0.

        Where k members of one option have their best pair there at the same vacancy,
        each bids as if its price moved alone, while the household leaves k times as
        fast (at the price plus (worth - without) / k). Bidding that instead gave
        slightly looser bounds (0.128% against 0.115% at 100,000 laborers, and on a
        synthetic round): these are only steps towards low prices, and any p >= 0
        gives a valid bound.
        """
        n_vac = cap.shape[0]
        value = float((cap * price).sum())
        hist = np.zeros(n_vac * BID_BINS, dtype=np.int64)
        if self.s_seg.shape[0]:
            r = _reduced(self.s_sc, price, self.s_vac)
            best, second, first = _two_best(r, self.s_seg, self.s_id)
            del r  # at Baise scale each of these arrays is 250 MB: one at a time
            value += float(best[best > 0].sum())
            bid = np.maximum(best, 0.0)[self.s_id]  # what else the laborer gets
            bid[first] = np.maximum(second, 0.0)
            np.subtract(self.s_sc, bid, out=bid)
            _count_bids(hist, self.s_vac, bid)
            del bid
        if self.g1.shape[0]:
            r = _reduced(self.m_sc, price, self.m_vac)
            best, second, first = _two_best(r, self.g1, self.g1_id)  # per member and option
            worth = np.add.reduceat(best, self.g2)
            worth[~self.complete] = -np.inf
            top, next_top, top_first = _two_best(worth, self.h_seg, self.h_id)
            value += float(top[top > 0].sum())
            # What the household gets without each option: its best, or for its best
            # option the next one.
            without = np.maximum(top, 0.0)[self.h_id]
            without[top_first] = np.maximum(next_top, 0.0)
            g1, g2 = self.g1_id, self.m_g2
            rest = (worth[self.g2_of_g1] - best)[g1]  # the other members' part
            other = best[g1]  # the member's best in the option, or else its next
            other[first] = second
            bid = self.m_sc - np.maximum(other, without[g2] - rest)
            bid[~self.complete[g2]] = -1.0
            _count_bids(hist, self.m_vac, bid)
        # Highest bins first: the first bin where the bids counted reach the openings.
        counts = np.cumsum(hist.reshape(n_vac, BID_BINS)[:, ::-1], axis=1)
        enough = counts >= cap[:, None]
        level = (BID_BINS - 1) - np.argmax(enough, axis=1)
        return value, np.where(enough[:, -1], level * BID_STEP, 0.0)


def _two_best(
    r: np.ndarray, seg: np.ndarray, gid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group (`seg` its starts, `gid` each element's group): the largest value, the
    next largest (-inf for a group of one) and the position of the first largest."""
    best = np.maximum.reduceat(r, seg)
    first = _first_per_group(r == best[gid], gid)
    held = r[first]
    r[first] = -np.inf
    second = np.maximum.reduceat(r, seg)
    r[first] = held
    return best, second, first


def _count_bids(hist: np.ndarray, vac: np.ndarray, bid: np.ndarray) -> None:
    """Add the positive bids to `hist` (vacancy-major, BID_BINS bins of BID_STEP)."""
    pos = bid > 0
    key = vac[pos].astype(np.int64)
    key *= BID_BINS
    key += np.minimum((bid[pos] * (1.0 / BID_STEP)).astype(np.int64), BID_BINS - 1)
    hist += np.bincount(key, minlength=hist.shape[0])


def _reduced(score: np.ndarray, price: np.ndarray, vac: np.ndarray) -> np.ndarray:
    """score - price[vac] as float64, in one array (no temporary of the same size)."""
    r = price.take(vac)
    np.subtract(score, r, out=r)
    return r


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

    Steps first move every price halfway to its clearing price (`_Layout.clearing`),
    while that lowers L by more than CLEARING_MIN_DROP over CLEARING_PATIENCE steps.
    The steps left are subgradient steps scaled per vacancy: a price rises where the max
    terms ask for more openings than there are and falls where they ask for fewer, by
    the excess over the openings (times a factor that halves, from the best prices so
    far, after PRICED_PATIENCE steps without a lower L). On a full-scale round (35M
    pairs) 40 subgradient steps alone left L 3.6% above the round's total and 15
    clearing steps 2.2%; on 100,000 laborers 25 clearing steps went below what 60
    subgradient steps reached. Not always: on a synthetic round of 20,000 laborers
    (30% in households) the clearing steps stopped where no subgradient step lowered
    L, 0.09% above where the subgradient steps alone got (a kink of L: the asks at
    tied prices go to the first pair, so the excess points the wrong way).
    """
    if steps < 1:
        raise ValueError("steps must be >= 1")
    started = time.perf_counter()
    cap = np.maximum(np.asarray(cap), 0).astype(np.float64)
    layout = _Layout(singles, members, member_option, np.asarray(household), np.asarray(size))
    price = np.zeros(cap.shape[0]) if start is None else np.maximum(np.asarray(start, float), 0.0)
    best, best_price = np.inf, price
    done, trail = 0, []
    while done < steps:
        done += 1
        value, clear = layout.clearing(price, cap)
        if value < best - 1e-9:
            best, best_price = value, price
        trail.append(best)
        if len(trail) > CLEARING_PATIENCE and trail[-1 - CLEARING_PATIENCE] - best <= (
            CLEARING_MIN_DROP * abs(best)
        ):
            break
        price = price + CLEARING_DAMPING * (clear - price)
    price, factor, stall = best_price, 1.0, 0
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
