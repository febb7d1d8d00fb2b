"""The exactness check of complementary suppression: which hidden cells the margins pin down.

:func:`allrwe.results.margins._pinned` skips a linear programme when feasible points it has
already found (the true values, earlier optima) prove a cell free. These tests compare it
with the plain method, a lowest and a highest value by linear programming for every unknown.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import OptimizeResult, linprog

from allrwe.errors import ResultsError
from allrwe.results import margin_tables
from allrwe.results import margins as margins_module
from allrwe.results.margins import Margin, _equations, _pinned, _State, parse_margins


def _every_lp(state: _State, group: list[Margin]) -> list[int]:
    """Reference: the cells whose lowest and highest values agree, one LP pair per unknown."""
    cells, a, b = _equations(state, group)
    bounds = [(1.0, None)] * a.shape[1]
    pinned = []
    for i, cell in enumerate(cells):
        objective = np.zeros(a.shape[1])
        objective[i] = 1.0
        low = linprog(objective, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        if low.status != 0:
            raise ResultsError("inconsistent")
        high = linprog(-objective, A_eq=a, b_eq=b, bounds=bounds, method="highs")
        if high.status == 0 and (-high.fun) - low.fun < 1e-6:
            pinned.append(cell)
    return pinned


def _two_way(cells: list[list[int]], *, totals: bool) -> tuple[np.ndarray, list[str]]:
    values, fields = [], []
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            values.append(value)
            fields.append(f"col{j}|row{i}")
    if totals:
        for i, row in enumerate(cells):
            values.append(sum(row))
            fields.append(f"total:row{i}|rows")
        for j in range(len(cells[0])):
            values.append(sum(row[j] for row in cells))
            fields.append(f"total:col{j}|cols")
        values.append(sum(map(sum, cells)))
        fields.append("total:cols|total:rows")
    return np.array(values, dtype=float), fields


def _state(values: np.ndarray, fields: list[str], hidden: np.ndarray) -> _State:
    return _State(values, hidden, parse_margins(fields, values), 5)


def _random_case(rng: random.Random) -> tuple[np.ndarray, list[str], np.ndarray]:
    n_rows, n_cols = rng.randint(2, 4), rng.randint(2, 4)
    cells = [[rng.choice([0, 1, 1, 2, 3, 7, 12, 40]) for _ in range(n_cols)] for _ in range(n_rows)]
    values, fields = _two_way(cells, totals=rng.random() < 0.6)
    # Now and then a zero is hidden too: then the true values are no feasible point.
    hidden = np.array([rng.random() < (0.45 if v > 0 else 0.03) for v in values])
    return values, fields, hidden


def _outcome(find: Callable[..., list[int]], *args: object, **kwargs: object) -> list[int] | str:
    try:
        return find(*args, **kwargs)
    except ResultsError:
        return "inconsistent"


def test_skipping_programmes_finds_the_same_pinned_cells_as_solving_them_all():
    rng = random.Random(20250107)
    outcomes: list[list[int] | str] = []
    for _ in range(150):
        values, fields, hidden = _random_case(rng)
        state = _state(values, fields, hidden)
        group = list(state.margins.values())
        expected = _outcome(_every_lp, state, group)
        assert _outcome(_pinned, state, group) == expected
        first = _outcome(_pinned, state, group, first_only=True)
        assert first == (expected if isinstance(expected, str) else expected[:1])
        outcomes.append(expected)
    # The cases exercise pinned cells, free ones and inconsistent systems.
    assert sum(isinstance(o, list) and bool(o) for o in outcomes) > 20
    assert sum(o == [] for o in outcomes) > 10
    assert "inconsistent" in outcomes


def test_a_lone_hidden_cell_of_a_row_is_pinned_and_its_rectangle_is_not():
    values, fields = _two_way([[11, 2], [9, 30]], totals=True)
    lone = np.zeros(len(values), dtype=bool)
    lone[1] = True  # r0c1 = 2, alone in row 0 and column 1
    assert _pinned(_state(values, fields, lone), list(parse_margins(fields, values).values())) == [
        1
    ]
    rectangle = np.zeros(len(values), dtype=bool)
    rectangle[:4] = True  # the whole 2x2 body: each cell can move by a cycle
    state = _state(values, fields, rectangle)
    assert _pinned(state, list(state.margins.values())) == []


def test_free_cells_seen_to_vary_need_no_programme(monkeypatch: pytest.MonkeyPatch):
    # 2x2 body hidden, totals shown: the true values (11, 2, 9, 30) and the optima of
    # raising and lowering all four at once differ in every cell, so two programmes over
    # all cells settle the table (the plain method needs eight, one per cell and bound).
    values, fields = _two_way([[11, 2], [9, 30]], totals=True)
    hidden = np.zeros(len(values), dtype=bool)
    hidden[:4] = True
    calls: list[np.ndarray] = []
    minimize = margins_module._Programmes.minimize

    def counting(
        self: margins_module._Programmes, objective: np.ndarray, *, capped: bool = False
    ) -> OptimizeResult:
        calls.append(objective)
        return minimize(self, objective, capped=capped)

    monkeypatch.setattr(margins_module._Programmes, "minimize", counting)
    state = _state(values, fields, hidden)
    assert _pinned(state, list(state.margins.values())) == []
    assert len(calls) == 2
    assert all(np.count_nonzero(objective) == 4 for objective in calls)


def test_a_hidden_zero_falls_back_to_the_programmes():
    # A zero passed in as hidden breaks the bound x >= 1, so the true values prove nothing;
    # the programmes then find the system infeasible, as the plain method does.
    values, fields = _two_way([[0, 5], [6, 7]], totals=True)
    hidden = np.zeros(len(values), dtype=bool)
    hidden[[0, 1]] = True
    state = _state(values, fields, hidden)
    group = list(state.margins.values())
    with pytest.raises(ResultsError, match="inconsistent"):
        _every_lp(state, group)
    with pytest.raises(ResultsError, match="are inconsistent"):
        _pinned(state, group)


def _parse_one_by_one(fields: list[str], values: np.ndarray) -> dict[str, Margin] | str:
    """Reference: read the fields record by record, then check each margin in turn."""
    found: dict[str, Margin] = {}
    for row, text in enumerate(fields):
        for token in text.split("|") if text else []:
            is_total = token.startswith("total:")
            key = token[len("total:") :] if is_total else token
            margin = found.setdefault(key, Margin(key))
            if not is_total:
                margin.members.append(row)
            elif margin.total is None:
                margin.total = row
            else:
                return f"margin {key!r} has more than one total record"
    try:
        for key, margin in found.items():
            margin_tables._check_margin(key, margin, values)
    except ResultsError as error:
        return str(error)
    return dict(sorted((k, m) for k, m in found.items() if m.members))


def _random_fields(rng: random.Random) -> tuple[list[str], np.ndarray]:
    n = rng.randint(1, 12)
    choices = [0.0, 1.0, 2.0, 3.0, 7.0, 2.5, np.nan, 2.0**60]
    values = np.array(rng.choices(choices, [4, 4, 4, 4, 4, 1, 1, 1], k=n), dtype=float)
    tokens: list[list[str]] = [[] for _ in range(n)]
    for key in rng.sample(["a", "b", "c", "d@x"], rng.randint(0, 4)):
        members = [r for r in range(n) if rng.random() < 0.35]
        totals = rng.sample(range(n), min(n, rng.choice([0, 1, 1, 1, 1, 2])))
        for row in members:
            tokens[row].append(key)
        for row in totals:
            tokens[row].append(f"total:{key}")
        if len(totals) == 1 and rng.random() < 0.7:
            values[totals[0]] = values[members].sum()  # a total that adds up, usually
    for row_tokens in tokens:
        rng.shuffle(row_tokens)
    return ["|".join(t) for t in tokens], values


def test_parse_margins_matches_reading_record_by_record():
    rng = random.Random(20250108)
    outcomes: list[str] = []
    for _ in range(1500):
        fields, values = _random_fields(rng)
        expected = _parse_one_by_one(fields, values)
        try:
            got: dict[str, Margin] | str = parse_margins(fields, values)
        except ResultsError as error:
            got = str(error)
        assert got == expected, (fields, values.tolist())
        outcomes.append(expected if isinstance(expected, str) else "ok")
    # Every rule is exercised, and valid tables with recorded totals too.
    for text in (
        "more than one total",
        "both a member and the total",
        "without a value",
        "add up to",
        "ok",
    ):
        assert sum(text in o for o in outcomes) >= 10, text


def test_parse_margins_keeps_record_order_and_a_pandas_column():
    fields = pd.Series(["b|a", "", "a", "total:a|total:b", "b"], index=[9, 8, 7, 6, 5])
    values = np.array([3.0, 0.0, 4.0, 7.0, 4.0])
    expected = {"a": Margin("a", [0, 2], 3), "b": Margin("b", [0, 4], 3)}
    assert parse_margins(fields, values) == expected
    assert parse_margins(list(fields), values) == expected
    assert parse_margins([], np.array([])) == {}
    assert parse_margins(["", ""], np.array([1.0, 2.0])) == {}


def test_programmes_in_one_session_reach_the_optima_of_each_alone():
    # 3x3 body hidden, row and column totals shown: every cell's lowest and highest value,
    # by one session's programmes in turn (each from the last basis) and by linprog alone
    values, fields = _two_way([[11, 2, 7], [9, 30, 4], [5, 6, 13]], totals=True)
    hidden = np.zeros(len(values), dtype=bool)
    hidden[:9] = True
    state = _state(values, fields, hidden)
    cells, a, b = _equations(state, list(state.margins.values()))
    floor = np.ones(a.shape[1])
    programmes = margins_module._Programmes(a, b, floor)
    bounds = [(1.0, None)] * a.shape[1]
    for i in range(len(cells)):
        for sign in (1.0, -1.0):
            objective = np.zeros(a.shape[1])
            objective[i] = sign
            warm = programmes.minimize(objective)
            alone = linprog(objective, A_eq=a, b_eq=b, bounds=bounds, method="highs")
            assert warm.status == 0
            assert warm.fun == pytest.approx(alone.fun, abs=1e-9)
    # the cell of value 2 reaches its row's total (20) less its two neighbours at 1: 18
    # (its column, 38 in all, leaves room: e.g. 10 and 10 below it)
    objective = np.zeros(a.shape[1])
    objective[1] = -1.0
    assert -programmes.minimize(objective).fun == pytest.approx(18.0, abs=1e-9)


def test_the_margins_tested_at_once_are_those_at_risk_one_by_one():
    rng = random.Random(7)
    risky = 0
    for _ in range(300):
        values, fields, hidden = _random_case(rng)
        state = _state(values, fields, hidden)
        if rng.random() < 0.2:  # a table hidden whole, zeros included
            state.may_be_zero[: rng.randint(1, len(values))] = True
        margins = list(state.margins.values())
        risks = margins_module._Risks(state, margins)
        expected = [state.at_risk(m) for m in margins]
        assert risks.test(state).tolist() == expected
        start = rng.randrange(len(margins))
        assert risks.test(state, start).tolist() == expected[start:]
        risky += any(expected)
    assert risky >= 100  # the cases hold margins at risk and margins not at risk


def _settled(
    state: _State, margins: list[Margin], risks: margins_module._Risks | None
) -> tuple[object, list[bool]]:
    """The fixed point's rounds (or the margin it got stuck at) and the cells hidden."""
    try:
        rounds: object = margins_module._fixed_point(state, margins, risks)
    except margins_module._Stuck as stuck:
        rounds = ("stuck", stuck.margin.key)
    return rounds, state.suppressed.tolist()


