"""The attacker on a merged table: the sums over sites, and the extra suppression it forces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from allrwe.results.attack import attack
from allrwe.results.merge import merge_frames, read_sites
from allrwe.results.merge_attack import HiddenCell, merged_records, secure_merged
from site_dirs import site_folder as _site

_CR = "response/BLIN/overall=overall/cr_rate/CR/count"


@pytest.fixture
def sites(tmp_path: Path) -> tuple[list[str], list]:
    # site b hides its CR count (3 of 20 in truth: below 5); a plain rate, not best_response
    folders = [
        _site(tmp_path, "a", cr="30", n="40", hr=(0.5, 0.3, 0.83), variable="cr_rate"),
        _site(tmp_path, "b", cr="", n="20", hr=(0.9, 0.5, 1.62), variable="cr_rate"),
    ]
    return read_sites(folders)


def _set(merged, column: str, analysis: str, estimate: str, value: float):
    mask = (merged["analysis"] == analysis) & (merged["estimate_name"] == estimate)
    assert mask.sum() == 1
    merged.loc[mask, column] = value
    return merged


def test_records_hold_each_site_under_its_own_group_and_the_pooled_values(sites) -> None:
    names, frames = sites
    records = merged_records(merge_frames(names, frames), dict(zip(names, frames, strict=True)))
    assert sorted(records["group"].unique()) == ["BLIN", "a::BLIN", "b::BLIN"]
    cohort = records[(records["analysis"] == "cohort")].set_index("group")
    assert cohort.loc["BLIN", "value"] == 60  # pooled: 40 + 20
    assert cohort.loc["a::BLIN", "margin"].startswith("sites::cohort/BLIN/")
    assert cohort.loc["BLIN", "margin"] == "total:" + cohort.loc["a::BLIN", "margin"]
    # the pooled CR count is not shown (site b hides it): no pooled record for it
    cr = records[(records["analysis"] == "response") & (records["estimate_name"] == "count")]
    assert sorted(cr["group"]) == ["a::BLIN", "b::BLIN"]
    assert np.isnan(cr.set_index("group").loc["b::BLIN", "value"])


def test_a_correct_merge_gives_nothing_away(sites) -> None:
    names, frames = sites
    _, audit = secure_merged(merge_frames(names, frames), dict(zip(names, frames, strict=True)), 5)
    assert audit.report.ok
    assert audit.report.n_hidden == 1  # site b's CR count
    assert audit.hidden == ()
    assert audit.rounds == 1


def test_a_pooled_count_over_a_hidden_one_is_found_and_hidden(sites) -> None:
    names, frames = sites
    # a merge that wrongly published the CR total: 33 - 30 gives site b's hidden 3 away
    bad = _set(merge_frames(names, frames), "pooled", "response", "count", 33.0)
    by_site = dict(zip(names, frames, strict=True))
    found = attack(merged_records(bad, by_site), 5)
    assert [(leak.record, leak.low, leak.high) for leak in found.leaks] == [
        ("response/b::BLIN/overall=overall/cr_rate/CR/count", 3, 3)
    ]
    fixed, audit = secure_merged(bad, by_site, 5)
    assert audit.report.ok
    assert audit.hidden == (HiddenCell("pooled", _CR),)
    assert audit.rounds == 2
    row = fixed[(fixed["analysis"] == "response") & (fixed["estimate_name"] == "count")]
    assert np.isnan(row["pooled"].iloc[0])
    assert row["a"].iloc[0] == 30  # the sites' own values stay


def test_a_site_count_that_gives_away_a_hidden_one_is_hidden_with_its_rate(sites) -> None:
    names, frames = sites
    # site b's denominator and a published percentage would pin its hidden CR count at 3
    merged = _set(merge_frames(names, frames), "b", "response", "percentage", 15.0)
    fixed, audit = secure_merged(merged, dict(zip(names, frames, strict=True)), 5)
    assert audit.report.ok
    assert audit.hidden == (
        HiddenCell("b", "response/BLIN/overall=overall/cr_rate/CR/denominator"),
    )
    row = fixed[(fixed["analysis"] == "response") & (fixed["estimate_name"] == "percentage")]
    assert np.isnan(row["b"].iloc[0])
