"""Scores, hard rules, explanations and bulk candidate generation."""

from __future__ import annotations

import numpy as np
import pytest

from matching.core import scoring
from matching.core.synthetic import day_number, make_instance
from matching.core.types import (
    FLAG_MONITORED_HOUSEHOLD,
    PART_NAMES,
    UNKNOWN_BIRTH_DAY,
    CandidatePairs,
    LaborerArrays,
    Policy,
    VacancyArrays,
    Vocabulary,
)

from .conftest import BIRTH_30, TODAY, make_laborers, make_vacancies, make_vocab


def all_pairs(lab: LaborerArrays, vac: VacancyArrays) -> tuple[np.ndarray, np.ndarray]:
    li, vj = np.meshgrid(np.arange(len(lab)), np.arange(len(vac)), indexing="ij")
    return li.ravel(), vj.ravel()


def brute_top_k(
    lab: LaborerArrays,
    vac: VacancyArrays,
    vocab: Vocabulary,
    policy: Policy,
    k: int,
    price: np.ndarray | None = None,
) -> CandidatePairs:
    """Best k feasible vacancies per laborer from the pair functions (reference), by
    score - price[vacancy] when prices are given."""
    li, vj = all_pairs(lab, vac)
    ok = scoring.hard_mask(lab, vac, vocab, policy, li, vj)
    li, vj = li[ok], vj[ok]
    sc = scoring.score_parts(lab, vac, vocab, policy, li, vj)["score"].astype(np.int64)
    value = sc if price is None else sc - price[vj]
    order = np.lexsort((vj, -value, li))
    li, vj, sc = li[order], vj[order], sc[order]
    keep = np.arange(li.shape[0]) - np.searchsorted(li, li) < k
    return CandidatePairs(li[keep], vj[keep], sc[keep])


@pytest.mark.parametrize("seed", range(4))
def test_parts_always_add_up_to_the_score(seed: int) -> None:
    inst = make_instance(400, 60, seed=seed)
    policy = Policy(occupation=35, wage=25, destination=13, start=12, amenities=7, priority=8)
    rng = np.random.default_rng(seed)
    li = rng.integers(0, 400, 5000)
    vj = rng.integers(0, 60, 5000)
    parts = scoring.score_parts(inst.lab, inst.vac, inst.vocab, policy, li, vj)
    total = sum(parts[name].astype(np.int64) for name in PART_NAMES)
    assert np.array_equal(total, parts["score"])
    assert parts["score"].min() >= 0 and parts["score"].max() <= 100
    for name, weight in policy.weights().items():
        assert parts[name].min() >= 0 and parts[name].max() <= weight


def test_full_score_for_a_perfect_pair(vocab: Vocabulary, policy: Policy) -> None:
    skills = np.array([[10, -1, -1]])
    lab = make_laborers(
        1,
        skill_years=skills,
        preferred=np.array([1], np.uint64),
        min_wage=np.array([4000]),
        flags=np.array([FLAG_MONITORED_HOUSEHOLD]),
        available_day=np.array([TODAY + 5]),
    )
    vac = make_vacancies(
        1, wage_min=np.array([6000]), wage_max=np.array([7000]), meals=np.array([True])
    )
    expl = scoring.explain(lab, vac, vocab, policy, 0, 0)
    assert expl["score"] == 100
    assert expl["parts"] == policy.weights()


def base_pair() -> tuple[LaborerArrays, VacancyArrays]:
    return make_laborers(1), make_vacancies(1)


RULE_BREAKERS = {
    "consent": ({"consent": np.array([False])}, {}),
    "occupation": ({"skill_years": np.array([[-1, -1, 4]])}, {}),
    "age": ({}, {"age_max": np.array([25])}),
    "on_time": ({"available_day": np.array([TODAY + 10])}, {}),
    "wage": ({"min_wage": np.array([6500])}, {}),
    "openings": ({}, {"openings": np.array([0])}),
}


