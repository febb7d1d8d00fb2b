"""The data rules on kept rows run in one query, with the same findings as one by one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import ibis
import pytest

import allrwe.io.check as check_module
from allrwe.io.check import STUDY_TABLES, Finding, _run, check_cdm
from allrwe.io.check._context import Check
from allrwe.io.kept import KeptRows
from allrwe.io.source import CdmSource, connect
from mini_cdm import FULL, SCOPED, TODAY, base_cdm, broken_cdm, keep_study_rows, summary

Make = Callable[..., str]


@contextmanager
def counting(source: CdmSource, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record the SQL of every query ``source`` executes inside the block."""
    queries: list[str] = []
    execute = source.execute

    def counted(expr: ibis.Expr) -> Any:
        queries.append(str(source.backend.compile(expr)))
        return execute(expr)

    with monkeypatch.context() as patch:
        patch.setattr(source, "execute", counted)
        yield queries


def one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make check_cdm run each query unit alone and every check, as it did before batching."""
    monkeypatch.setattr(check_module, "_counts_together", lambda source, units: None)
    monkeypatch.setattr(check_module, "_nothing_to_count", lambda check, kept: False)


def test_several_broken_tables_give_the_same_findings_batched_and_one_by_one(
    tmp_cdm: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(tmp_cdm(broken_cdm())) as connection, KeptRows(connection) as source:
        keep_study_rows(source)
        with counting(source, monkeypatch) as batched_queries:
            batched = check_cdm(source, today=TODAY, tables=STUDY_TABLES)
        one_by_one(monkeypatch)
        with counting(source, monkeypatch) as alone_queries:
            alone = check_cdm(source, today=TODAY, tables=STUDY_TABLES)
    assert summary(batched) == SCOPED
    assert batched == alone  # messages, order, checks run and skipped too
    assert batched.checks_run > 60
    # one query for every check on kept rows; the two counts of the whole person and
    # observation_period tables (empty_table) alone
    assert len(batched_queries) == 3
    assert sum("CROSS JOIN" in q.upper() for q in batched_queries) == 1
    # one by one: each scalar check, and one aggregate per base table, measurement's included
    assert len(alone_queries) == 38


def test_without_kept_rows_each_unit_runs_alone(
    tmp_cdm: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(tmp_cdm(broken_cdm())) as connection, KeptRows(connection) as source:
        with counting(source, monkeypatch) as queries:
            full = check_cdm(source, today=TODAY)
        one_by_one(monkeypatch)
        with counting(source, monkeypatch) as alone_queries:
            alone = check_cdm(source, today=TODAY)
    assert summary(full) == FULL
    assert full == alone
    assert len(queries) == len(alone_queries) == 38
    assert not any("CROSS JOIN" in q.upper() for q in queries)


def test_a_check_failing_in_the_batch_is_reported_alone(
    tmp_cdm: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    with connect(tmp_cdm(base_cdm())) as connection, KeptRows(connection) as source:
        kept = source.cache_persons_rows("person", source.table("person"))
        t = kept.table
        bad = ibis.literal("x").cast("int64")
        checks = [
            Check("boom", "warning", "person", None, "{rows}", expr=bad + t.count()),
            Check("counted", "warning", "person", None, "{rows} persons", expr=t.count()),
            Check(
                "big_id",
                "warning",
                "person",
                "person_id",
                "{rows} big ids",
                base=t,
                predicate=t.person_id > 1,
            ),
            Check(
                "boom2",
                "warning",
                "person",
                "person_id",
                "{rows}",
                base=t,
                predicate=t.person_id > bad,
            ),
        ]
        with counting(source, monkeypatch) as queries:
            findings = _run(source, checks, {"person": kept})
    assert [(f.severity, f.rule, f.rows) for f in findings] == [
        ("error", "query_failed", None),
        ("warning", "counted", 3),
        ("warning", "big_id", 2),
        ("error", "query_failed", None),
    ]
    assert findings[0].message.startswith("rule boom could not run on person: ")
    assert findings[3].message.startswith("rule boom2 could not run on person: ")
    assert findings[1:3] == [
        Finding("warning", "person", None, "counted", 3, "3 persons"),
        Finding("warning", "person", "person_id", "big_id", 2, "2 big ids"),
    ]
    # the batch, then each unit alone (boom, counted, the aggregate), then its two checks alone
    assert len(queries) == 6


def test_checks_on_no_kept_row_are_not_run(tmp_cdm: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    cdm = base_cdm()
    cdm["person"][0]["year_of_birth"] = 2050  # in the table, but no person row is kept
    with connect(tmp_cdm(cdm)) as connection, KeptRows(connection) as source:
        person = source.table("person")
        kept = source.cache_persons_rows("person", person.filter(person.person_id < 0))
        whole = source.table("person")
        checks = [
            Check(
                "future",
                "warning",
                "person",
                "year_of_birth",
                "{rows}",
                base=kept.table,
                predicate=kept.table.year_of_birth > 2024,
            ),
            Check("whole", "warning", "person", None, "{rows} in all", expr=whole.count()),
        ]
        with counting(source, monkeypatch) as queries:
            findings = _run(source, checks, {"person": kept})
    assert findings == [Finding("warning", "person", None, "whole", 3, "3 in all")]
    assert len(queries) == 1
