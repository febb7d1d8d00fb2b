"""``check_cdm(tables=..., data=...)``: data rules on some tables, on the rows a study keeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from allrwe.cohort import extract_events
from allrwe.io.check import STUDY_TABLES, CheckReport, check_cdm
from allrwe.io.kept import KeptRows
from allrwe.io.source import connect
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from mini_cdm import TODAY, base_cdm, only

BLIN, INO = 45892531, 794068  # drug_exposure rows 0 (person 1) and 1 (person 2) of the mini CDM

Make = Callable[..., str]


@pytest.fixture(scope="module")
def blin_only() -> Vocabulary:
    """A vocabulary whose one set is blinatumomab: extraction keeps row 0 of drug_exposure."""
    return Vocabulary(sets={"blinatumomab": load_vocabulary().sets["blinatumomab"]}, groups={})


@contextmanager
def opened(make: Make, tables: dict[str, Any], kind: str = "duckdb") -> Iterator[KeptRows]:
    with connect(make(tables, kind=kind)) as connection, KeptRows(connection) as cdm:
        yield cdm


def full_and_scoped(
    make: Make, tables: dict[str, Any], vocab: Vocabulary, *, kind: str = "duckdb"
) -> tuple[CheckReport, CheckReport]:
    """The check of every row, then the check of the study tables after extraction."""
    with opened(make, tables, kind) as cdm:
        full = check_cdm(cdm, today=TODAY)
        kept = extract_events(cdm, vocab)
        assert kept == {"drug_exposure": 1}
        scoped = check_cdm(cdm, today=TODAY, tables=STUDY_TABLES)
    return full, scoped


def rows_of(report: CheckReport, rule: str, table: str = "drug_exposure") -> list[int | None]:
    return [f.rows for f in report.find(rule, table=table)]


def test_clean_cdm_scoped(tmp_cdm: Make, blin_only: Vocabulary) -> None:
    full, scoped = full_and_scoped(tmp_cdm, base_cdm(), blin_only)
    assert full.findings == scoped.findings == ()
    assert 0 < scoped.checks_run < full.checks_run
    # the kept drug rows hold fewer columns: the rules on the others are skipped, not failed
    assert scoped.checks_skipped > full.checks_skipped


@pytest.mark.parametrize("kind", ["duckdb", "parquet"])
def test_end_before_start_inside_and_outside_the_kept_rows(
    tmp_cdm: Make, blin_only: Vocabulary, kind: str
) -> None:
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2019-12-30"  # BLIN: kept
    cdm["drug_exposure"][1]["drug_exposure_end_date"] = "2020-01-31"  # INO: not kept
    full, scoped = full_and_scoped(tmp_cdm, cdm, blin_only, kind=kind)
    assert rows_of(full, "end_before_start") == [2]
    assert rows_of(scoped, "end_before_start") == [1]
    assert not full.ok
    assert not scoped.ok


def test_defect_only_in_a_kept_row_is_reported_by_both(
    tmp_cdm: Make, blin_only: Vocabulary
) -> None:
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2019-12-30"
    cdm["drug_exposure"][0]["person_id"] = 987654
    full, scoped = full_and_scoped(tmp_cdm, cdm, blin_only)
    for report in (full, scoped):
        f = only(report, "end_before_start")
        assert (f.severity, f.table, f.column, f.rows) == (
            "error",
            "drug_exposure",
            "drug_exposure_end_date",
            1,
        )
        f = only(report, "unknown_person")
        assert (f.table, f.column, f.rows) == ("drug_exposure", "person_id", 1)


def test_defect_only_outside_the_kept_rows_is_reported_by_the_full_check(
    tmp_cdm: Make, blin_only: Vocabulary
) -> None:
    cdm = base_cdm()
    cdm["drug_exposure"][1]["drug_exposure_end_date"] = "2020-01-31"
    cdm["drug_exposure"][1]["person_id"] = 987654
    full, scoped = full_and_scoped(tmp_cdm, cdm, blin_only)
    assert rows_of(full, "end_before_start") == [1]
    assert rows_of(full, "unknown_person") == [1]
    assert scoped.find("end_before_start") == []
    assert scoped.find("unknown_person") == []
    assert scoped.findings == ()
    assert scoped.ok
    assert not full.ok


def test_duplicate_ids_inside_and_outside_the_kept_rows(
    tmp_cdm: Make, blin_only: Vocabulary
) -> None:
    cdm = base_cdm()
    blin, ino = cdm["drug_exposure"]
    cdm["drug_exposure"] += [
        dict(blin, drug_exposure_id=5),
        dict(blin, drug_exposure_id=5),  # two kept rows share an id
        dict(ino, drug_exposure_id=6),
        dict(ino, drug_exposure_id=6),  # two rows outside share another
    ]
    with opened(tmp_cdm, cdm) as source:
        full = check_cdm(source, today=TODAY)
        assert extract_events(source, blin_only) == {"drug_exposure": 3}
        scoped = check_cdm(source, today=TODAY, tables=STUDY_TABLES)
    assert rows_of(full, "duplicate_primary_key") == [4]
    assert rows_of(scoped, "duplicate_primary_key") == [2]


def test_without_kept_rows_the_listed_tables_are_checked_whole(tmp_cdm: Make) -> None:
    cdm = base_cdm()
    cdm["drug_exposure"][1]["drug_exposure_end_date"] = "2020-01-31"
    with opened(tmp_cdm, cdm) as source:
        full = check_cdm(source, today=TODAY)
        scoped = check_cdm(source, today=TODAY, tables=STUDY_TABLES)
    assert rows_of(full, "end_before_start") == rows_of(scoped, "end_before_start") == [1]
    assert scoped.checks_skipped == full.checks_skipped


def test_kept_columns_limit_the_rules(tmp_cdm: Make) -> None:
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2019-12-30"
    cdm["drug_exposure"][0]["drug_type_concept_id"] = None
    with opened(tmp_cdm, cdm) as source:
        full = check_cdm(source, today=TODAY)
        # rows of BLIN, without the end date and the type: their rules cannot run
        source.cache_rows(
            "drug_exposure",
            match=["drug_concept_id"],
            ids=[BLIN],
            columns=[
                "drug_exposure_id",
                "person_id",
                "drug_concept_id",
                "drug_exposure_start_date",
            ],
        )
        scoped = check_cdm(source, today=TODAY, tables=["drug_exposure"])
        whole_person = check_cdm(source, today=TODAY, tables=["person"])
    assert rows_of(full, "end_before_start") == [1]
    assert rows_of(full, "null_required") == [1]
    assert scoped.find("end_before_start") == []
    assert scoped.find("null_required") == []
    assert scoped.find("query_failed") == []
    assert scoped.findings == ()
    assert scoped.checks_skipped > full.checks_skipped
    assert 0 < scoped.checks_run < full.checks_run
    # a list without drug_exposure runs none of its rules
    assert whole_person.findings == ()
    assert 0 < whole_person.checks_run < full.checks_run


def _visit(vid: int, start: str, end: str) -> dict[str, Any]:
    return {
        "visit_occurrence_id": vid,
        "person_id": 1,
        "visit_concept_id": 9201,
        "visit_start_date": start,
        "visit_end_date": end,
        "visit_type_concept_id": 32817,
    }


def test_tables_leave_out_visit_occurrence(tmp_cdm: Make, blin_only: Vocabulary) -> None:
    cdm = base_cdm()
    cdm["visit_occurrence"] = [
        _visit(1, "2020-01-01", "2020-01-03"),
        _visit(2, "2020-03-05", "2020-03-01"),  # ends before it starts
    ]
    with opened(tmp_cdm, cdm) as source:
        full = check_cdm(source, today=TODAY)
        with_visits = check_cdm(source, today=TODAY, tables=[*STUDY_TABLES, "visit_occurrence"])
        extract_events(source, blin_only)
        scoped = check_cdm(source, today=TODAY, tables=STUDY_TABLES)
    f = only(full, "end_before_start")
    assert (f.table, f.column, f.rows) == ("visit_occurrence", "visit_end_date", 1)
    assert rows_of(with_visits, "end_before_start", "visit_occurrence") == [1]
    assert scoped.find("end_before_start") == []
    assert scoped.findings == ()
    assert "visit_occurrence" in scoped.tables  # structure still sees every table
    assert with_visits.checks_run > scoped.checks_run > 0


def test_structure_only_runs_no_data_rule(tmp_cdm: Make) -> None:
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2019-12-30"
    cdm["drug_exposure"][1]["drug_exposure_id"] = 1  # a duplicate id
    cdm["drug_exposure"][1]["person_id"] = 987654
    for row in cdm["condition_occurrence"]:
        del row["condition_start_date"]  # a required column
    with opened(tmp_cdm, cdm) as source:
        full = check_cdm(source, today=TODAY)
        structure = check_cdm(source, today=TODAY, data=False)
        scoped_structure = check_cdm(source, today=TODAY, data=False, tables=STUDY_TABLES)
    assert structure.checks_run == scoped_structure.checks_run == 0
    f = only(structure, "missing_column")
    assert (f.severity, f.table, f.column) == (
        "error",
        "condition_occurrence",
        "condition_start_date",
    )
    assert structure.findings == scoped_structure.findings == (f,)
    assert not structure.ok
    assert full.checks_run > 0
    assert {g.rule for g in full.findings} >= {
        "missing_column",
        "end_before_start",
        "duplicate_primary_key",
        "unknown_person",
    }


def test_structure_only_of_a_clean_cdm(tmp_cdm: Make) -> None:
    with opened(tmp_cdm, base_cdm()) as source:
        report = check_cdm(source, today=TODAY, data=False)
    assert report.findings == ()
    assert report.ok
    assert report.checks_run == 0


def test_table_names_in_any_case_use_the_kept_rows(tmp_cdm: Callable[..., str]) -> None:
    cdm = base_cdm()
    bad = dict(cdm["drug_exposure"][0])
    bad["drug_exposure_id"] = 999
    bad["drug_concept_id"] = 4242  # outside what is kept
    bad["drug_exposure_end_date"] = "1990-01-01"
    cdm["drug_exposure"].append(bad)
    with connect(tmp_cdm(cdm)) as connection, KeptRows(connection) as source:
        kept_ids = {int(r["drug_concept_id"]) for r in cdm["drug_exposure"][:-1]}
        source.cache_rows(
            "drug_exposure",
            match=["drug_concept_id"],
            ids=kept_ids,
            columns=[
                "drug_exposure_id",
                "person_id",
                "drug_concept_id",
                "drug_exposure_start_date",
                "drug_exposure_end_date",
            ],
        )
        lower = check_cdm(source, today=TODAY, tables=["drug_exposure"])
        upper = check_cdm(source, today=TODAY, tables=["DRUG_EXPOSURE"])
        full = check_cdm(source, today=TODAY)
    assert not lower.find("end_before_start")
    assert not upper.find("end_before_start")
    assert [f.rows for f in full.find("end_before_start")] == [1]


def test_no_kept_person_is_not_an_empty_person_table(tmp_cdm: Callable[..., str]) -> None:
    with connect(tmp_cdm(base_cdm())) as connection, KeptRows(connection) as source:
        person = source.table("person")
        nobody = person.filter(person.person_id < 0)
        kept = source.cache_persons_rows("person", nobody)
        assert kept.rows == 0
        scoped = check_cdm(source, today=TODAY, tables=["person"])
    # the person table is not empty (test_cdm_check_rules covers one that is); the study
    # just reads none of its rows
    assert scoped.find("empty_table") == []