@pytest.mark.parametrize("rule", list(RULE_BREAKERS))
def test_each_hard_rule_alone(rule: str, vocab: Vocabulary, policy: Policy) -> None:
    lab_cols, vac_cols = RULE_BREAKERS[rule]
    ok_lab, ok_vac = base_pair()
    assert scoring.hard_mask(ok_lab, ok_vac, vocab, policy, 0, 0).all()
    lab = make_laborers(1, **lab_cols)
    vac = make_vacancies(1, **vac_cols)
    fails = scoring.hard_failures(lab, vac, vocab, policy, 0, 0)
    assert [name for name, bad in fails.items() if bad[0]] == [rule]
    assert not scoring.hard_mask(lab, vac, vocab, policy, 0, 0)[0]
    assert len(scoring.generate_candidates(lab, vac, vocab, policy, k=3)) == 0
    expl = scoring.explain(lab, vac, vocab, policy, 0, 0)
    assert not expl["feasible"] and list(expl["failed_rules"]) == [rule]


def test_on_time_counts_travel_days(vocab: Vocabulary, policy: Policy) -> None:
    # Available 9 days before the start, one travel day: on time; a 2-day trip: on time
    # exactly at the limit; 3 days: late.
    lab = make_laborers(1, available_day=np.array([TODAY + 1]))
    vac = make_vacancies(1)
    for days, ok in ((1, True), (9, True), (10, False)):
        v = Vocabulary(vocab.related, vocab.within, np.full((2, 3), days, np.int16))
        assert bool(scoring.hard_mask(lab, vac, v, policy, 0, 0)[0]) is ok


def test_related_occupation_qualifies_and_scores_less(vocab: Vocabulary) -> None:
    policy = Policy()
    lab = make_laborers(2, skill_years=np.array([[5, -1, -1], [-1, 5, -1]]))
    vac = make_vacancies(1)
    parts = scoring.score_parts(lab, vac, vocab, policy, [0, 1], [0, 0])
    assert scoring.hard_mask(lab, vac, vocab, policy, [0, 1], [0, 0]).all()
    assert parts["occupation"].tolist() == [40, 20]  # full fit vs 0.5 x full
    no_related = Policy(related_factor=0.0)
    assert scoring.hard_mask(lab, vac, vocab, no_related, [0, 1], [0, 0]).tolist() == [
        True,
        False,
    ]


def test_experience_raises_occupation_points(vocab: Vocabulary, policy: Policy) -> None:
    skills = np.array([[0, -1, -1], [2, -1, -1], [5, -1, -1], [30, -1, -1]])
    lab = make_laborers(4, skill_years=skills)
    parts = scoring.score_parts(lab, make_vacancies(1), vocab, policy, np.arange(4), 0)
    # base 0.5 of 40 = 20, + 20 x years / 5 up to 5 years.
    assert parts["occupation"].tolist() == [20, 28, 40, 40]


def test_missing_data_is_never_a_match(vocab: Vocabulary, policy: Policy) -> None:
    no_skills = make_laborers(1, skill_years=np.full((1, 3), -1))
    vac = make_vacancies(3)
    assert not scoring.hard_mask(no_skills, vac, vocab, policy, 0, np.arange(3)).any()
    assert len(scoring.generate_candidates(no_skills, vac, vocab, policy, k=5)) == 0
    assert len(scoring.top_vacancies_for_laborer(no_skills, vac, vocab, policy)) == 0
    assert len(scoring.top_laborers_for_vacancy(no_skills, vac, vocab, policy, 0)) == 0
    unknown_birth = make_laborers(1, birth_day=np.array([UNKNOWN_BIRTH_DAY]))
    assert not scoring.hard_mask(unknown_birth, vac, vocab, policy, 0, 0)[0]
    assert len(scoring.generate_candidates(unknown_birth, vac, vocab, policy, k=5)) == 0


def test_unknown_minimum_wage_passes_and_earns_no_wage_points(
    vocab: Vocabulary, policy: Policy
) -> None:
    lab = make_laborers(2, min_wage=np.array([0, 3000]))
    vac = make_vacancies(1, wage_min=np.array([4000]), wage_max=np.array([4400]))
    assert scoring.hard_mask(lab, vac, vocab, policy, [0, 1], 0).all()
    parts = scoring.score_parts(lab, vac, vocab, policy, [0, 1], 0)
    # Mid 4200 is 40% above 3000 (> 30% margin): full points; unknown: 0.
    assert parts["wage"].tolist() == [0, 20]
    assert "unknown" in scoring.explain(lab, vac, vocab, policy, 0, 0)["reasons"]["wage"]