def test_a_fixed_point_found_at_once_is_that_of_a_margin_at_a_time():
    rng = random.Random(11)
    changed = 0
    for _ in range(200):
        values, fields, hidden = _random_case(rng)
        one, many = _state(values, fields, hidden.copy()), _state(values, fields, hidden.copy())
        margins = list(one.margins.values())
        expected = _settled(one, margins, None)
        assert _settled(many, margins, margins_module._Risks(many, margins)) == expected
        changed += expected[1] != hidden.tolist()
    assert changed >= 50  # complements were added in many cases


def test_groups_of_margins_with_unknowns_are_found_alike_at_once():
    rng = random.Random(5)
    grouped = 0
    for _ in range(200):
        values, fields, hidden = _random_case(rng)
        state = _state(values, fields, hidden)
        margins = list(state.margins.values())
        plain = margins_module._unknown_groups(state, margins)
        at_once = margins_module._unknown_groups(
            state, margins, margins_module._Risks(state, margins)
        )
        assert [[m.key for m in g] for g in at_once] == [[m.key for m in g] for g in plain]
        grouped += bool(plain)
    assert grouped >= 50


def test_a_first_cell_still_pinned_is_decided_by_two_programmes(monkeypatch: pytest.MonkeyPatch):
    # 5x5 body with totals: r0c0 alone hidden in row 0 (pinned by the row total), rows 1-4
    # hidden whole (20 free cells). The first open cell is r0c0: its lowest and highest
    # values tell, without the four spreading programmes the 21 open cells would start with
    body = [[11, 2, 7, 5, 9], [9, 30, 4, 6, 8], [5, 6, 13, 7, 3], [8, 4, 6, 12, 5]]
    body.append([6, 7, 8, 9, 10])
    values, fields = _two_way(body, totals=True)
    hidden = np.zeros(len(values), dtype=bool)
    hidden[0] = True
    hidden[5:25] = True
    calls: list[int] = []
    minimize = margins_module._Programmes.minimize

    def counting(
        self: margins_module._Programmes, objective: np.ndarray, *, capped: bool = False
    ) -> object:
        calls.append(int(capped))
        return minimize(self, objective, capped=capped)

    monkeypatch.setattr(margins_module._Programmes, "minimize", counting)
    state = _state(values, fields, hidden)
    group = list(state.margins.values())
    assert _pinned(state, group, first_only=True) == [0]
    assert calls == [0, 0]  # its lowest, then its highest value
    assert _every_lp(_state(values, fields, hidden), group)[:1] == [0]


