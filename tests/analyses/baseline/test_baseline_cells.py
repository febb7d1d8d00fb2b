"""Counting helpers of Table 1 and the suppression margins, on hand-made cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allrwe.analyses.baseline.records import Cell, add_margins, cells_frame
from allrwe.analyses.baseline.statistics import smd_categorical
from allrwe.analyses.baseline.table import _smd_cells, variable_arrays
from allrwe.analyses.baseline.units import UnitValues
from allrwe.analyses.baseline.variables import BaselineVariable, categorical


def _values() -> UnitValues:
    frame = pd.DataFrame({
        "person_id": [1, 2, 3, 4, 5],
        "group": ["A", "A", "B", "B", "B"],
        "index_date": pd.Timestamp("2021-01-01"),
        "sex": ["male", "female", "male", "other", None],
        "age": [30.0, np.nan, 50.0, 61.0, 20.0],
        "gen\x1fx": [True, False, True, False, False],
        "gen\x1fnone": [False, True, False, True, True],
    })  # fmt: skip
    variables = {
        "sex": categorical("sex", ["male", "female", "unknown"], "unknown"),
        "age": BaselineVariable("age", "continuous"),
        "gen": BaselineVariable("gen", "multi", ("x", "none"), "none"),
    }
    return UnitValues(frame=frame, variables=variables)


def test_categorical_codes_count_like_comparisons() -> None:
    values = _values()
    var = values.variables["sex"]
    codes = variable_arrays(values, var)
    assert codes.tolist() == [0, 1, 0, -1, -1]
    mask = np.array([True, True, True, True, False])
    counts = np.bincount(codes[mask][codes[mask] >= 0], minlength=3)
    level = values.frame["sex"].to_numpy(dtype=object)[mask]
    assert counts.tolist() == [int((level == lv).sum()) for lv in var.levels] == [2, 1, 0]


def test_continuous_and_multi_arrays() -> None:
    values = _values()
    age = variable_arrays(values, values.variables["age"])
    np.testing.assert_array_equal(age, [30.0, np.nan, 50.0, 61.0, 20.0])
    gen = variable_arrays(values, values.variables["gen"])
    assert gen.shape == (5, 2)
    assert gen.sum(axis=0).tolist() == [2, 3]


def _cell(group: str, sn: str, sl: str, level: str, value: float, variable: str = "sex") -> Cell:
    return Cell("baseline", group, sn, sl, variable, level, "count", "count", value, True)


def test_margins_clean_the_separator_and_link_groups_and_strata() -> None:
    cells = []
    for group, n in (("A", 3.0), ("B|C", 2.0), ("overall", 5.0)):
        for sn, sl in (("overall", "overall"), ("set|ting", "ND")):
            cells.append(Cell("baseline", group, sn, sl, "persons", "overall", "count", "count", n))
            cells.append(_cell(group, sn, sl, "male", n - 1))
    out = add_margins(cells_frame(cells), groups_disjoint=True)
    keys = zip(out["group"], out["strata_name"], out["variable"], strict=True)
    margin = dict(zip(keys, out["margin"], strict=True))
    assert margin[("B|C", "set|ting", "sex")] == (
        "baseline/B/C/set/ting=ND/sex|baseline/groups/set/ting=ND/sex=male/count"
        "|baseline/B/C/strata:set/ting/sex=male/count"
    )
    assert margin[("A", "overall", "sex")] == (
        "baseline/A/overall=overall/sex|baseline/groups/overall=overall/sex=male/count"
        "|total:baseline/A/strata:set/ting/sex=male/count"
    )
    assert margin[("overall", "overall", "persons")] == (
        "total:baseline/overall/overall=overall/sex"
        "|total:baseline/groups/overall=overall/persons=overall/count"
        "|total:baseline/overall/strata:set/ting/persons=overall/count"
    )


def _smd(var: BaselineVariable, a: list[float], b: list[float]) -> list[float]:
    summaries = {"A": np.array(a), "B": np.array(b)}
    sizes = {"A": int(sum(a)), "B": int(sum(b))}
    cells = _smd_cells(var, ("A", "B"), ("overall", "overall"), summaries, sizes, 5)
    return [float(c.value) for c in cells]


def test_smd_of_a_variable_nobody_has_is_not_estimable_never_0() -> None:
    cns = categorical("cns_involvement", ["yes", "no", "unknown"], "unknown")
    # everybody of both groups unknown: the formula's 0.0 would read as "balanced"
    assert np.isnan(_smd(cns, [0, 0, 12], [0, 0, 9])).all()
    # somebody has a value: the SMD over all levels, unknown included
    assert _smd(cns, [6, 0, 6], [0, 0, 9]) == [
        pytest.approx(smd_categorical([0.5, 0, 0.5], [0, 0, 1]))
    ]
    # a default that is a value ("no"): nobody with CNS involvement is balanced, SMD 0
    no = categorical("cns_involvement", ["yes", "no"], "no")
    assert _smd(no, [0, 12], [0, 9]) == [0.0]
    genes = BaselineVariable("genetic_features", "multi", ("x", "y", "unknown"), "unknown")
    assert np.isnan(_smd(genes, [0, 0, 12], [0, 0, 9])).all()
    assert len(_smd(genes, [0, 0, 12], [0, 0, 9])) == 3
    recorded = BaselineVariable(
        "genetic_features", "multi", ("x", "none recorded"), "none recorded"
    )
    assert _smd(recorded, [0, 12], [0, 9]) == [0.0, 0.0]