def test_wage_points_scale_with_the_margin(vocab: Vocabulary, policy: Policy) -> None:
    lab = make_laborers(1, min_wage=np.array([5000]))
    mids = np.array([5000, 5750, 6500, 9000])
    vac = make_vacancies(4, wage_min=mids - 100, wage_max=mids + 100)
    parts = scoring.score_parts(lab, vac, vocab, policy, 0, np.arange(4))
    assert parts["wage"].tolist() == [0, 10, 20, 20]


def test_destination_preference(vocab: Vocabulary, policy: Policy) -> None:
    # Bits: laborer 0 prefers 0 (covers 0 and 2), laborer 1 prefers 1, laborer 2 none.
    lab = make_laborers(3, preferred=np.array([1, 2, 0], dtype=np.uint64))
    vac = make_vacancies(3, destination=np.array([0, 1, 2]))
    li = np.repeat(np.arange(3), 3)
    vj = np.tile(np.arange(3), 3)
    pts = scoring.score_parts(lab, vac, vocab, policy, li, vj)["destination"].reshape(3, 3)
    assert pts.tolist() == [[15, 0, 15], [0, 15, 0], [8, 8, 8]]


def test_start_points_fall_linearly(vocab: Vocabulary, policy: Policy) -> None:
    # Earliest start = available + 1 travel day = TODAY + 1.
    lab = make_laborers(1)
    waits = np.array([0, 7, 33, 60, 80])
    vac = make_vacancies(5, start_day=TODAY + 1 + waits)
    pts = scoring.score_parts(lab, vac, vocab, policy, 0, np.arange(5))["start"]
    assert pts.tolist() == [10, 10, 5, 0, 0]


def test_priority_part(vocab: Vocabulary, policy: Policy) -> None:
    lab = make_laborers(4, flags=np.array([0, 1, 2, 4]))
    parts = scoring.score_parts(lab, make_vacancies(1), vocab, policy, np.arange(4), 0)
    assert parts["priority"].tolist() == [0, 10, 10, 10]
    expl = scoring.explain(lab, make_vacancies(1), vocab, policy, 2, 0)
    assert expl["parts"]["priority"] == 10
    assert "monitored household" in expl["reasons"]["priority"]


def test_explanation_content(vocab: Vocabulary, policy: Policy) -> None:
    lab = make_laborers(1, skill_years=np.array([[-1, 2, -1]]), min_wage=np.array([4000]))
    vac = make_vacancies(1, wage_min=np.array([4600]), wage_max=np.array([5400]))
    expl = scoring.explain(lab, vac, vocab, policy, 0, 0)
    assert expl["feasible"] and expl["failed_rules"] == {}
    assert sum(expl["parts"].values()) == expl["score"]
    assert set(expl["parts"]) == set(PART_NAMES) == set(expl["reasons"])
    assert "related occupation 1" in expl["reasons"]["occupation"]
    assert "+25%" in expl["reasons"]["wage"]
    assert "accommodation" in expl["reasons"]["amenities"]


def test_age_is_counted_in_whole_years_with_birthdays() -> None:
    birth = np.array([day_number("2000-02-29")] * 3 + [day_number("1990-06-15")] * 2)
    day = np.array(
        [
            day_number("2018-02-28"),
            day_number("2018-03-01"),
            day_number("2020-02-29"),
            day_number("2026-06-14"),
            day_number("2026-06-15"),
        ]
    )
    assert scoring.age_on(birth, day).tolist() == [17, 18, 20, 35, 36]


def test_birth_bounds_match_age_rule() -> None:
    rng = np.random.default_rng(3)
    start = day_number("2024-01-01") + rng.integers(0, 1500, 400)
    vac = make_vacancies(
        400,
        start_day=start,
        age_min=rng.integers(16, 30, 400),
        age_max=rng.integers(30, 66, 400),
    )
    lo, hi = scoring.birth_bounds(vac)
    births = np.concatenate(
        [
            rng.integers(day_number("1950-01-01"), day_number("2012-01-01"), 3000),
            [day_number("2000-02-29"), day_number("1996-02-29"), day_number("1980-03-01")],
        ]
    )
    b, j = np.meshgrid(births, np.arange(400), indexing="ij")
    age = scoring.age_on(b.ravel(), start[j.ravel()])
    by_age = (age >= vac.age_min[j.ravel()]) & (age <= vac.age_max[j.ravel()])
    by_bounds = (b.ravel() > lo[j.ravel()]) & (b.ravel() <= hi[j.ravel()])
    assert np.array_equal(by_age, by_bounds)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 4, 10])
