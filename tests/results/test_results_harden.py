"""The attack-and-repair step: a count pinned through a chain of hidden counts is closed.

The records (:func:`disclosure_cases.stratum_chain_records`) rebuild the seed003/seed004
leak: INO Ph+ survival ``n`` = 4 as overall minus the Ph- risk sets of published curves.
"""

from __future__ import annotations

import numpy as np

from allrwe.results import suppress
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
    assert any(key[0] == "survival_curve" for layer in layers for keys in layer for key in keys)


def test_complementary_suppression_closes_the_chain():
    result = suppress(_records(), 5)
    published = result.records
    assert attack(published, 5).leaks == ()
    shown = published.set_index(["analysis", "strata_level", "variable_level", "estimate_name"])
    assert np.isnan(shown.loc[("survival_summary", "Ph+", "overall", "n"), "value"])
    # it hides what the chain runs through, not the whole curve: the last points stay
    assert shown.loc[("survival_curve", "overall", "221", "n_risk"), "value"] == 7.0
    assert shown.loc[("survival_curve", "Ph-", "210", "n_risk"), "value"] == 8.0
    assert shown.loc[("survival_summary", "overall", "overall", "n_event"), "value"] == 17.0
