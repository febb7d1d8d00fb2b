"""Bounding a component's hidden counts: integer points found spare integer programmes."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from allrwe.results.attack import solve as solve_module
from allrwe.results.attack.solve import (
    _Component,
    _integral_zeros,
    _solve_batch,
    _solve_component,
)


def _component(rows: list[list[float]], low: list[float], high: list[float], ub: list[float]):
    a = sparse.csr_matrix(np.array(rows, dtype=float))
    n = a.shape[1]
    return _Component(
        a,
        np.array(low, dtype=float),
        np.array(high, dtype=float),
        np.arange(n),
        np.arange(len(rows)),
        np.zeros(n),
        np.array(ub, dtype=float),
    )


def test_a_rounded_point_that_meets_every_row_flags_its_zeros() -> None:
    comp = _component([[1.0, 1.0]], [3.0], [3.0], [3.0, 3.0])
    x = np.array([1e-8, 3.0 - 1e-8])
    args = (comp.a, comp.low, comp.high, comp.lb, comp.ub)
    assert _integral_zeros(*args, x).tolist() == [True, False]
    # (1.5, 1.5) rounds to (2, 2): 4 misses the row, so nothing is flagged
    assert _integral_zeros(*args, np.array([1.5, 1.5])).tolist() == [False, False]
    # a rounded point below a variable's bound is no point of the programme
    lb = np.array([1.0, 0.0])
    flagged = _integral_zeros(comp.a, comp.low, comp.high, lb, comp.ub, np.array([0.2, 2.8]))
    assert flagged.tolist() == [False, False]


def _odd_component() -> _Component:
    """``x - 2 y = -1``, ``y <= 1``: over the reals x may be 0 (y = 1/2), over the integers
    x = 2 y - 1 is odd, so 1 (y = 1) is its only value."""
    return _component([[1.0, -2.0]], [-1.0], [-1.0], [10.0, 1.0])


def _count_integer_programmes(monkeypatch) -> list[int]:
    calls: list[int] = []
    plain = solve_module.solve

    def counted(*args, **kwargs):
        if kwargs.get("integer") is not None:
            calls.append(1)
        return plain(*args, **kwargs)

    monkeypatch.setattr(solve_module, "solve", counted)
    return calls


def test_a_count_whose_real_minimum_is_no_integer_point_is_still_minimised(monkeypatch) -> None:
    calls = _count_integer_programmes(monkeypatch)
    found = _solve_component(_odd_component(), np.array([True, False]), 5)
    assert found == {0: (1, 1)}
    assert len(calls) == 1


def test_an_integer_point_at_zero_spares_the_integer_programme(monkeypatch) -> None:
    calls = _count_integer_programmes(monkeypatch)
    # x + y = 3 (each at most 3): below 5 but 0 at the integer points (0, 3) and (3, 0)
    comp = _component([[1.0, 1.0]], [3.0], [3.0], [3.0, 3.0])
    found = _solve_component(comp, np.array([True, True]), 5)
    assert found == {0: (0, 3), 1: (0, 3)}
    # x + y = 2 with y <= 1: x in [1, 2] pinned small; y in [0, 1], 0 at an integer point
    comp = _component([[1.0, 1.0]], [2.0], [2.0], [2.0, 1.0])
    found = _solve_component(comp, np.array([True, True]), 5)
    assert found == {0: (1, 2), 1: (0, 1)}
    assert calls == []


def test_blocks_of_a_batch_get_the_bounds_of_each_alone(monkeypatch) -> None:
    calls = _count_integer_programmes(monkeypatch)
    comps = [_odd_component(), _component([[1.0, 1.0]], [2.0], [2.0], [2.0, 1.0])]
    hiddens = [np.array([True, False]), np.array([True, True])]
    solved = _solve_batch(comps, hiddens, 5)
    assert solved == [{0: (1, 1)}, {0: (1, 2), 1: (0, 1)}]
    # only the odd block's count needs its integer programme
    assert len(calls) == 1