def test_generate_candidates_equals_brute_force(seed: int, k: int) -> None:
    inst = make_instance(700, 90, seed=seed)
    policy = Policy()
    got = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy, k=k, workers=2)
    want = brute_top_k(inst.lab, inst.vac, inst.vocab, policy, k)
    assert np.array_equal(got.laborer, want.laborer)
    assert np.array_equal(got.vacancy, want.vacancy)
    assert np.array_equal(got.score, want.score)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 6])
def test_priced_candidates_equal_brute_force(seed: int, k: int) -> None:
    """The best k by score - price: prices from 0 to above any score, so that a cheap
    poor pair outranks a dear good one; the pairs keep their real scores."""
    inst = make_instance(700, 90, seed=seed)
    policy = Policy()
    price = np.random.default_rng(seed).integers(0, 130, len(inst.vac))
    price[::7] = 0
    got = scoring.generate_candidates(
        inst.lab, inst.vac, inst.vocab, policy, k=k, workers=2, price=price
    )
    want = brute_top_k(inst.lab, inst.vac, inst.vocab, policy, k, price)
    plain = brute_top_k(inst.lab, inst.vac, inst.vocab, policy, k)
    assert not np.array_equal(want.vacancy, plain.vacancy)  # the prices change the lists
    assert np.array_equal(got.laborer, want.laborer)
    assert np.array_equal(got.vacancy, want.vacancy)
    assert np.array_equal(got.score, want.score)
    # Restricted to some laborers and vacancies, as the no-stranding passes ask.
    rows, cols = np.arange(0, 700, 3), np.arange(0, 90, 2)
    part = scoring.generate_candidates(
        inst.lab, inst.vac, inst.vocab, policy, k=k, laborers=rows, vacancies=cols,
        price=price,
    )  # fmt: skip
    sub = brute_top_k(inst.lab.take(rows), inst.vac.take(cols), inst.vocab, policy, k, price[cols])
    assert np.array_equal(part.laborer, rows[sub.laborer])
    assert np.array_equal(part.vacancy, cols[sub.vacancy])
    assert np.array_equal(part.score, sub.score)


@pytest.mark.parametrize(
    ("price", "message"),
    [
        (np.full(3, 5), "price must hold one whole number >= 0 per vacancy"),
        (np.full(90, 2.5), "price must hold one whole number >= 0 per vacancy"),
        (np.full(90, -1), "price must hold one whole number >= 0 per vacancy"),
        (np.full(90, 1001), "price must be at most 1000"),
    ],
)
def test_priced_candidates_refuse_bad_prices(price: np.ndarray, message: str) -> None:
    inst = make_instance(50, 90, seed=0)
    with pytest.raises(ValueError) as err:
        scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, Policy(), k=2, price=price)
    assert str(err.value) == message


def test_bulk_scores_match_pair_scores_on_larger_blocks() -> None:
    # Enough vacancies per occupation for the pruned walk and the deep fallback.
    inst = make_instance(3000, 2600, seed=11)
    policy = Policy()
    got = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy, k=10)
    want = brute_top_k(inst.lab, inst.vac, inst.vocab, policy, 10)
    assert np.array_equal(got.vacancy, want.vacancy)
    assert np.array_equal(got.score, want.score)


def test_occupation_blocks_merge_to_the_full_result() -> None:
    inst = make_instance(800, 120, seed=5)
    policy = Policy()
    full = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy, k=6)
    parts = [
        scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy, k=6, occupations=[o])
        for o in range(len(inst.occupation_names))
    ]
    merged = scoring.merge_candidates(parts, 6)
    assert np.array_equal(merged.laborer, full.laborer)
    assert np.array_equal(merged.vacancy, full.vacancy)
    assert np.array_equal(merged.score, full.score)


