"""Table headers: a group's N overall, a stratum's own n in a stratified table."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context, group_header, slug
from allrwe.report._view import ResultView
from allrwe.results import make_records


def _ctx() -> Context:
    records = pd.concat(
        [
            make_records(
                analysis="cohort", group="INO", variable="persons", estimate_name="count",
                value=219,
            ),
            make_records(
                analysis="baseline", group="INO", strata_name="line", strata_level=["1", "2"],
                variable="persons", variable_level="overall", estimate_name="count",
                value=[30, 189],
            ),
        ],
        ignore_index=True,
    )  # fmt: skip
    return Context(ResultView(records), ["INO"], 5)


def test_overall_table_is_headed_with_the_group_size():
    assert group_header(_ctx(), "INO") == "INO (N = 219)"
    assert group_header(_ctx(), "INO", ("overall", "overall")) == "INO (N = 219)"


def test_stratified_table_is_headed_with_the_stratum_size():
    assert group_header(_ctx(), "INO", ("line", "1")) == "INO (n = 30)"
    assert group_header(_ctx(), "INO", ("line", "2")) == "INO (n = 189)"
    # a stratum whose size is not published: the group alone, never the group's N
    assert group_header(_ctx(), "INO", ("line", "3")) == "INO"


def test_ids_of_levels_differing_by_a_sign_differ():
    assert slug("Ph+") == "ph-pos"
    assert slug("Ph-") == "ph-neg"
    assert slug("<35") == "lt-35"
    assert slug(">=55") == "ge-55"
    assert slug("35 to <55") == "35-to-lt-55"
    assert slug("re-induction") == "re-induction"
