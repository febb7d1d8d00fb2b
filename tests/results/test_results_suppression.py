"""Small-cell suppression: primary, linked, complementary, and that hidden cells stay hidden.

The brute-force checks model what a reader of the published results knows: every visible
value, every margin (members add up to the total), that a suppressed count is at least 1
(zeros are never suppressed), and the totals published elsewhere. They enumerate integer
solutions and show that each suppressed cell can take more than one value.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allrwe.errors import ResultsError
from allrwe.results import ResultSet, make_records, suppress
from allrwe.results.suppression import _Labels


def _result_set(records: pd.DataFrame) -> ResultSet:
    return ResultSet.create(records, spec={"study": "test"}, cdm_source="synthetic")


def _one_way(values: Sequence[int], *, margin: str = "ph", total: int | None = None) -> ResultSet:
    levels = [f"l{i}" for i in range(len(values))]
    margins = [margin] * len(values)
    if total is not None:
        levels, values, margins = (
            [*levels, "total"],
            [*values, total],
            [*margins, f"total:{margin}"],
        )
    return _result_set(
        make_records(
            analysis="baseline",
            group="BLIN",
            variable="ph_status",
            variable_level=levels,
            estimate_name="count",
            value=list(values),
            margin=margins,
        )
    )


def _two_way(cells: list[list[int]], *, totals: bool) -> ResultSet:
    """A two-way table; with ``totals`` the row, column and grand totals are records too."""
    levels, values, margins = [], [], []
    for i, row in enumerate(cells):
        for j, value in enumerate(row):
            levels.append(f"r{i}c{j}")
            values.append(value)
            margins.append(f"col{j}|row{i}")
    if totals:
        for i, row in enumerate(cells):
            levels.append(f"r{i}T")
            values.append(sum(row))
            margins.append(f"total:row{i}|rows")
        for j in range(len(cells[0])):
            levels.append(f"Tc{j}")
            values.append(sum(row[j] for row in cells))
            margins.append(f"total:col{j}|cols")
        levels.append("TT")
        values.append(sum(map(sum, cells)))
        margins.append("total:cols|total:rows")
    return _result_set(
        make_records(
            analysis="treatment_patterns",
            variable="line_by_arm",
            variable_level=levels,
            estimate_name="count",
            value=values,
            margin=margins,
        )
    )


def _levels(records: pd.DataFrame, *, hidden: bool = True) -> list[str]:
    rows = records[records["suppressed"] == hidden]
    return sorted(rows["variable_level"])


@dataclass
class _Margin:
    members: list[str] = field(default_factory=list)
    total: str | None = None


def _margins_of(records: pd.DataFrame) -> dict[str, _Margin]:
    found: dict[str, _Margin] = {}
    for level, tokens in zip(records["variable_level"], records["margin"], strict=True):
        for token in tokens.split("|") if tokens else []:
            margin = found.setdefault(token.removeprefix("total:"), _Margin())
            if token.startswith("total:"):
                margin.total = level
            else:
                margin.members.append(level)
    return found


def _public_totals(raw: pd.DataFrame, minimum: int = 5) -> dict[str, int | None]:
    """Totals of margins without a total record: known, unless small (then suppressed)."""
    value = dict(zip(raw["variable_level"], raw["value"], strict=True))
    public: dict[str, int | None] = {}
    for key, margin in _margins_of(raw).items():
        if margin.total is None:
            total = int(sum(value[m] for m in margin.members))
            public[key] = None if 1 <= total < minimum else total
    return public


class _Solver:
    """Depth-first search over the hidden values, forcing any value a margin fixes."""

    def __init__(
        self,
        known: dict[str, int],
        hidden: list[str],
        equations: list[tuple[list[str], str]],
        cap: int,
    ) -> None:
        self.known, self.hidden, self.equations, self.cap = known, hidden, equations, cap
        self.assigned: dict[str, int] = {}
        self.seen: dict[str, set[int]] = {h: set() for h in hidden}

    def value(self, name: str) -> int | None:
        return self.assigned.get(name, self.known.get(name))

    def consistent(self) -> bool:
        for members, total in self.equations:
            parts = [p for p in map(self.value, members) if p is not None]
            whole = self.value(total)
            if whole is None:
                continue
            if sum(parts) > whole or (len(parts) == len(members) and sum(parts) != whole):
                return False
        return True

    def forced(self) -> tuple[str, int] | None:
        for members, total in self.equations:
            free = [n for n in [*members, total] if self.value(n) is None]
            if len(free) == 1:
                rest = sum(self.value(m) or 0 for m in members if m != free[0])
                return free[0], rest if free[0] == total else (self.value(total) or 0) - rest
        return None

    def done(self) -> bool:
        return all(len(values) >= 2 for values in self.seen.values())

    def search(self) -> bool:
        free = [h for h in self.hidden if h not in self.assigned]
        if not free:
            for h in self.hidden:
                self.seen[h].add(self.assigned[h])
            return self.done()
        step = self.forced()
        options = [step] if step else [(free[0], v) for v in range(1, self.cap + 1)]
        for name, v in options:
            if not 1 <= v <= self.cap:
                continue
            self.assigned[name] = v
            stop = self.consistent() and self.search()
            del self.assigned[name]
            if stop:
                return True
        return False


def feasible_values(
    published: pd.DataFrame, public_totals: dict[str, int | None], cap: int
) -> dict[str, set[int]]:
    """Enumerate integer values of the hidden cells consistent with what is published.

    Returns, per suppressed cell, the values seen in consistent solutions (the search stops
    once every cell has two, which is all the tests need); unknown unrecorded totals are
    extra unknowns. Every unknown is at least 1 and at most ``cap``.
    """
    rows = zip(
        published["variable_level"], published["value"], published["suppressed"], strict=True
    )
    known = {level: int(v) for level, v, hidden in rows if not hidden}
    hidden = list(published.loc[published["suppressed"], "variable_level"])
    equations = []
    for key, margin in _margins_of(published).items():
        total = margin.total
        if total is None:
            total = f"total of {key}"
            public = public_totals[key]
            if public is None:
                hidden.append(total)
            else:
                known[total] = public
        equations.append((margin.members, total))
    solver = _Solver(known, hidden, equations, cap)
    solver.search()
    return {h: v for h, v in solver.seen.items() if not h.startswith("total of ")}


def _assert_protected(raw: ResultSet, published: ResultSet, minimum: int = 5) -> None:
    records = published.records
    # every margin has no unknown, or at least two (a suppressed total counts as one)
    public = _public_totals(raw.records, minimum)
    hidden = set(records.loc[records["suppressed"], "variable_level"])
    for key, margin in _margins_of(records).items():
        cells = [*margin.members, *([margin.total] if margin.total else [])]
        unknown = len(hidden.intersection(cells)) + (margin.total is None and public[key] is None)
        assert unknown != 1, f"margin {key} has a single unknown"
    cap = int(raw.records["value"].sum()) + 5
    solutions = feasible_values(records, public, cap)
    for level, values in solutions.items():
        assert len(values) >= 2, f"{level} is recoverable: only {values} fits"


def test_primary_suppression_hides_1_to_4_and_keeps_zero_and_5():
    rs = _result_set(
        make_records(
            analysis="attrition",
            variable="step",
            variable_level=["a", "b", "c", "d", "e"],
            estimate_name="count",
            value=[0, 1, 4, 5, 120],
        )
    )
    out = suppress(rs).records
    assert out["value"].tolist()[0] == 0.0
    assert np.isnan(out["value"].tolist()[1])
    assert np.isnan(out["value"].tolist()[2])
    assert out["value"].tolist()[3:] == [5.0, 120.0]
    assert out["suppressed"].tolist() == [False, True, True, False, False]


def test_threshold_is_configurable():
    rs = _one_way([7, 12], margin="m")
    assert _levels(suppress(rs, min_cell_count=7).records) == []
    assert _levels(suppress(rs, min_cell_count=8).records) == ["l0", "l1"]
    assert _levels(suppress(rs, min_cell_count=10).records) == ["l0", "l1"]


def test_policies_per_cell_and_none():
    rs = _one_way([57, 40, 3], margin="m")
    assert _levels(suppress(rs, min_cell_count=5, policy="per_cell").records) == ["l2"]
    assert _levels(suppress(rs, min_cell_count=5, policy="complementary").records) == [
        "l1",
        "l2",
    ]
    opted_out = suppress(rs, min_cell_count=5, policy="none")
    assert _levels(opted_out.records) == []
    assert opted_out.provenance.suppression is not None
    assert opted_out.provenance.suppression.to_dict()["policy"] == "none"
    assert opted_out.provenance.suppression.hides_below == 1
    with pytest.raises(ResultsError, match="policy must be one of"):
        suppress(rs, policy="loose")


def test_provenance_records_threshold_and_counts_only():
    rs = _one_way([57, 40, 3])
    out = suppress(rs, min_cell_count=5)
    assert out.is_suppressed
    assert out.provenance.suppression is not None
    assert out.provenance.suppression.to_dict() == {
        "min_cell_count": 5,
        "policy": "complementary",
        "suppressed_count_cells": 2,
        "suppressed_linked": 0,
    }
    assert not rs.is_suppressed  # the input is not changed


def test_linked_percentages_are_suppressed_with_their_count():
    counts = make_records(
        analysis="baseline",
        group="INO",
        variable="sex",
        variable_level=["female", "male"],
        estimate_name="count",
        value=[3, 27],
    )
    pct = make_records(
        analysis="baseline",
        group="INO",
        variable="sex",
        variable_level=["female", "male"],
        estimate_name="percentage",
        value=[10.0, 90.0],
    )
    out = suppress(_result_set(pd.concat([counts, pct]))).records
    female = out[out["variable_level"] == "female"]
    assert female["suppressed"].tolist() == [True, True]
    assert female["value"].isna().all()
    male = out[out["variable_level"] == "male"].set_index("estimate_name")["value"]
    assert male.to_dict() == {"count": 27.0, "percentage": 90.0}


def test_linked_summary_statistics_and_survival_rows():
    age = make_records(
        analysis="baseline",
        group="CAR-T",
        variable="age_years",
        estimate_name=["count", "mean", "median", "sd"],
        value=[4, 41.2, 39.0, 12.5],
    )
    km = make_records(
        analysis="survival_km",
        group="BLIN",
        variable="overall_survival",
        variable_level=["365"] * 6 + ["730"] * 6,
        estimate_name=["estimate", "lower", "upper", "n_risk", "n_event", "n_censor"] * 2,
        value=[0.62, 0.51, 0.71, 38, 6, 7, 0.41, 0.22, 0.60, 3, 0, 1],
    )
    out = suppress(_result_set(pd.concat([age, km]))).records
    assert out[out["analysis"] == "baseline"]["suppressed"].all()
    at = out[out["analysis"] == "survival_km"].set_index(["variable_level", "estimate_name"])
    assert not at.loc["365", "suppressed"].any()
    assert at.loc[("365", "estimate"), "value"] == 0.62
    hidden_730 = at.loc["730"]["suppressed"].to_dict()
    # estimate and CI go with the small number at risk; 0 events stays visible
    assert hidden_730 == {
        "estimate": True,
        "lower": True,
        "upper": True,
        "n_risk": True,
        "n_event": False,
        "n_censor": True,
    }
    assert at.loc[("730", "n_event"), "value"] == 0.0


def test_complementary_one_way_3_40_57():
    rs = _one_way([57, 40, 3])
    out = suppress(rs).records
    assert _levels(out) == ["l1", "l2"]  # the 3 and the 40
    assert out.set_index("variable_level").loc["l0", "value"] == 57.0
    _assert_protected(rs, suppress(rs))


def test_complementary_picks_smallest_nonzero_and_zero_stays_visible():
    rs = _one_way([0, 2, 50, 48], total=100)
    out = suppress(rs).records
    assert _levels(out) == ["l1", "l3"]  # 2 and 48; the 0 is not used as a complement
    assert out.set_index("variable_level").loc["l0", "value"] == 0.0
    _assert_protected(rs, suppress(rs))


def test_complementary_ties_break_by_record_order():
    out = suppress(_one_way([3, 9, 9, 20])).records
    assert _levels(out) == ["l0", "l1"]


def test_two_small_cells_that_could_only_be_ones_get_a_complement():
    # 1 + 1 hidden with total 100 and 98 visible: both must be 1, so the 98 goes too.
    rs = _one_way([1, 1, 98])
    assert _levels(suppress(rs).records) == ["l0", "l1", "l2"]
    _assert_protected(rs, suppress(rs))


def test_two_small_cells_with_ambiguous_sum_need_no_complement():
    rs = _one_way([2, 3, 95])
    assert _levels(suppress(rs).records) == ["l0", "l1"]
    _assert_protected(rs, suppress(rs))


def test_small_total_counts_as_suppressed():
    # A total below the threshold is hidden wherever it appears, so it recovers nothing.
    implicit = _one_way([3, 0, 0])
    assert _levels(suppress(implicit).records) == ["l0"]
    explicit = _one_way([2, 1], total=3)
    assert _levels(suppress(explicit).records) == ["l0", "l1", "total"]
    _assert_protected(explicit, suppress(explicit))


def test_two_way_table_hides_the_rectangle_of_least_weight(caplog: pytest.LogCaptureFixture):
    """Totals published elsewhere (rows 49, 29, 42; columns 61, 18, 41).

    The greedy rounds hid six cells (7, 7, 14, 14 beside the two 2s, weight 46); the optimum
    is the rectangle of the two 2s with 7 and 20 (weight 35 with the +1 per cell): shifting
    one person around it keeps every margin, so each hidden cell ranges over 3 values.
    """
    rs = _two_way([[40, 2, 7], [7, 2, 20], [14, 14, 14]], totals=False)
    caplog.set_level(logging.DEBUG, logger="allrwe.results.margins")
    out = suppress(rs)
    assert _levels(out.records) == ["r0c1", "r0c2", "r1c1", "r1c2"]
    assert _levels(out.records, hidden=False) == ["r0c0", "r1c0", "r2c0", "r2c1", "r2c2"]
    assert "margins settled after 0 round(s) of complements" in caplog.messages
    _assert_protected(rs, out)


def test_two_way_table_with_recorded_totals_uses_cross_margin_check():
    # Every single margin has 0 or >= 2 unknowns after the greedy rounds, yet rows, columns
    # and totals together would pin the 2 in r2c1; the exact check adds a complement.
    rs = _two_way([[5, 3, 20], [0, 0, 8], [0, 2, 4]], totals=True)
    out = suppress(rs)
    hidden = _levels(out.records)
    assert {"r0c1", "r2c1", "r2c2"} <= set(hidden)
    assert "r1c0" not in hidden  # zeros stay
    assert "r2c0" not in hidden
    _assert_protected(rs, out)


def test_stuck_greedy_falls_back_to_protecting_the_whole_table():
    # Greedy picks 9 (r2c1) for column 1, which forces 20 (r2c0), the only non-zero cell of
    # column 0; the fallback finds the 2x2 rectangle instead.
    rs = _two_way([[0, 2, 3], [0, 11, 9], [20, 9, 0]], totals=False)
    out = suppress(rs)
    assert _levels(out.records) == ["r0c1", "r0c2", "r1c1", "r1c2"]
    _assert_protected(rs, out)


def test_margins_that_disclose_whatever_nonzero_is_hidden_hide_the_zeros_too(
    caplog: pytest.LogCaptureFixture,
):
    # Row 1 is 9 + 0 with total 9 and column 0 is 11 + 9 = 20: with the zero visible, r1c0 = 9,
    # then r0c0 = 11 and the 2 follow. The run does not stop: the zero is hidden as well, and
    # the 2 can then be anything from 0 to 2.
    rs = _two_way([[11, 2], [9, 0]], totals=False)
    caplog.set_level(logging.WARNING, logger="allrwe.results")
    out = suppress(rs)
    assert _levels(out.records) == ["r0c0", "r0c1", "r1c0", "r1c1"]
    # the table is named by one margin, not by the list of all of them
    assert caplog.messages == [
        "the margins 'col0' and 3 linked to it: every cell of the table, zeros included, is "
        "hidden so that a small count cannot be worked out from the totals"
    ]


def test_suppression_is_deterministic_and_ignores_row_order():
    rs = _two_way([[40, 2, 7], [7, 2, 20], [14, 14, 14]], totals=True)
    shuffled = rs.records.sample(frac=1.0, random_state=7)
    again = suppress(_result_set(shuffled)).records
    pd.testing.assert_frame_equal(suppress(rs).records, again)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    st.lists(
        st.lists(st.sampled_from([0, 1, 2, 3, 4, 6, 9, 15]), min_size=3, max_size=3),
        min_size=2,
        max_size=2,
    )
)
def test_random_two_way_tables_with_totals_stay_protected(cells: list[list[int]]):
    rs = _two_way(cells, totals=True)
    out = suppress(rs)
    raw = rs.records.set_index("variable_level")["value"]
    hidden = set(_levels(out.records))
    assert {lvl for lvl, v in raw.items() if 1 <= v < 5} <= hidden
    assert not {lvl for lvl, v in raw.items() if v == 0} & hidden
    _assert_protected(rs, out)


def test_random_one_way_margins_stay_protected():
    rng = random.Random(20240501)
    for _ in range(40):
        values = [rng.choice([0, 1, 2, 3, 4, 5, 8, 13, 30]) for _ in range(rng.randint(2, 5))]
        rs = _one_way(values, total=sum(values)) if rng.random() < 0.5 else _one_way(values)
        _assert_protected(rs, suppress(rs))


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (_one_way([3, 4], total=9).records, "add up to 7, but its total record is 9"),
        (
            make_records(
                analysis="a",
                variable_level=["x", "y", "z"],
                estimate_name="count",
                value=[1, 1, 2],
                margin=["m", "total:m", "total:m"],
            ),
            "more than one total",
        ),
        (
            make_records(
                analysis="a",
                variable_level=["x", "y"],
                estimate_name="count",
                value=[5, np.nan],
                margin="m",
            ),
            "1 count cell(s) without a value",
        ),
    ],
)
def test_malformed_margins_are_rejected(records: pd.DataFrame, message: str):
    with pytest.raises(ResultsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        suppress(_result_set(records))


def test_suppress_refuses_twice_and_bad_thresholds():
    rs = _one_way([57, 40, 3])
    with pytest.raises(ResultsError, match="already suppressed"):
        suppress(suppress(rs))
    for bad in (0, 1, 2.5, True):
        with pytest.raises(ResultsError, match="min_cell_count"):
            suppress(rs, min_cell_count=bad)  # type: ignore[arg-type]


def test_record_labels_join_the_keys_and_estimate_name():
    records = _one_way([3, 40, 57]).records
    labels = _Labels(records)
    expected = [
        f"baseline/BLIN/overall/overall/ph_status/{level}/count" for level in ("l0", "l1", "l2")
    ]
    assert len(labels) == 3
    assert list(labels) == expected
    assert labels[-1] == expected[-1]
    assert labels[1:] == expected[1:]


def test_suppressed_records_are_already_in_canonical_form():
    # suppress() skips re-validating the columns it did not change; the full check agrees.
    rs = _two_way([[40, 2, 7], [7, 2, 20], [14, 14, 14]], totals=True)
    out = suppress(rs)
    again = out.with_records(out.records, out.provenance)
    pd.testing.assert_frame_equal(out.records, again.records, check_exact=True)
    assert out.records["suppressed"].dtype == bool
    assert out.records["value"].dtype == np.float64


def test_new_values_other_than_blanks_get_the_full_check():
    rs = _one_way([3, 40, 57])
    values = rs.records["value"].to_numpy(dtype="float64", copy=True)
    values[1] = -1.0
    with pytest.raises(ResultsError, match="not a non-negative integer"):
        rs._with_values(values, np.zeros(3, dtype=bool), rs.provenance)
    with pytest.raises(ResultsError, match="marked suppressed, but the provenance"):
        rs._with_values(np.full(3, np.nan), np.ones(3, dtype=bool), rs.provenance)


def test_destinations_after_a_cycle_count_do_not_give_the_hidden_counts_away():
    # seed001 example, 326 BLIN (40,000-person emr CDM, 900 ALL patients): 4 and 5 cycles
    # (10 and 3) were hidden, but HSCT 5 (50.0 %) after 4 cycles was published: 10 persons
    # with 4 cycles, so 13 - 10 = 3 with 5
    from allrwe.results.attack import attack

    cycles = {"1": 224, "2": 64, "3": 25, "4": 10, "5": 3}
    after = {"hsct": 5, "car_t": 3, "none": 2}
    rows = []
    for level, n in cycles.items():
        margin = f"cycles|total:after{level}"
        rows.append(("cycles", "overall", "overall", "cycles", level, n, margin))
    for level, n in after.items():
        rows.append(("destinations", "cycles", "4", "destination", level, n, "after4"))
    frame = pd.DataFrame(rows, columns=["analysis", "sn", "sl", "variable", "level", "n", "margin"])
    den = frame.groupby(["analysis", "sl"])["n"].transform("sum")
    cells = {
        "analysis": frame["analysis"].tolist(),
        "group": "BLIN",
        "strata_name": frame["sn"].tolist(),
        "strata_level": frame["sl"].tolist(),
        "variable": frame["variable"].tolist(),
        "variable_level": frame["level"].tolist(),
    }
    counts = make_records(
        **cells,
        estimate_name="count",
        value=frame["n"].astype(float).tolist(),
        margin=frame["margin"].tolist(),
    )
    percentages = make_records(
        **cells,
        estimate_name="percentage",
        estimate_type="percentage",
        value=(100.0 * frame["n"] / den).tolist(),
    )
    records = pd.concat([counts, percentages], ignore_index=True)
    rs = ResultSet.create(records, spec={"name": "x"}, cdm_source="x")
    published = suppress(rs, 5).records
    assert attack(published, 5).leaks == ()
    shown = published[(published["estimate_name"] == "count") & ~published["suppressed"]]
    labels = sorted((shown["analysis"] + "/" + shown["variable_level"]).tolist())
    # with 3 cycles (25) hidden too, 10 after 4 cycles leaves 25 + 3 = 28 for 3 and 5
    assert labels == ["cycles/1", "cycles/2", "destinations/hsct"]
