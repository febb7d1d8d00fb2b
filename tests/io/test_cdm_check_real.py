"""The check scoped to what a study reads, on CDMs shaped as real ones are: v5.3, unread tables.

The example CDM, changed as a real load leaves it: ``cdm_source`` of v5.3 (no
``cdm_version_concept_id``, version '5.3.1'), empty ``cost``, ``note_nlp``, ``episode`` and
``payer_plan_period`` tables loaded with text columns, and an empty ``concept_ancestor``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from allrwe.io import connect
from allrwe.io.cdm_spec import load_cdm_spec
from allrwe.io.check import READ_TABLES, check_cdm
from allrwe.io.example import example_cdm_path

UNREAD = ("cost", "note_nlp", "episode", "payer_plan_period")


@pytest.fixture(scope="module")
def real_shaped(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = example_cdm_path("duckdb", tmp_path_factory.mktemp("v53"))
    con = duckdb.connect(str(Path(url.removeprefix("duckdb://"))))
    spec = load_cdm_spec()
    for name in UNREAD:
        columns = ", ".join(f'"{f.name}" VARCHAR' for f in spec.table(name).fields)
        con.execute(f"CREATE TABLE {name} ({columns})")
    con.execute("ALTER TABLE cdm_source DROP COLUMN cdm_version_concept_id")
    con.execute("UPDATE cdm_source SET cdm_version = '5.3.1'")
    con.execute("DELETE FROM concept_ancestor")
    con.close()
    return url


def test_passes_saying_what_it_noticed(real_shaped: str) -> None:
    with connect(real_shaped) as source:
        report = check_cdm(source, read=READ_TABLES)
    assert report.ok
    rules = {(f.severity, f.table, f.rule) for f in report.findings}
    assert ("warning", "cdm_source", "cdm_v53") in rules
    assert ("warning", "cdm_source", "missing_column") in rules
    assert ("warning", "concept_ancestor", "empty_concept_ancestor") in rules
    unread = [f for f in report.findings if f.table in UNREAD and f.severity != "info"]
    assert {f.table for f in unread} == set(UNREAD)
    assert {f.severity for f in unread} == {"warning"}
    assert all("no analysis reads" in f.message for f in unread)
    v53 = next(f for f in report.findings if f.rule == "cdm_v53")
    assert "'5.3.1'" in v53.message
    assert "procedure_end_date" in v53.message


def test_every_table_read_keeps_the_errors(real_shaped: str) -> None:
    with connect(real_shaped) as source:
        report = check_cdm(source)
    assert not report.ok
    assert {f.table for f in report.errors} == {"cdm_source", *UNREAD}


def test_v54_is_not_named_v53(tmp_path: Path) -> None:
    with connect(example_cdm_path("duckdb", tmp_path)) as source:
        report = check_cdm(source, read=READ_TABLES)
    assert not [f for f in report.findings if f.rule in ("cdm_v53", "empty_concept_ancestor")]