def test_interactive_rankings_match_brute_force() -> None:
    inst = make_instance(600, 80, seed=2)
    policy = Policy()
    top = brute_top_k(inst.lab, inst.vac, inst.vocab, policy, 10)
    for i in range(0, 600, 37):
        r = scoring.top_vacancies_for_laborer(inst.lab, inst.vac, inst.vocab, policy, 10, i=i)
        sel = top.laborer == i
        assert r.index.tolist() == top.vacancy[sel].tolist()
        assert r.score.tolist() == top.score[sel].tolist()
    li, vj = all_pairs(inst.lab, inst.vac)
    ok = scoring.hard_mask(inst.lab, inst.vac, inst.vocab, policy, li, vj)
    sc = scoring.score_parts(inst.lab, inst.vac, inst.vocab, policy, li, vj)["score"]
    for j in range(0, 80, 9):
        sel = ok & (vj == j)
        order = np.lexsort((li[sel], -sc[sel].astype(np.int64)))[:50]
        r = scoring.top_laborers_for_vacancy(inst.lab, inst.vac, inst.vocab, policy, j, n=50)
        assert r.index.tolist() == li[sel][order].tolist()
        assert r.score.tolist() == sc[sel][order].tolist()


def test_new_laborer_one_row_suggestions(vocab: Vocabulary, policy: Policy) -> None:
    one = make_laborers(1, birth_day=np.array([BIRTH_30]), min_wage=np.array([5000]))
    vac = make_vacancies(
        5,
        wage_max=np.array([6000, 7000, 8000, 3000, 9000]),
        wage_min=np.array([5000, 6000, 7000, 2000, 8000]),
    )
    r = scoring.top_vacancies_for_laborer(one, vac, vocab, policy, n=3)
    assert r.index.tolist() == [1, 2, 4]  # 3 fails the wage rule; ties -> lower index


def test_vocabulary_helper_builds_consistent_masks() -> None:
    assert make_vocab().cover_masks().dtype == np.uint64


def test_top_laborers_per_vacancy_equals_brute_force() -> None:
    inst = make_instance(900, 70, seed=8)
    policy = Policy()
    need = np.random.default_rng(1).integers(0, 6, 70)
    got = scoring.top_laborers_per_vacancy(inst.lab, inst.vac, inst.vocab, policy, need)
    li, vj = all_pairs(inst.lab, inst.vac)
    ok = scoring.hard_mask(inst.lab, inst.vac, inst.vocab, policy, li, vj)
    sc = scoring.score_parts(inst.lab, inst.vac, inst.vocab, policy, li, vj)["score"]
    li, vj, sc = li[ok], vj[ok], sc[ok].astype(np.int64)
    order = np.lexsort((li, -sc, vj))
    li, vj, sc = li[order], vj[order], sc[order]
    keep = np.arange(vj.shape[0]) - np.searchsorted(vj, vj) < need[vj]
    assert np.array_equal(got.vacancy, vj[keep])
    assert np.array_equal(got.laborer, li[keep])
    assert np.array_equal(got.score, sc[keep])


@pytest.mark.parametrize(("seed", "chunk"), [(3, None), (11, None), (29, 5)])
def test_top_laborers_per_vacancy_of_some_laborers_equals_brute_force(
    monkeypatch, seed: int, chunk: int | None
) -> None:
    # Deep lists (up to all feasible laborers) over a subset of rows, on two threads:
    # the threshold search must lower its threshold until each list is exact, also when
    # it scores the pairs a few at a time.
    if chunk is not None:
        monkeypatch.setattr(scoring, "_EVAL_PAIRS", chunk)
    inst = make_instance(1200, 60, seed=seed)
    policy = Policy()
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(rng.random(1200) < 0.6)
    need = rng.integers(0, 400, 60)
    got = scoring.top_laborers_per_vacancy(
        inst.lab, inst.vac, inst.vocab, policy, need, laborers=rows, workers=2
    )
    li, vj = all_pairs(inst.lab, inst.vac)
    ok = scoring.hard_mask(inst.lab, inst.vac, inst.vocab, policy, li, vj) & np.isin(li, rows)
    sc = scoring.score_parts(inst.lab, inst.vac, inst.vocab, policy, li, vj)["score"]
    li, vj, sc = li[ok], vj[ok], sc[ok].astype(np.int64)
    order = np.lexsort((li, -sc, vj))
    li, vj, sc = li[order], vj[order], sc[order]
    keep = np.arange(vj.shape[0]) - np.searchsorted(vj, vj) < need[vj]
    assert keep.sum() > 1000
    assert np.array_equal(got.vacancy, vj[keep])
    assert np.array_equal(got.laborer, li[keep])
    assert np.array_equal(got.score, sc[keep])


