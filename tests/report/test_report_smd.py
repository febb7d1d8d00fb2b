"""Table 1's SMD of a variable nobody has a value for reads NE, never 0.000.

Numbers of the seed 000 example on a claims CDM (issue #20 review): BLIN 373, INO 356
persons; claims record no CNS involvement, so both groups are 100 % unknown and the analysis'
SMD is 0.0 (two equal distributions); sex is recorded (SMD 0.064).
"""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.model import Table
from allrwe.report.sections.smd import SMD_NO_VALUE_NOTE, no_value_smds, nobody_with_a_value
from allrwe.report.structure import baseline_section
from allrwe.results import make_records

_SIZES = {"BLIN": 373, "INO": 356}
_COUNTS = {
    ("cns_involvement", "BLIN"): {"yes": 0, "no": 0, "unknown": 373},
    ("cns_involvement", "INO"): {"yes": 0, "no": 0, "unknown": 356},
    ("sex", "BLIN"): {"male": 204, "female": 169, "unknown": 0},
    ("sex", "INO"): {"male": 206, "female": 150, "unknown": 0},
}


def _records(hidden_no: bool = False) -> pd.DataFrame:
    parts = []
    for group, n in _SIZES.items():
        parts += [
            make_records(analysis="cohort", group=group, variable="persons",
                         estimate_name="count", value=n),
            make_records(analysis="baseline", group=group, variable="persons",
                         estimate_name="count", value=n),
        ]  # fmt: skip
    for (variable, group), counts in _COUNTS.items():
        rec = make_records(analysis="baseline", group=group, variable=variable,
                           variable_level=list(counts), estimate_name="count",
                           value=list(counts.values()))  # fmt: skip
        if hidden_no and variable == "cns_involvement" and group == "INO":
            # a hidden count could be a person with a value
            rec["suppressed"] = rec["variable_level"] == "no"
        parts.append(rec)
    smd = make_records(analysis="baseline", group="INO vs BLIN",
                       variable=["cns_involvement", "sex"], estimate_name="smd",
                       value=[0.0, 0.064])  # fmt: skip
    parts.append(smd)
    return pd.concat(parts, ignore_index=True)


def _table_one(records: pd.DataFrame) -> Table:
    section = baseline_section(Context(ResultView(records), ["BLIN", "INO"], 5))
    table = section.blocks[0]
    assert isinstance(table, Table)
    return table


def _smd(table: Table, row: str) -> str:
    return next(r.cells[-1] for r in table.rows if r.cells[0] == row)


def test_smd_of_a_variable_unknown_for_everyone_is_not_estimable():
    table = _table_one(_records())
    assert table.header[-1] == "SMD INO vs BLIN"
    assert _smd(table, "CNS involvement") == "NE"
    assert _smd(table, "Sex") == "0.064"
    assert SMD_NO_VALUE_NOTE in table.notes


def test_a_hidden_count_may_be_a_value_so_the_smd_stays():
    records = _records(hidden_no=True)
    assert ("INO", "overall", "overall", "cns_involvement") not in nobody_with_a_value(records)
    assert not no_value_smds(records).any()
    table = _table_one(records)
    assert _smd(table, "CNS involvement") == "0.000"
    assert SMD_NO_VALUE_NOTE not in table.notes


def test_the_records_keep_the_analysis_value():
    records = _records()
    mask = no_value_smds(records)
    assert records.loc[mask, "variable"].tolist() == ["cns_involvement"]
    assert records.loc[mask, "value"].tolist() == [0.0]
