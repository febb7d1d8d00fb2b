"""Table 1 percentages give the group size away, and with it a hidden level.

Found by the disclosure sweep (seed003 example, 100,000-person claims CDM, seed 1): INO's
8 persons were hidden, but ``sex`` male 5 was published with 62.5 %, so the group has
5 / 0.625 = 8 persons and the hidden female count is 8 - 5 - 0 = 3. The attacker gave the
percentages of a variable a hidden denominator of their own, never tied to the persons
count whose margin the levels add up to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.results import ResultSet, make_records, suppress
from allrwe.results.attack import attack

SEX = {"female": 3, "male": 5, "unknown": 0}
PERSONS = sum(SEX.values())


def _records() -> pd.DataFrame:
    counts = make_records(
        analysis="baseline",
        group="INO",
        variable=["persons", *["sex"] * len(SEX)],
        variable_level=["overall", *SEX],
        estimate_name="count",
        value=[PERSONS, *SEX.values()],
        margin=["total:sex", *["sex"] * len(SEX)],
    )
    shares = make_records(
        analysis="baseline",
        group="INO",
        variable="sex",
        variable_level=list(SEX),
        estimate_name="percentage",
        value=[100.0 * n / PERSONS for n in SEX.values()],
    )
    return pd.concat([counts, shares], ignore_index=True)


def test_a_published_percentage_gives_the_hidden_group_size_and_level_away():
    records = _records()
    hide = records["variable_level"].eq("female") | records["variable"].eq("persons")
    leaks = attack(records.assign(value=np.where(hide, np.nan, records["value"])), 5).leaks
    female = [leak for leak in leaks if "/sex/female/count" in leak.record]
    assert [(leak.low, leak.high) for leak in female] == [(SEX["female"], SEX["female"])]


def test_suppression_hides_the_percentage_that_would_give_it_away():
    result = suppress(ResultSet.create(_records(), spec={"name": "t"}, cdm_source="t"), 5)
    published = result.records
    assert attack(published, 5).leaks == ()
    shown = published.set_index(["variable", "variable_level", "estimate_name"])["value"]
    assert np.isnan(shown[("sex", "female", "count")])
    # with the male count and its percentage both shown, the group size (5 / 62.5 %) and
    # so the female count would follow: one of them is hidden
    male = shown[("sex", "male", "count")], shown[("sex", "male", "percentage")]
    assert np.isnan(male).any()
