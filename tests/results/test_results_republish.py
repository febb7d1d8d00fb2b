"""Headline counts hidden without need are published again (allrwe.results.republish).

The records: a group of 40 persons (a headline) and its age bands 3 / 20 / 17, whose
total is the group size. Hiding the small band and one other band protects it; hiding the
group size as well protects nothing more. The sweep met the same case at scale (seed000
example, 5,000-person emr CDM, seed 1: RR = 7 of 39 hidden beside a hidden ND and group
size).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results import make_records, suppress
from allrwe.results.attack import attack
from allrwe.results.margins import parse_margins
from allrwe.results.republish import republish_headlines
from allrwe.results.suppression import _Hiding, cell_weights

BANDS = {"<35": 3, "35 to <55": 20, ">=55": 17}


def _records() -> pd.DataFrame:
    persons = sum(BANDS.values())
    counts = make_records(
        analysis="baseline",
        variable=["persons", *["age_band"] * len(BANDS)],
        variable_level=["overall", *BANDS],
        estimate_name="count",
        value=[persons, *BANDS.values()],
        margin=["total:age", *["age"] * len(BANDS)],
    )
    shares = make_records(
        analysis="baseline",
        variable="age_band",
        variable_level=list(BANDS),
        estimate_name="percentage",
        value=[100.0 * n / persons for n in BANDS.values()],
    )
    return pd.concat([counts, shares], ignore_index=True)


def _republished(hide: list[str], swaps: bool = True) -> list[str]:
    records = _records()
    values = records["value"].to_numpy(dtype="float64")
    count = (records["estimate_type"] == "count").to_numpy()
    hidden = count & records["variable_level"].isin(hide).to_numpy()
    if "persons" in hide:
        hidden |= count & (records["variable"] == "persons").to_numpy()
    weights = cell_weights(records)
    margins = parse_margins(records["margin"].tolist(), values)
    out = republish_headlines(
        records, values, hidden, weights, 5, _Hiding(records), margins, swaps=swaps
    )
    levels = records["variable"] + "/" + records["variable_level"]
    return sorted(levels[out].tolist())


def test_a_group_size_that_protects_nothing_is_published_again():
    # <35 = 3 and 35 to <55 = 20 hidden: their sum 23 = 40 - 17 leaves <35 anywhere in 1..22
    assert _republished(["<35", "35 to <55", "persons"]) == [
        "age_band/35 to <55",
        "age_band/<35",
    ]


def test_a_group_size_that_protects_a_small_count_stays_hidden_without_a_cover():
    # with 35 to <55 and >=55 published, the group size would give <35 = 40 - 37 = 3 away
    assert _republished(["<35", "persons"], swaps=False) == ["age_band/<35", "persons/overall"]
    # with covers (allowed by default), a band is hidden instead: the lighter 17
    assert _republished(["<35", "persons"]) == ["age_band/<35", "age_band/>=55"]
    records = _records()
    shown = records.assign(
        value=np.where(records["variable_level"] == "<35", np.nan, records["value"])
    )
    leaks = attack(shown, 5).leaks
    assert [(leak.low, leak.high) for leak in leaks] == [(BANDS["<35"], BANDS["<35"])]


def test_suppression_keeps_the_group_size_and_leaks_nothing():
    from allrwe.results import ResultSet

    result = suppress(ResultSet.create(_records(), spec={"name": "t"}, cdm_source="synthetic"), 5)
    published = result.records
    assert attack(published, 5).leaks == ()
    persons = published.loc[published["variable"] == "persons", "value"]
    assert persons.tolist() == [float(sum(BANDS.values()))]


def test_a_margin_without_a_total_record_keeps_its_total_known():
    # setting ND/RR = 3/123 with no total record: the total (126) counts as published
    # elsewhere, so RR shown would give ND = 126 - 123 = 3 away, though no record says so
    records = make_records(
        analysis="baseline",
        variable="setting",
        variable_level=["ND", "RR"],
        estimate_name="count",
        value=[3, 123],
        margin="setting",
    )
    values = records["value"].to_numpy(dtype="float64")
    hidden = np.array([True, True])
    margins = parse_margins(records["margin"].tolist(), values)
    weights = cell_weights(records)
    out = republish_headlines(records, values, hidden, weights, 5, _Hiding(records), margins)
    assert out.tolist() == [True, True]
    # the attacker alone, without the margin convention, would have let RR go
    assert attack(records.assign(value=[np.nan, 123.0]), 5).leaks == ()