def test_a_later_pass_over_a_table_hidden_whole_keeps_its_hidden_zeros_possible():
    # seed001 with destinations_by: [duration, cycles] on a 40,000-person emr CDM (900 ALL
    # patients): a repair round hid the cycles table whole, zeros included; the next round
    # started from those hidden cells with each at least 1, found 0 + 1 = 1 impossible and
    # failed the run ("the margins ... are inconsistent")
    from allrwe.results.margins import protect_margins

    #   a=0  b=1 | 1
    #   c=0  d=5 | 5
    #   ---------+--
    #    0    6
    values = np.array([0.0, 1.0, 0.0, 5.0, 1.0, 5.0, 0.0, 6.0])
    margin = ["r1|c1", "r1|c2", "r2|c1", "r2|c2", "total:r1", "total:r2", "total:c1", "total:c2"]
    margins = parse_margins(margin, values)
    primary = np.array([False, True, False, False, False, False, False, False])
    whole = np.array([True, True, True, True, False, False, False, False])
    out = protect_margins(values, primary, margins, 5, hidden=whole)
    # nothing more to hide, nothing published: b is 1 - a with a hidden and possibly 0 .. 1
    assert out.tolist() == whole.tolist()


def _fallback_tables(
    rng: random.Random, cases: int
) -> Iterator[tuple[_State, list[Margin], np.ndarray, margins_module._PublishingBack]]:
    """Random tables as the fallback meets them (every non-zero cell hidden), with its check."""
    for _ in range(cases):
        values, fields, hidden = _random_case(rng)
        hidden &= values > 0  # a fallback hides the non-zero cells
        state = _state(values, fields, hidden)
        table = list(state.margins.values())
        if not table or not hidden.any():
            continue
        try:
            check = margins_module._PublishingBack(state, table)
        except ResultsError:
            continue
        yield state, table, hidden, check


