"""Hidden headlines published again with covers, releases and exchanges (issue #16).

Each test starts from a hidden state the greedy repair rounds left in the disclosure sweep,
rebuilt on a few hand-made records, and checks what
:func:`allrwe.results.republish.republish_headlines` publishes again:

* the age count of Table 1 equals the group size (no age missing), so it is hidden with the
  group size and hides the age median with it (seed001 emr, 100,000 persons, seed 1: BLIN's
  67 persons and the age, WBC, haemoglobin and platelet counts beside them);
* a stratum of 2 persons is the group size minus the other strata: the group size (and ND
  or RR) was hidden where the other stratum's count covers it (same run: Ph+ & RR of 2
  persons hid BLIN's 67, ND 43 and RR 24);
* nested response rates: with CRh = ``cr_crh`` - ``cr`` and CRi = ``response`` -
  ``cr_crh`` both small, hiding ``cr_crh`` alone protects both, where the repair had hidden
  ``cr`` and ``response``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results import make_records
from allrwe.results.attack import attack
from republication import republish


def _label(records: pd.DataFrame) -> pd.Series:
    return (
        records["strata_name"]
        + "="
        + records["strata_level"]
        + "/"
        + records["variable"]
        + "/"
        + records["variable_level"]
    )


def _republish(records: pd.DataFrame, hide: list[str]) -> tuple[list[str], pd.DataFrame]:
    """Republish from the state hiding the counts labelled ``hide``; the hidden counts after."""
    count = (records["estimate_type"] == "count").to_numpy()
    labels = _label(records)
    hidden = count & labels.isin(hide).to_numpy()
    assert hidden.sum() == len(hide)
    out, shown = republish(records, hidden)
    return sorted(labels[out].tolist()), shown


def _table1() -> pd.DataFrame:
    """A group of 40: age (none missing, with a median), age bands 3 / 20 / 17."""
    counts = make_records(
        analysis="baseline",
        variable=["persons", "age", "age", "age_band", "age_band", "age_band"],
        variable_level=["overall", "missing", "overall", "<35", "35 to <55", ">=55"],
        estimate_name="count",
        value=[40, 0, 40, 3, 20, 17],
        margin=["total:age|total:band", "age", "age", "band", "band", "band"],
    )
    median = make_records(
        analysis="baseline",
        variable="age",
        variable_level="overall",
        estimate_name=["median", "range_low", "range_high"],
        value=[47.0, 22.0, 68.0],
    )
    return pd.concat([counts, median], ignore_index=True)


def test_the_age_count_a_group_size_determines_is_published_with_it():
    records = _table1()
    hidden, shown = _republish(
        records,
        [
            "overall=overall/persons/overall",
            "overall=overall/age/overall",
            "overall=overall/age_band/<35",
            "overall=overall/age_band/35 to <55",
        ],
    )
    # the bands 3 and 20 stay hidden (23 = 40 - 17 leaves <35 anywhere in 1..22); the
    # group size protects nothing, and with it published the age count is 40 - 0
    assert hidden == ["overall=overall/age_band/35 to <55", "overall=overall/age_band/<35"]
    median = shown.loc[shown["estimate_name"] == "median", "value"]
    assert median.tolist() == [47.0]
    assert attack(shown, 5).leaks == ()


def _strata() -> pd.DataFrame:
    """A group of 30 (ND 20, RR 10), its persons by Ph status: Ph+ 2, Ph- 28."""
    return make_records(
        analysis="baseline",
        strata_name=["overall", "overall", "overall", "ph_status", "ph_status"],
        strata_level=["overall", "overall", "overall", "Ph+", "Ph-"],
        variable=["persons", "setting", "setting", "persons", "persons"],
        variable_level=["overall", "ND", "RR", "overall", "overall"],
        estimate_name="count",
        value=[30, 20, 10, 2, 28],
        margin=["total:setting|total:ph", "setting", "setting", "ph", "ph"],
    )


def test_a_small_stratum_hides_the_other_stratum_not_the_group_size():
    records = _strata()
    hidden, shown = _republish(
        records,
        [
            "overall=overall/persons/overall",
            "overall=overall/setting/ND",
            "overall=overall/setting/RR",
            "ph_status=Ph+/persons/overall",
        ],
    )
    # the group size alone would give Ph+ = 30 - 28 away: Ph- (28) is hidden instead, and
    # ND and RR, which then protect nothing, are published too (before: 30 and RR hidden)
    assert hidden == ["ph_status=Ph+/persons/overall", "ph_status=Ph-/persons/overall"]
    assert attack(shown, 5).leaks == ()


def _response() -> pd.DataFrame:
    """Best response CR 14, CRh 2, CRi 3, NR 10 of 29; rates ``cr`` 14, ``cr_crh`` 16,
    ``response`` 19."""
    return make_records(
        analysis="response",
        variable=["best_response"] * 4 + ["cr", "cr_crh", "response"],
        variable_level=["CR", "CRh", "CRi", "NR", "overall", "overall", "overall"],
        estimate_name="count",
        value=[14, 2, 3, 10, 14, 16, 19],
        margin=["best"] * 4 + [""] * 3,
    )


def test_one_nested_rate_is_hidden_in_exchange_for_two():
    records = _response()
    best = [f"overall=overall/best_response/{x}" for x in ("CR", "CRh", "CRi", "NR")]
    hidden, shown = _republish(
        records,
        [*best, "overall=overall/cr/overall", "overall=overall/response/overall"],
    )
    # cr_crh hidden instead: CR = cr = 14 is shown, CRh + CRi = 19 - 14 = 5 leaves each in
    # 1..4; best response CR (14) and NR (10) then protect nothing and are shown too
    small = [f"overall=overall/best_response/{x}" for x in ("CRh", "CRi")]
    assert hidden == sorted([*small, "overall=overall/cr_crh/overall"])
    assert attack(shown, 5).leaks == ()
    # the state the repair left: either rate alone would give CRh or CRi away
    values = records["value"].to_numpy(dtype="float64")
    for rate, level, value in (("cr", "CRh", 2), ("response", "CRi", 3)):
        hide = [*best, f"overall=overall/{'response' if rate == 'cr' else 'cr'}/overall"]
        one = records.assign(value=np.where(_label(records).isin(hide), np.nan, values))
        leaks = attack(one, 5).leaks
        assert [(leak.low, leak.high) for leak in leaks] == [(value, value)], level
