"""Interval propagation of the attacker: cycles jumped give the bounds of visiting every row."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from allrwe.results.attack import propagate as propagate_module
from allrwe.results.attack.propagate import Row, propagate_rows
from allrwe.results.attack.system import MAX_COUNT


def _visit_every_row(rows: list[Row], n_vars: int, passes: int = 60) -> tuple[list, list]:
    """The rule of the module, visit by visit (no jump): the reference."""
    low, high = [0.0] * n_vars, [float(MAX_COUNT)] * n_vars
    by_var: dict[int, list[int]] = defaultdict(list)
    for i, (terms, _, _) in enumerate(rows):
        for j, _ in terms:
            by_var[j].append(i)
    queue = list(range(len(rows)))
    queued = set(queue)
    budget = passes * max(len(rows), 1)
    while queue and budget > 0:
        budget -= 1
        i = queue.pop()
        queued.discard(i)
        terms, row_low, row_high = rows[i]
        lows = [c * (low[j] if c > 0 else high[j]) for j, c in terms]
        highs = [c * (high[j] if c > 0 else low[j]) for j, c in terms]
        for (j, c), lo_j, hi_j in zip(terms, lows, highs, strict=True):
            a = row_low - (sum(highs) - hi_j)
            b = row_high - (sum(lows) - lo_j)
            new_low, new_high = (a / c, b / c) if c > 0 else (b / c, a / c)
            changed = False
            if new_low > low[j] + 1e-9 and math.isfinite(new_low):
                low[j] = max(low[j], math.ceil(new_low - 1e-6))
                changed = True
            if new_high < high[j] - 1e-9 and math.isfinite(new_high):
                high[j] = min(high[j], math.floor(new_high + 1e-6))
                changed = True
            if changed:
                for k in by_var[j]:
                    if k not in queued:
                        queue.append(k)
                        queued.add(k)
    return low, high


def _count_jumps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    jumps: list[int] = []
    original = propagate_module._jump_rounds

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        jumped = original(*args, **kwargs)
        if jumped:
            jumps.append(jumped)
        return jumped

    monkeypatch.setattr(propagate_module, "_jump_rounds", counting)
    return jumps


def test_contradicting_rows_give_the_bounds_of_every_visit(monkeypatch: pytest.MonkeyPatch):
    # x + y = 8 and x + y = 6 (a strata row and a margin row that disagree), beside rows that
    # settle: the bounds climb by 2 per round until the visits run out
    rows: list[Row] = [
        ([(2, 1.0), (3, -1.0)], 0.0, 0.0),
        ([(0, 1.0), (1, 1.0)], 6.0, 6.0),
        ([(3, 1.0)], 4.0, 9.0),
        ([(0, 1.0), (1, 1.0)], 8.0, 8.0),
    ]
    jumps = _count_jumps(monkeypatch)
    low, high = propagate_rows(rows, 4)
    ref_low, ref_high = _visit_every_row(rows, 4)
    assert low.tolist() == ref_low
    assert high.tolist() == ref_high
    assert low[0] > 50  # the bounds crossed and kept climbing
    assert high[0] < -50
    assert sum(jumps) > 150  # nearly all 240 visits were jumped


def _random_rows(seed: int) -> tuple[list[Row], int, int]:
    rng = np.random.default_rng(seed)
    n_vars = int(rng.integers(2, 7))
    rows: list[Row] = []
    for _ in range(int(rng.integers(2, 9))):
        size = int(rng.integers(1, min(n_vars, 4) + 1))
        columns = rng.choice(n_vars, size=size, replace=False).tolist()
        # mostly +1/-1 and integer bounds (cycles that jump), sometimes a rate or infinity
        coefs = [float(rng.choice([1.0, -1.0, 1.0, 0.37])) for _ in columns]
        low = float(rng.integers(-5, 12))
        high = low + float(rng.choice([0, 0, 1, 3]))
        if rng.random() < 0.15:
            high = math.inf
        rows.append((list(zip(columns, coefs, strict=True)), low, high))
    return rows, n_vars, int(rng.integers(3, 30))


def test_random_systems_match_visiting_every_row(monkeypatch: pytest.MonkeyPatch):
    jumps = _count_jumps(monkeypatch)
    jumped_in = 0
    for seed in range(400):
        rows, n_vars, passes = _random_rows(seed)
        before = len(jumps)
        low, high = propagate_rows(rows, n_vars, passes)
        ref_low, ref_high = _visit_every_row(rows, n_vars, passes)
        assert low.tolist() == [float(v) for v in ref_low], seed
        assert high.tolist() == [float(v) for v in ref_high], seed
        jumped_in += len(jumps) > before
    assert jumped_in >= 5  # the systems include cycles that are jumped


def _consistent_rows(seed: int, first: int) -> tuple[list[Row], int]:
    """Random rows that an integer point meets (as the published numbers meet the truth)."""
    rng = np.random.default_rng(seed)
    n_vars = int(rng.integers(2, 7))
    truth = rng.integers(0, 12, size=n_vars)
    rows: list[Row] = []
    for _ in range(int(rng.integers(2, 9))):
        size = int(rng.integers(1, min(n_vars, 4) + 1))
        columns = rng.choice(n_vars, size=size, replace=False).tolist()
        coefs = [float(rng.choice([1.0, -1.0, 1.0, 0.37])) for _ in columns]
        value = sum(c * float(truth[j]) for j, c in zip(columns, coefs, strict=True))
        low = value - float(rng.choice([0, 0, 1, 3]))
        high = math.inf if rng.random() < 0.15 else value + float(rng.choice([0, 0, 2]))
        terms = [(j + first, c) for j, c in zip(columns, coefs, strict=True)]
        rows.append((terms, low, high))
    return rows, n_vars


def _disjoint_rows(seed: int) -> tuple[list[Row], int, int]:
    """Two parts side by side, their rows interleaved, an empty row, a variable of none.

    Half the seeds take a random (mostly contradicting) system for the first part.
    """
    if seed % 2:
        first, n_first, _ = _random_rows(seed)
    else:
        first, n_first = _consistent_rows(seed, 0)
    second, n_second = _consistent_rows(seed + 1000, n_first)
    rows: list[Row] = [([], 0.0, 0.0)]
    for i in range(max(len(first), len(second))):
        rows += first[i : i + 1] + second[i : i + 1]
    return rows, n_first + n_second + 1, 20


def test_parts_propagated_alone_give_the_bounds_of_the_whole():
    settled = 0
    for seed in range(300):
        rows, n_vars, passes = _disjoint_rows(seed)
        ref_low, ref_high = _visit_every_row(rows, n_vars, passes)
        found = propagate_module.propagate_parts(rows, n_vars, passes, {})
        if found is None:
            continue  # a part that does not settle: the caller propagates the whole
        settled += 1
        assert found[0].tolist() == [float(v) for v in ref_low], seed
        assert found[1].tolist() == [float(v) for v in ref_high], seed
        assert found[1][-1] == MAX_COUNT  # the variable of no row keeps its start
    assert settled >= 150


def test_a_part_met_again_is_taken_from_the_cache(monkeypatch: pytest.MonkeyPatch):
    # x + y = 5, y = 2 settle at (3, 2); z + w = 4 with z >= 3 at z in [3, 4], w in [0, 1]
    rows: list[Row] = [
        ([(0, 1.0), (1, 1.0)], 5.0, 5.0),
        ([(2, 1.0), (3, 1.0)], 4.0, 4.0),
        ([(1, 1.0)], 2.0, 2.0),
        ([(2, 1.0)], 3.0, math.inf),
    ]
    runs: list[int] = []
    original = propagate_module._propagated

    def counting(part, n_vars, passes):  # type: ignore[no-untyped-def]
        runs.append(len(part))
        return original(part, n_vars, passes)

    monkeypatch.setattr(propagate_module, "_propagated", counting)
    cache: dict[bytes, object] = {}
    found = propagate_module.propagate_parts(rows, 4, 60, cache)
    assert found is not None
    assert found[0].tolist() == [3.0, 2.0, 3.0, 0.0]
    assert found[1].tolist() == [3.0, 2.0, 4.0, 1.0]
    assert runs == [2, 2]
    # the first part changed (x + y = 7: x = 5), the second met again
    rows[0] = ([(0, 1.0), (1, 1.0)], 7.0, 7.0)
    found = propagate_module.propagate_parts(rows, 4, 60, cache)
    assert found is not None
    assert found[0].tolist() == [5.0, 2.0, 3.0, 0.0]
    assert runs == [2, 2, 2]


def test_a_part_that_does_not_settle_gives_way_to_the_whole():
    rows: list[Row] = [([(0, 1.0), (1, 1.0)], 6.0, 6.0), ([(0, 1.0), (1, 1.0)], 8.0, 8.0)]
    assert propagate_module.propagate_parts(rows, 2, 60, {}) is None
