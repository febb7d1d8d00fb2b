"""Adverse events in seed 001's Table 3 layout: term x any grade / grade 1-2 / grade >=3."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.model import Table
from allrwe.report.sections.safety import safety_section
from allrwe.results import make_records


def _records(unknown: int) -> pd.DataFrame:
    levels = ["any grade", "grade 1-2", "grade >=3", "grade unknown"]
    return pd.concat(
        [
            make_records(analysis="cohort", group="INO", variable="persons",
                         estimate_name="count", value=200),
            make_records(analysis="safety_ae", group="INO", variable="persons",
                         estimate_name="count", value=200),
            make_records(
                analysis="safety_ae", group="INO", variable="crs",
                variable_level=[lv for lv in levels for _ in range(2)],
                estimate_name=["count", "percentage"] * 4,
                value=[40, 20.0, 30, 15.0, 10, 5.0, unknown, unknown / 2],
            ),
        ],
        ignore_index=True,
    )  # fmt: skip


def _table(records: pd.DataFrame) -> Table:
    section = safety_section(Context(ResultView(records), ["INO"], 5))
    (table,) = section.children[0].blocks
    assert isinstance(table, Table)
    return table


def test_one_row_per_term_with_grade_bands_as_columns():
    table = _table(_records(0))
    assert table.header == ("Adverse event", "INO (N = 200): any grade", "Grade 1–2", "Grade ≥3")
    assert table.rows[0].cells == ("Persons", "200", "", "")
    assert table.rows[1].cells == ("crs", "40 (20.0%)", "30 (15.0%)", "10 (5.0%)")


def test_grade_unknown_column_only_when_someone_has_it():
    table = _table(_records(6))
    assert table.header[-1] == "Grade unknown"
    assert table.rows[1].cells[-1] == "6 (3.0%)"


def test_deaths_table_says_cause_not_available_when_no_death_has_one():
    from allrwe.analyses.records import status_records

    reason = "no death of the cohort has a cause (death.cause_concept_id 0 or empty)"
    records = pd.concat(
        [
            make_records(analysis="cohort", group="INO", variable="persons",
                         estimate_name="count", value=200),
            make_records(analysis="safety_deaths", group="INO", variable="persons",
                         estimate_name="count", value=200),
            make_records(analysis="safety_deaths", group="INO", variable="death",
                         variable_level="any", estimate_name=["count", "percentage"],
                         value=[12, 6.0]),
            status_records("safety_deaths", ["INO"], reason).assign(variable="death_cause"),
        ],
        ignore_index=True,
    )  # fmt: skip
    section = safety_section(Context(ResultView(records), ["INO"], 5))
    (table,) = section.children[0].blocks
    assert isinstance(table, Table)
    cells = [r.cells for r in table.rows]
    assert ("any", "12 (6.0%)") in cells
    assert ("cause of death", "not available") in cells
    assert any("death.cause_concept_id" in n for n in table.notes)
    assert not any("adverse event anywhere" in n for n in table.notes)


def test_other_aes_row_follows_the_terms_and_precedes_any_ae():
    levels = ["any grade", "grade 1-2", "grade >=3", "grade unknown"]

    def term(name: str, counts: list[int]) -> pd.DataFrame:
        return make_records(
            analysis="safety_ae", group="INO", variable=name,
            variable_level=[lv for lv in levels for _ in range(2)],
            estimate_name=["count", "percentage"] * 4,
            value=[x for c in counts for x in (c, 100 * c / 200)],
        )  # fmt: skip

    counts = {"any_ae": [60, 35, 25, 0], "other_ae": [9, 3, 6, 0], "crs": [40, 30, 10, 0],
              "infection": [12, 4, 8, 0]}  # fmt: skip
    records = pd.concat(
        [
            make_records(analysis="cohort", group="INO", variable="persons",
                         estimate_name="count", value=200),
            make_records(analysis="safety_ae", group="INO", variable="persons",
                         estimate_name="count", value=200),
            *(term(name, c) for name, c in counts.items()),
        ],
        ignore_index=True,
    )  # fmt: skip
    table = _table(records)
    names = [r.cells[0] for r in table.rows[1:]]
    assert names == ["crs", "infection", "other ae", "any ae"]  # labelled later (labels.py)
    other = table.rows[3].cells[1:]
    assert other == tuple(f"{c} ({100 * c / 200:.1f}%)" for c in counts["other_ae"][:3])
