"""Tests of the least-weight complementary suppression (one programme per linked table)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results import ResultSet, make_records, suppress
from allrwe.results.complementary import HEADLINE_WEIGHT, choose_complements
from allrwe.results.suppression import cell_weights


def _hidden(out: ResultSet) -> list[str]:
    rec = out.records
    keys = rec["strata_level"] + "/" + rec["variable"] + "=" + rec["variable_level"]
    return sorted(keys[rec["suppressed"]].tolist())


def test_programme_takes_the_cheapest_complement_of_a_margin():
    values = np.array([3.0, 40.0, 9.0, 57.0])
    out = choose_complements(
        values, np.array([True, False, False, False]), [[([0, 1, 2, 3], None, True)]], values + 1
    )
    assert out.tolist() == [True, False, True, False]


def test_headline_weight_moves_the_complement_to_a_larger_cell():
    values = np.array([3.0, 9.0, 57.0])
    weights = values + 1.0
    weights[1] *= HEADLINE_WEIGHT  # 9 is a headline count: 57 is hidden instead
    out = choose_complements(
        values, np.array([True, False, False]), [[([0, 1, 2], None, True)]], weights
    )
    assert out.tolist() == [True, False, True]


def test_unknown_total_needs_no_complement_and_ones_need_one():
    values = np.array([2.0, 1.0, 1.0, 30.0])
    primary = np.array([False, True, True, False])
    # total unknown to the reader (itself small elsewhere): the lone hidden cells are safe
    alone = choose_complements(values, primary, [[([1, 2], None, False)]], values + 1)
    assert alone.tolist() == primary.tolist()
    # a known total of 1 + 1 + 30: the two ones would be pinned, so the 30 goes too
    known = choose_complements(values, primary, [[([1, 2, 3], None, True)]], values + 1)
    assert known.tolist() == [False, True, True, True]


def _setting_table(nd: list[int], rr: list[int]) -> ResultSet:
    """ND/RR counts of an overall column and two age bands (levels add up to overall)."""
    levels = ["overall", "<55", ">=55"]
    frames = []
    for setting, counts in (("ND", nd), ("RR", rr)):
        frames.append(
            make_records(
                analysis="baseline",
                group="BLIN",
                strata_name=["overall", "age_band", "age_band"],
                strata_level=levels,
                variable="setting",
                variable_level=setting,
                estimate_name="count",
                value=counts,
                margin=[
                    f"setting/overall|total:strata/{setting}",
                    f"setting/<55|strata/{setting}",
                    f"setting/>=55|strata/{setting}",
                ],
            )
        )
    records = pd.concat(frames, ignore_index=True)
    return ResultSet.create(records, spec={"name": "t"}, cdm_source="t")


def test_overall_nd_and_rr_stay_published_when_a_stratum_cell_is_small():
    """The seed001 finding: a small >= 55 cell must not cascade into the overall ND/RR."""
    rs = _setting_table(nd=[60, 57, 3], rr=[70, 60, 10])
    weights = cell_weights(rs.records)
    overall = (rs.records["strata_name"] == "overall").to_numpy()
    assert (weights[overall] >= HEADLINE_WEIGHT).all()
    out = suppress(rs)
    assert _hidden(out) == [
        "<55/setting=ND",
        "<55/setting=RR",
        ">=55/setting=ND",
        ">=55/setting=RR",
    ]
    shown = out.records[~out.records["suppressed"]]
    assert sorted(shown["value"].tolist()) == [60.0, 70.0]


def test_memberless_margin_total_runs_to_the_end():
    """A death total with no death cells (no deaths in a small cohort) states no equation."""
    records = pd.concat(
        [
            make_records(
                analysis="safety_deaths",
                group="BLIN",
                variable="persons",
                estimate_name="count",
                value=3,
            ),
            make_records(
                analysis="safety_deaths",
                group="BLIN",
                variable="death",
                variable_level="any",
                estimate_name="count",
                value=0,
                margin="total:safety_deaths/BLIN/death",
            ),
        ],
        ignore_index=True,
    )
    out = suppress(ResultSet.create(records, spec={"name": "t"}, cdm_source="t"))
    hidden = dict(zip(out.records["variable"], out.records["suppressed"], strict=True))
    assert hidden == {"persons": True, "death": False}


def test_smd_is_hidden_when_a_count_it_uses_is_hidden():
    """The issue's finding: the setting SMD stayed published beside BLIN's hidden ND/RR."""
    frames = []
    for group, counts in (("INO", [21, 87]), ("BLIN", [3, 123])):
        frames.append(
            make_records(
                analysis="baseline",
                group=group,
                variable="setting",
                variable_level=["ND", "RR"],
                estimate_name="count",
                value=counts,
                margin=f"setting/{group}",
            )
        )
    frames.append(
        make_records(
            analysis="baseline",
            group=["INO vs BLIN", "INO vs BLIN"],
            variable=["setting", "age"],
            estimate_name="smd",
            estimate_type="numeric",
            value=[0.03044234458, 0.1],
        )
    )
    rs = ResultSet.create(pd.concat(frames, ignore_index=True), spec={"name": "t"}, cdm_source="t")
    out = suppress(rs).records
    smd = out[out["estimate_name"] == "smd"].set_index("variable")["suppressed"].to_dict()
    assert smd == {"setting": True, "age": False}
    blin = out[(out["group"] == "BLIN") & (out["estimate_name"] == "count")]
    assert blin["suppressed"].all()


def test_a_cell_covered_only_by_a_headline_count_is_no_complement():
    """seed001: hiding "age: n = 46" (age missing 0) forced the group size 46, then RR."""
    from allrwe.results.margins import _State, parse_margins

    values = np.array([46.0, 0.0, 46.0, 12.0, 34.0])
    fields = ["age|x", "age", "total:age", "x", "x"]
    weights = values + 1.0
    weights[2] *= HEADLINE_WEIGHT  # the group size
    state = _State(values, np.zeros(5, dtype=bool), parse_margins(fields, values), 5, weights)
    # in margin x (46 + 12 + 34) the 12 is the complement, never the age n
    assert state.candidates([0, 3, 4]) == [3, 4]


def test_small_tables_solved_together_choose_what_each_would_alone():
    # 300 one-way tables of 4 to 7 cells: batched into programmes of up to 2,000 cells
    rng = np.random.default_rng(7)
    values_list, tables, offset = [], [], 0
    for _ in range(300):
        size = int(rng.integers(4, 8))
        cells = rng.integers(0, 40, size).astype(float)
        values_list.append(cells)
        tables.append([(list(range(offset, offset + size)), None, True)])
        offset += size
    values = np.concatenate(values_list)
    primary = (values >= 1) & (values < 5)
    weights = values + 1.0
    together = choose_complements(values, primary, tables, weights)
    alone = primary.copy()
    for table in tables:
        alone |= choose_complements(values, primary, [table], weights)
    assert together.tolist() == alone.tolist()
    assert together.sum() > primary.sum()  # complements were chosen
