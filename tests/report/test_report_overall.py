"""The Overall column: headed with its size, and the table says what it counts.

Numbers of the seed 004 example on the ohdsi CDM (issue #20 review, Table 97): BLIN 190 and
INO 208 persons, 25 of them in both groups, 24 of whom started with INO; Overall counts each
person once at their earliest index date, 373. Of BLIN's 10 persons with neurotoxicity in the
treatment window, 2 started with INO, whose window had none: Overall counts 8.
"""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import OVERALL_NOTE, Context
from allrwe.report._view import ResultView
from allrwe.report.model import Table
from allrwe.report.sections.safety import safety_section
from allrwe.report.structure import baseline_section
from allrwe.results import make_records

_SIZES = {"BLIN": 190, "INO": 208, "overall": 373}
_NEUROTOXICITY = {"BLIN": 10, "INO": 0, "overall": 8}


def _records() -> pd.DataFrame:
    parts = []
    for g, n in _SIZES.items():
        k = _NEUROTOXICITY[g]
        parts += [
            make_records(analysis="safety_ae", group=g, variable="persons",
                         estimate_name="count", value=n),
            make_records(analysis="safety_ae", group=g, variable="neurotoxicity",
                         variable_level=["any grade", "any grade"],
                         estimate_name=["count", "percentage"], value=[k, 100 * k / n]),
            make_records(analysis="baseline", group=g, variable="persons",
                         estimate_name="count", value=n),
            make_records(analysis="baseline", group=g, variable="sex",
                         variable_level=["female", "male"], estimate_name="count",
                         value=[n // 2, n - n // 2]),
        ]  # fmt: skip
        if g != "overall":
            size = make_records(analysis="cohort", group=g, variable="persons",
                                estimate_name="count", value=n)  # fmt: skip
            parts.append(size)
    return pd.concat(parts, ignore_index=True)


def test_the_overall_column_of_the_ae_table_has_its_size_and_its_definition():
    section = safety_section(Context(ResultView(_records()), ["BLIN", "INO"], 5))
    (table,) = section.children[0].blocks
    assert isinstance(table, Table)
    assert [h for h in table.header if h.endswith(": any grade")] == [
        "BLIN (N = 190): any grade",
        "INO (N = 208): any grade",
        "Overall (N = 373): any grade",
    ]
    row = next(r.cells for r in table.rows if r.cells[0] == "neurotoxicity")
    assert row[1::3] == ("10 (5.3%)", "0 (0.0%)", "8 (2.1%)")  # below BLIN's: see the note
    assert OVERALL_NOTE in table.notes
    assert "earliest index date" in OVERALL_NOTE


def test_table_one_heads_overall_with_its_size_and_states_its_definition():
    table = baseline_section(Context(ResultView(_records()), ["BLIN", "INO"], 5)).blocks[0]
    assert isinstance(table, Table)
    assert table.header[1:4] == ("BLIN (N = 190)", "INO (N = 208)", "Overall (N = 373)")
    assert OVERALL_NOTE in table.notes


def test_one_group_has_no_overall_column_and_no_note():
    records = _records()
    records = records[records["group"].isin(["BLIN", "overall"])]
    section = safety_section(Context(ResultView(records), ["BLIN"], 5))
    (table,) = section.children[0].blocks
    assert isinstance(table, Table)
    assert not any(h.startswith("Overall") for h in table.header)
    assert OVERALL_NOTE not in table.notes
