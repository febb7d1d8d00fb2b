"""The direct HiGHS solve: the answers ``scipy.optimize.milp`` gives, also through its fallback."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from allrwe.results import highs


def _programme(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(2, 8), rng.integers(2, 10)
    a = rng.integers(-3, 4, size=(rows, cols)).astype(float)
    point = rng.integers(0, 6, size=cols).astype(float)  # a feasible point
    slack = rng.integers(0, 3, size=rows)
    low, high = a @ point - slack, a @ point + slack
    if seed % 5 == 0:  # an infeasible one: a row that no bounded point meets
        low[0], high[0] = 1e6, 1e6 + 1
    c = rng.normal(size=cols)
    return c, a, low, high, np.zeros(cols), np.full(cols, 10.0)


def _by_milp(c, a, low, high, lower, upper, integer=None):
    found = milp(
        c, constraints=LinearConstraint(a, low, high), bounds=Bounds(lower, upper),
        integrality=integer,
    )  # fmt: skip
    return int(found.status), (math.nan if found.fun is None else float(found.fun))


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("mip", [False, True])
def test_solve_finds_what_milp_finds(seed: int, mip: bool) -> None:
    c, a, low, high, lower, upper = _programme(seed)
    integer = np.ones(c.size) if mip else None
    expected = _by_milp(c, a, low, high, lower, upper, integer)
    found = highs.solve(c, a, low, high, lower, upper, integer=integer)
    assert found.status == expected[0]
    if expected[0] == 0:
        assert found.fun == pytest.approx(expected[1], abs=1e-7)
        assert found.x is not None
        assert np.all(a @ found.x >= low - 1e-7)
        assert np.all(a @ found.x <= high + 1e-7)
    else:
        assert found.x is None
        assert math.isnan(found.fun)


@pytest.mark.parametrize("seed", range(1, 40, 3))
def test_the_fallback_gives_the_same_answers(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    c, a, low, high, lower, upper = _programme(seed)
    direct = highs.solve(c, a, low, high, lower, upper)
    monkeypatch.setattr(highs, "_LOADED", False)
    fallback = highs.solve(c, a, low, high, lower, upper)
    assert fallback.status == direct.status
    if direct.status == 0:
        assert fallback.fun == pytest.approx(direct.fun, abs=1e-7)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 6, 7])
def test_a_session_warm_starts_to_the_same_optima(seed: int) -> None:
    _, a, low, high, lower, upper = _programme(seed)
    session = highs.Session(a, low, high, lower, upper)
    for j in range(a.shape[1]):  # each variable's lower and upper bound, as the attacker asks
        for sign in (1.0, -1.0):
            c = np.zeros(a.shape[1])
            c[j] = sign
            assert session.minimize(c).fun == pytest.approx(
                _by_milp(c, a, low, high, lower, upper)[1], abs=1e-7
            )


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 6, 7])
def test_new_bounds_keep_the_rows_and_give_the_optima_of_a_fresh_solve(seed: int) -> None:
    c, a, low, high, lower, upper = _programme(seed)
    session = highs.Session(a, low, high, lower, upper)
    session.minimize(c)  # a basis to start the next programmes from
    rng = np.random.default_rng(seed)
    for _ in range(6):  # fix some variables at values, free the others again
        fixed = rng.random(a.shape[1]) < 0.3
        at = rng.uniform(0.0, 10.0, a.shape[1])
        new_lower, new_upper = np.where(fixed, at, lower), np.where(fixed, at, upper)
        session.bounds(new_lower, new_upper)
        for sign in (1.0, -1.0):
            expected = _by_milp(sign * c, a, low, high, new_lower, new_upper)
            found = session.minimize(sign * c)
            assert found.status == expected[0]
            if expected[0] == 0:
                assert found.fun == pytest.approx(expected[1], abs=1e-6)