def test_reasons_count_in_words_and_name_what_they_are_given() -> None:
    skills = np.array([[1, -1, -1]], dtype=np.int8)
    lab = make_laborers(1, skill_years=skills, available_day=np.array([TODAY + 8]))
    vac = make_vacancies(1)  # starts TODAY + 10; travel takes 1 day
    labels = scoring.Labels(occupations=["普工", "焊工", "厨师"], destinations=["深圳市", "", ""])
    reasons = scoring.explain(lab, vac, make_vocab(), Policy(), 0, 0, labels)["reasons"]
    assert reasons["occupation"] == "has 普工 with 1 year of experience"
    assert reasons["destination"] == "深圳市; no preference given"
    assert reasons["start"].startswith("can start 2026-03-11 (1 travel day); vacancy starts")
    assert reasons["start"].endswith(", 1 day later")


def test_generate_candidates_in_small_row_chunks_equals_brute_force(monkeypatch) -> None:
    # A block's rows are walked 16,384 at a time: small chunks cover the chunk edges here.
    walk = scoring._BlockEvaluator.top_per_row
    monkeypatch.setattr(
        scoring._BlockEvaluator, "top_per_row", lambda self, k: walk(self, k, chunk_rows=37)
    )
    inst = make_instance(900, 120, seed=4)
    policy = Policy()
    got = scoring.generate_candidates(inst.lab, inst.vac, inst.vocab, policy, k=5, workers=2)
    want = brute_top_k(inst.lab, inst.vac, inst.vocab, policy, 5)
    assert np.array_equal(got.laborer, want.laborer)
    assert np.array_equal(got.vacancy, want.vacancy)
    assert np.array_equal(got.score, want.score)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint64])
@pytest.mark.parametrize("spread", [1, 50, 1 << 20, 1 << 40])
def test_classes_are_those_of_numpy_unique(dtype: type, spread: int) -> None:
    # Small ranges go through a table, large ones through np.unique: the same either way.
    rng = np.random.default_rng(spread)
    for n in (0, 1, 2_000):
        x = rng.integers(0, min(spread, np.iinfo(dtype).max), n).astype(dtype)
        if np.issubdtype(dtype, np.signedinteger) and spread < 1 << 15:
            x = (x - spread // 2).astype(dtype)
        values, inverse = scoring._classes(x)
        want_values, want_inverse = np.unique(x, return_inverse=True)
        assert values.dtype == want_values.dtype
        assert np.array_equal(values, want_values)
        assert np.array_equal(inverse, want_inverse.reshape(-1))
    # Unsigned values above int64's maximum, in a small range.
    if dtype is np.uint64:
        x = np.array([2**64 - 1, 2**64 - 3, 2**64 - 1], dtype=np.uint64)
        values, inverse = scoring._classes(x)
        assert values.dtype == np.uint64
        assert values.tolist() == [2**64 - 3, 2**64 - 1]
        assert inverse.tolist() == [1, 0, 1]
    # A small range whose offsets overflow the type itself (x - min > int16's maximum).
    if dtype is np.int16:
        x = np.array([-30_000, 30_000, -30_000, 0], dtype=np.int16)
        values, inverse = scoring._classes(x)
        assert values.tolist() == [-30_000, 0, 30_000]
        assert inverse.tolist() == [0, 2, 0, 1]


def test_order_by_is_numpy_lexsort() -> None:
    rng = np.random.default_rng(3)
    for n in (0, 1, 5_000):
        keys = [rng.integers(-3, 5, n), rng.integers(0, 1 << 20, n), rng.permutation(n)]
        assert np.array_equal(scoring._order_by(*keys), np.lexsort(keys[::-1]))
    # Unsigned 64-bit keys (which int64 offsets could not hold) go to np.lexsort.
    big = [np.array([2**64 - 1, 5, 2**63], dtype=np.uint64), np.array([0, 1, 2])]
    assert scoring._order_by(*big).tolist() == [1, 2, 0]
    # Ranges too wide to pack into one int64 fall back to np.lexsort.
    wide = [rng.integers(0, 1 << 40, 100), rng.integers(0, 1 << 40, 100), rng.permutation(100)]
    assert np.array_equal(scoring._order_by(*wide), np.lexsort(wide[::-1]))