def test_publishing_back_over_one_system_pins_what_a_fresh_check_pins():
    # _protect_table publishes hidden cells back one by one; the check over one system
    # (cells published again fixed at their values) must tell what _pinned tells each time
    rng = random.Random(23)
    decided = pinned = 0
    for state, table, hidden, check in _fallback_tables(rng, 120):
        for cell in np.flatnonzero(hidden).tolist():
            state.suppressed[cell] = False
            state.free.clear()
            try:
                fresh = bool(_pinned(state, table, first_only=True))
            except ResultsError:
                continue
            state.free.clear()
            assert check.pinned(state) == fresh
            decided += 1
            pinned += fresh
            if fresh and rng.random() < 0.7:
                state.suppressed[cell] = True  # hidden again, as the fallback does
    assert decided > 200
    assert pinned > 20


def test_points_carried_between_states_are_feasible_and_spare_programmes(monkeypatch):
    # the optima of earlier states, as they are or mixed in pairs around the cell tried,
    # must satisfy the equations, the floors and the cells published again; and they must
    # spare programmes, else carrying them is cost for nothing
    checked = 0
    solved = {"carried": 0, "fresh": 0}
    minimize = margins_module._Programmes.minimize
    add_all = margins_module._Seen.add_all
    taken: list[np.ndarray] = []  # the points given to _Seen.add_all in one check

    def keep(seen, points):
        taken.append(points)
        add_all(seen, points)

    monkeypatch.setattr(margins_module._Seen, "add_all", keep)
    for carried in (True, False):
        rng = random.Random(5)  # the same cells hidden again in both passes

        def counted(self, *args, _key="carried" if carried else "fresh", **kwargs):
            solved[_key] += 1
            return minimize(self, *args, **kwargs)

        monkeypatch.setattr(margins_module._Programmes, "minimize", counted)
        for state, table, hidden, check in _fallback_tables(random.Random(29), 80):
            _, a, b = _equations(state, table)
            if not carried:
                monkeypatch.setattr(check, "_carry", lambda seen, shown: None)
            for cell in np.flatnonzero(hidden).tolist():
                state.suppressed[cell] = False
                state.free.clear()
                taken.clear()
                shown = np.concatenate(
                    [~state.suppressed[check.cells], np.zeros(check.extra, dtype=bool)]
                )
                if check.pinned(state) and rng.random() < 0.7:
                    state.suppressed[cell] = True
                for x in (x for points in taken for x in points):
                    assert np.allclose(a @ x, b, atol=1e-6)
                    assert (x >= check.floor - 1e-6).all()
                    assert np.allclose(x[shown], check.at[shown], atol=1e-6)
                    checked += 1
    assert checked > 500
    assert solved["carried"] < 0.9 * solved["fresh"]


def test_a_table_is_named_hidden_whole_only_as_the_output_hides_it():
    # the warning reads the final flags: a repair round may hide a table whole and a later
    # step publish some of its cells again; a table without a zero is never "hidden whole"
    values, fields = _two_way([[11, 2], [9, 0]], totals=False)
    margins = parse_margins(fields, values)
    every = np.ones(len(values), dtype=bool)
    assert margins_module.hidden_whole_tables(every, values, margins) == [
        "the margins 'col0' and 3 linked to it"
    ]
    some = every.copy()
    some[0] = False  # 11 published again
    assert margins_module.hidden_whole_tables(some, values, margins) == []
    full, full_fields = _two_way([[11, 2], [9, 4]], totals=False)
    assert margins_module.hidden_whole_tables(every, full, parse_margins(full_fields, full)) == []
