"""Row labels in words for people: no key, and sentence case at the head of a row."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context
from allrwe.report._view import ResultView
from allrwe.report.labels import label, relabel_section, row_label
from allrwe.report.model import Table
from allrwe.report.sections.safety import safety_section
from allrwe.results import make_records


def _discontinuation() -> pd.DataFrame:
    # seed 001 example (emr CDM, 900 ALL patients): 326 BLIN, 23 stopped for progression
    return pd.concat(
        [
            make_records(analysis="cohort", group="BLIN", variable="persons",
                         estimate_name="count", value=326),
            make_records(analysis="safety_discontinuation", group="BLIN", variable="persons",
                         estimate_name="count", value=326),
            make_records(analysis="safety_discontinuation", group="BLIN",
                         variable=["discontinued_due_to_ae"] * 2 +
                         ["discontinued_for_progression"] * 2,
                         variable_level="yes", estimate_name=["count", "percentage"] * 2,
                         value=[12, 3.68, 23, 7.06]),
        ],
        ignore_index=True,
    )  # fmt: skip


def test_discontinuation_rows_name_the_adverse_event_in_words():
    section = relabel_section(safety_section(Context(ResultView(_discontinuation()), ["BLIN"], 5)))
    (table,) = (b for c in section.children for b in c.blocks if isinstance(b, Table))
    assert [r.cells for r in table.rows] == [
        ("Persons", "326"),
        ("Discontinued due to an adverse event", "12 (3.7%)"),
        ("Discontinued for progression", "23 (7.1%)"),
    ]


def test_a_label_keeps_its_case_in_a_sentence_and_starts_a_row_with_a_capital():
    assert label("discontinued_due_to_ae") == "discontinued due to an adverse event"
    assert label("other_novel_agent") == "other novel agent"
    assert row_label(label("other_novel_agent")) == "Other novel agent"
    assert row_label("blinatumomab → HSCT") == "Blinatumomab → HSCT"
    # a statistic's symbol, genes, abbreviations and signs stay as written
    assert [row_label(x) for x in ("n", "iAMP21", "mRNA", "CAR-T", "≥55", "4+")] == [
        "n", "iAMP21", "mRNA", "CAR-T", "≥55", "4+",
    ]  # fmt: skip


def test_every_row_of_the_demo_report_starts_as_a_journal_heads_it(results, spec, meta):
    from allrwe.report import build_report

    doc = build_report(results, spec, meta)
    heads = [
        r.cells[0]
        for _, s in doc.walk()
        if s.id not in ("methods", "notes")
        for b in s.blocks
        for t in (b, *getattr(b, "blocks", ()))
        if isinstance(t, Table)
        for r in t.rows
    ]
    assert heads
    assert [h for h in heads if h != row_label(h)] == []
    assert "other novel agent" not in heads
