"""Strata and nested-response links declared as margins, and what suppression makes of them."""

from __future__ import annotations

import pandas as pd

from allrwe.results import ResultSet, make_records, suppress
from allrwe.results.attack import attack
from allrwe.results.links import declare_links


def _records(values: list[float]) -> pd.DataFrame:
    return make_records(
        analysis="survival_summary",
        group="A",
        strata_name=["overall", "age", "age", "age"],
        strata_level=["overall", "<55", "55-64", ">=65"],
        variable="os",
        estimate_name="n_event",
        value=values,
    )


def _events(values: list[float]) -> ResultSet:
    return ResultSet.create(declare_links(_records(values)), spec={"name": "t"}, cdm_source="s")


def test_strata_levels_become_a_margin_of_the_overall_row():
    out = declare_links(_records([17, 7, 9, 1])).set_index("strata_level")["margin"]
    key = "strata/survival_summary/A/os/overall/n_event/age"
    assert out.to_dict() == {"overall": f"total:{key}", "<55": key, "55-64": key, ">=65": key}


def test_strata_that_do_not_add_up_get_no_margin():
    assert declare_links(_records([20, 7, 9, 1]))["margin"].tolist() == ["", "", "", ""]


def test_overall_minus_levels_recovers_nothing_after_suppression():
    # the attack: OS deaths 17 overall, age bands 7 + 9 + hidden -> 1 death at >= 65
    hidden = suppress(_events([17, 7, 9, 1]), 5).records.set_index("strata_level")
    assert hidden["value"].isna().to_dict() == {
        "overall": False,
        "<55": True,
        "55-64": False,
        ">=65": True,
    }
    hidden = hidden.reset_index()
    assert attack(hidden, 5).leaks == ()
    # primary suppression alone hides only the small cell: the attack gives it back
    leaks = attack(suppress(_events([17, 7, 9, 1]), 5, policy="per_cell").records, 5).leaks
    assert [(leak.low, leak.high) for leak in leaks] == [(1, 1)]


def test_best_response_rates_are_protected_by_the_attack_and_repair():
    names = ["CR", "CRh", "CRi", "NR"]
    rec = make_records(
        analysis="response",
        group="A",
        variable=["best_response"] * 4 + ["cr", "cr_crh", "response"],
        variable_level=[*names, "overall", "overall", "overall"],
        estimate_name="count",
        value=[40, 2, 6, 30, 40, 42, 48],
    )
    assert declare_links(rec)["margin"].tolist() == [""] * 7  # response: no declared link
    rs = ResultSet.create(rec, spec={"name": "t"}, cdm_source="s")
    # CRh = cr_crh - cr = 2 with primary suppression only
    weak = attack(suppress(rs, 5, policy="per_cell").records, 5).leaks
    assert [(leak.record, leak.low, leak.high) for leak in weak] == [
        ("response/A/overall=overall/best_response/CRh/count", 2, 2)
    ]
    records = suppress(rs, 5).records
    assert records["value"].isna().sum() >= 2
    assert attack(records, 5).leaks == ()


def test_suppression_hides_what_the_attacker_reads_beyond_the_margins():
    # attrition without declared margins: persons 366 -> 364 give the hidden 2 excluded away
    rec = make_records(
        analysis="attrition",
        group="BLIN",
        variable="step",
        variable_level=["01 index", "02 age", "02 age"],
        estimate_name=["n_persons", "n_excluded", "n_persons"],
        estimate_type="count",
        value=[366, 2, 364],
    )
    rs = ResultSet.create(rec, spec={"name": "t"}, cdm_source="s")
    assert [
        leak.describe() for leak in attack(suppress(rs, 5, policy="per_cell").records, 5).leaks
    ] == ["attrition/BLIN/overall=overall/step/02 age/n_excluded = 2 (attrition)"]
    hidden = suppress(rs, 5).records.set_index(["variable_level", "estimate_name"])["value"]
    assert hidden.isna().to_dict() == {
        ("01 index", "n_persons"): False,
        ("02 age", "n_excluded"): True,
        ("02 age", "n_persons"): True,
    }
    assert attack(suppress(rs, 5).records, 5).ok
