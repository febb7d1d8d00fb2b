"""The check report: ordering, JSON, Rich rendering, and failed queries as findings."""

from __future__ import annotations

import json
from datetime import date

import ibis
from rich.console import Console

from allrwe.io.check import CheckReport, Finding, _run
from allrwe.io.check._context import Check
from allrwe.io.source import connect
from mini_cdm import base_cdm, run_check


def _report() -> CheckReport:
    findings = [
        Finding("warning", "measurement", "value_as_number", "negative_lab_value", 2, "two"),
        Finding("info", "drug_exposure", "sig", "column_type", 0, "note"),
        Finding("error", "person", None, "missing_table", None, "no person"),
        Finding("error", "drug_exposure", "drug_exposure_end_date", "end_before_start", 3, "three"),
    ]
    return CheckReport.build(
        findings,
        source="duckdb:x.duckdb",
        kind="duckdb",
        today=date(2024, 1, 1),
        tables=("drug_exposure", "measurement"),
        checks_run=10,
        checks_skipped=2,
    )


def test_findings_sorted_by_severity_then_table():
    report = _report()
    assert [(f.severity, f.table) for f in report.findings] == [
        ("error", "drug_exposure"),
        ("error", "person"),
        ("warning", "measurement"),
        ("info", "drug_exposure"),
    ]
    assert report.exit_code == 1
    assert not report.ok
    assert [f.rule for f in report.errors] == ["end_before_start", "missing_table"]
    assert report.find("column_type", table="drug_exposure", column="sig")[0].rows == 0


def test_json_and_summary():
    report = _report()
    data = json.loads(report.to_json())
    assert data["summary"] == {"error": 2, "warning": 1, "info": 1}
    assert data["today"] == "2024-01-01"
    assert data["checks_run"] == 10
    assert data["checks_skipped"] == 2
    assert data["findings"][0] == {
        "severity": "error",
        "table": "drug_exposure",
        "column": "drug_exposure_end_date",
        "rule": "end_before_start",
        "rows": 3,
        "message": "three",
    }
    assert report.summary() == (
        "duckdb:x.duckdb fails the check: 2 error(s), 1 warning(s), 1 note(s); "
        "10 checks run, 2 skipped"
    )


def test_rich_table():
    console = Console(record=True, width=200)
    console.print(_report())
    text = console.export_text()
    assert "end_before_start" in text
    assert "missing_table" in text
    assert "fails the check" in text


def test_same_cdm_same_report(tmp_cdm):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2019-06-01"
    first = run_check(tmp_cdm, cdm).to_json()
    assert run_check(tmp_cdm, cdm).to_json().replace("cdm1", "cdm0") == first


def test_a_failing_query_becomes_a_finding(tmp_cdm):
    url = tmp_cdm(base_cdm())
    with connect(url) as cdm:
        person = cdm.table("person")
        bad = ibis.literal("x").cast("int64")
        checks = [
            Check("boom", "warning", "person", None, "{rows}", expr=bad + person.count()),
            Check(
                "ok",
                "warning",
                "person",
                None,
                "{rows} ok",
                base=person,
                predicate=person.person_id > 1,
            ),
            Check(
                "boom2",
                "warning",
                "person",
                "x",
                "{rows}",
                base=person,
                predicate=person.person_id > bad,
            ),
        ]
        findings = _run(cdm, checks)
    by_rule = {(f.rule, f.message.split(":")[0]) for f in findings}
    assert by_rule == {
        ("query_failed", "rule boom could not run on person"),
        ("query_failed", "rule boom2 could not run on person"),
        ("ok", "2 ok"),
    }
    assert all(f.severity == "error" for f in findings if f.rule == "query_failed")
