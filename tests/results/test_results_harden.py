"""The attack-and-repair step: a count pinned through a chain of hidden counts is closed.

The records (:func:`disclosure_cases.stratum_chain_records`) rebuild the seed003/seed004
leak: INO Ph+ survival ``n`` = 4 as overall minus the Ph- risk sets of published curves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from allrwe.results import ResultSet, make_records, suppress
from allrwe.results.attack import attack, exposing
from disclosure_cases import LEAKED
from disclosure_cases import stratum_chain_records as _records


def test_per_cell_suppression_leaves_the_stratum_size_to_the_attacker():
    published = suppress(_records(), 5, policy="per_cell").records
    hidden = published.set_index(["strata_level", "analysis", "estimate_name"])["suppressed"]
    assert bool(hidden[("Ph+", "survival_summary", "n")])
    report = attack(published, 5)
    assert [(leak.record, leak.low, leak.high) for leak in report.leaks if "/n" in leak.record][
        :1
    ] == [(LEAKED, 4, 4)]


def test_the_leak_is_reached_only_through_a_chain_of_hidden_counts():
    # hide what margins alone would: Ph+ and its sibling Ph- (the overall row stays)
    records = _records().records
    summary = (records["analysis"] == "survival_summary").to_numpy()
    strata = records["strata_level"].isin(["Ph+", "Ph-"]).to_numpy()
    values = np.where(summary & strata, np.nan, records["value"].to_numpy())
    found, layers = exposing(records.assign(value=values), 5)
    assert LEAKED in [leak.record for leak in found.leaks]
    # the leaked count's own constraints hold no published count; further layers do
    assert len(layers) >= 2
    assert any(key[0] == "survival_curve" for layer in layers for keys, _ in layer for key in keys)


def test_complementary_suppression_closes_the_chain():
    result = suppress(_records(), 5)
    published = result.records
    assert attack(published, 5).leaks == ()
    shown = published.set_index(["analysis", "strata_level", "variable_level", "estimate_name"])
    assert np.isnan(shown.loc[("survival_summary", "Ph+", "overall", "n"), "value"])
    # it hides what the chain runs through, not the whole curve: the last points stay
    assert shown.loc[("survival_curve", "overall", "221", "n_risk"), "value"] == 7.0
    assert shown.loc[("survival_curve", "Ph-", "210", "n_risk"), "value"] == 8.0
    # the censored persons of the Ph+ summary (n - n_event, no curve point) join its n to its
    # deaths: the Ph- deaths are hidden with them; the overall persons and deaths, headlines
    # of Table 2, stay published, and curve counts of the overall row are hidden instead
    assert shown.loc[("survival_summary", "overall", "overall", "n"), "value"] == 22.0
    assert shown.loc[("survival_summary", "overall", "overall", "n_event"), "value"] == 22.0
    assert np.isnan(shown.loc[("survival_summary", "Ph-", "overall", "n_event"), "value"])
    # the overall curve's 5 deaths at day 155 and 22 at risk at day 98, hidden by the repair,
    # protect nothing once the Ph- curve's points are hidden: published again with the other
    # overall counts (:mod:`allrwe.results.republish`); the Ph- points stay hidden
    curve = published[published["analysis"] == "survival_curve"]
    assert not curve.loc[curve["strata_level"] == "overall", "suppressed"].any()
    assert shown.loc[("survival_curve", "overall", "155", "n_event"), "value"] == 5.0
    ph_minus = curve[(curve["strata_level"] == "Ph-") & curve["suppressed"]]
    assert sorted(set(ph_minus["variable_level"])) == ["135", "173", "210"]


#: the demo's BLIN best responses (seed 1): CRh and CRi are small
BEST = {"CR": 10, "CRh": 2, "CRi": 3, "NE": 2, "NR": 5}
RATES = {"cr": 10, "cr_crh": 12, "response": 15}


def _response() -> ResultSet:
    variables, levels, names, values, margins = [], [], [], [], []
    cells = [("best_response", lv, n) for lv, n in BEST.items()]
    cells += [(v, "overall", n) for v, n in RATES.items()]
    for variable, level, n in cells:
        margin = "response/BLIN/overall=overall/best_response" if level != "overall" else ""
        for name, value, token in (
            ("count", n, margin),
            ("denominator", 22, ""),
            ("percentage", 100.0 * n / 22, ""),
        ):
            variables.append(variable)
            levels.append(level)
            names.append(name)
            values.append(float(value))
            margins.append(token)
    records = make_records(
        analysis="response",
        group="BLIN",
        variable=variables,
        variable_level=levels,
        estimate_name=names,
        estimate_type=["percentage" if n == "percentage" else "count" for n in names],
        value=values,
        margin=margins,
    )
    return ResultSet.create(records, spec={"study": "test"}, cdm_source="synthetic")


def test_the_repair_hides_one_response_rate_for_crh_and_cri():
    # CRh = cr_crh - cr and CRi = response - cr_crh: the repair hides cr (keeping the
    # CR/CRh rate, issue 16: the demo hid BLIN's CR/CRh responders), then response for CRi;
    # cr_crh alone protects both, so it is hidden in exchange for cr and response (#16)
    published = suppress(_response(), 5).records
    assert attack(published, 5).leaks == ()
    shown = published.set_index(["variable", "variable_level", "estimate_name"])["value"]
    assert np.isnan(shown[("cr_crh", "overall", "count")])
    assert shown[("cr", "overall", "count")] == 10.0
    assert shown[("response", "overall", "count")] == 15.0
    assert np.isnan(shown[("best_response", "CRh", "count")])


def test_a_leak_the_attacks_of_changed_blocks_miss_is_closed():
    # the seed003 example on a claims CDM of 5,000 persons (seed 2), reduced to 548 INO
    # records: a repair round that attacked only the changed blocks found no leak, while the
    # whole attack recovered the 1..4 censored persons of the prior-HSCT stratum's time to
    # HSCT (n 21, 8 deaths, 9 transplants); "no leak" is now checked by a whole attack
    records = pd.read_parquet(Path(__file__).with_name("partial_attack_records.parquet"))
    result = ResultSet.create(records, spec={"study": "test"}, cdm_source="synthetic")
    published = suppress(result, 5).records
    assert attack(published, 5).leaks == ()
    shown = published.set_index(["analysis", "strata_level", "variable", "estimate_name"])
    assert np.isnan(
        shown.loc[("cumulative_incidence_summary", "yes", "time_to_hsct", "n"), "value"]
    )
