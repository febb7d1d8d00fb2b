"""Crossed strata linked to the rows of their parts, and what suppression makes of them."""

from __future__ import annotations

import pandas as pd

from allrwe.results import ResultSet, make_records, suppress
from allrwe.results.attack import attack
from allrwe.results.links import declare_links

NAMES = ["overall", "setting", "setting", "setting &&& ts", "setting &&& ts", "setting &&& ts"]
LEVELS = ["overall", "RR", "ND", "RR &&& re-induction", "RR &&& consolidation",
          "ND &&& induction"]  # fmt: skip


def _records(values: list[float]) -> pd.DataFrame:
    return make_records(
        analysis="safety_ae",
        group="BLIN",
        strata_name=NAMES,
        strata_level=LEVELS,
        variable="crs",
        variable_level="any grade",
        estimate_name="count",
        value=values,
    )


def test_crossed_levels_are_a_margin_of_their_part() -> None:
    out = declare_links(_records([30, 18, 12, 15, 3, 12])).set_index("strata_level")["margin"]
    key = "crossed/safety_ae/BLIN/crs/any_grade/count/setting_&&&_ts/setting=RR"
    assert f"total:{key}" in out["RR"].split("|")
    assert key in out["RR &&& re-induction"].split("|")
    assert key in out["RR &&& consolidation"].split("|")
    # ND has one crossed level, equal to it: no margin that protects anything
    assert "crossed" not in out["ND"]
    assert "crossed" not in out["ND &&& induction"]


def test_crossed_levels_that_do_not_add_up_get_no_crossed_margin() -> None:
    out = declare_links(_records([30, 18, 12, 15, 2, 12]))
    assert not out["margin"].str.contains("crossed").any()


def test_the_part_minus_a_crossed_level_recovers_nothing_after_suppression() -> None:
    # RR 18 = re-induction 15 + consolidation 3: hiding 3 alone gives it away as 18 - 15
    rs = ResultSet.create(declare_links(_records([30, 18, 12, 15, 3, 12])), spec={"name": "t"},
                          cdm_source="s")  # fmt: skip
    hidden = suppress(rs, 5).records.set_index("strata_level")["value"]
    assert pd.isna(hidden["RR &&& consolidation"])
    assert pd.isna(hidden["RR"]) or pd.isna(hidden["RR &&& re-induction"])
    assert attack(suppress(rs, 5).records, 5).leaks == ()
