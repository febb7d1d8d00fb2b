"""A Circe cohort (PhenotypeLibrary 213) generated in the engine through duckcdm (allrwe[circe])."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from allrwe.cohort.external import check_temporary_only, circe_rows, cohort_rows
from allrwe.errors import BackendUnavailableError, CdmDataError
from allrwe.io import CdmSource
from allrwe.io.source import connect
from allrwe.spec import CohortRef
from circe_cdm import DEFINITION, EXPECTED, write_circe_cdm


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CdmSource]:
    pytest.importorskip("duckcdm")
    path = write_circe_cdm(tmp_path_factory.mktemp("circe"))
    with connect(path) as src:  # read-only: the cohort goes to session temporary tables
        yield src


def _days(column: pd.Series) -> list[date]:
    return pd.to_datetime(column).dt.date.tolist()


def test_phenotype_library_213_runs_on_a_read_only_duckdb(source: CdmSource) -> None:
    rows = source.execute(circe_rows(source, DEFINITION, 213)).sort_values("person_id")
    assert rows["person_id"].tolist() == [p for p, _, _ in EXPECTED]  # 2: congenital
    assert _days(rows["start_date"]) == [start for _, start, _ in EXPECTED]
    # the definition's end: 21 days of persistence after the last event
    assert _days(rows["end_date"]) == [end for _, _, end in EXPECTED]
    again = source.execute(cohort_rows(source, CohortRef(id=213, circe=DEFINITION)))
    assert sorted(again["person_id"]) == [1, 4]
    # the batch dropped every temporary table it made
    left = source.backend.raw_sql("select table_name from duckdb_tables() where temporary")
    assert left.fetchall() == []


def test_a_broken_definition_is_one_clear_error(source: CdmSource, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CdmDataError, match=r"bad\.json cannot be turned into SQL"):
        circe_rows(source, bad, 1)


def test_without_duckcdm_the_message_names_the_extra(
    source: CdmSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckcdm.circe", None)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'allrwe\[circe\]'"):
        circe_rows(source, DEFINITION, 213)


def test_spark_is_refused_by_name() -> None:
    pytest.importorskip("duckcdm")
    spark = SimpleNamespace(kind="spark", description="spark://local?schema=cdm", schema="cdm")
    with pytest.raises(BackendUnavailableError, match=r"not on spark://local\?schema=cdm"):
        circe_rows(spark, DEFINITION, 213)  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql"])
def test_the_definitions_sql_writes_only_temporary_tables(dialect: str) -> None:
    pytest.importorskip("duckcdm")
    from duckcdm.circe import build_cohort_query
    from duckcdm.sqlrender import render, split_sql, translate

    sql = build_cohort_query(
        DEFINITION.read_text(encoding="utf-8"),
        cdm_schema="cdm",
        vocabulary_schema="cdm",
        target_table="allrwe_circe_213",
        cohort_id=213,
        generate_stats=False,
    )
    statements = [s for s in split_sql(translate(render(sql), dialect)) if s.strip()]
    assert len(statements) == 43
    check_temporary_only(statements, "allrwe_circe_213", "213.json")  # no error


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO cdm.person SELECT * FROM codesets",  # schema-qualified
        "CREATE TABLE codesets2 AS SELECT 1",  # not temporary
        "DELETE FROM person",  # not created by the batch
        "-- a comment\nDROP TABLE observation_period",
        "UPDATE codesets SET concept_id = 0",  # not a statement Circe's SQL needs
        "SELECT 1 INTO person_copy",
    ],
)
def test_a_write_outside_the_batchs_temporary_tables_is_refused(statement: str) -> None:
    batch = ["CREATE TEMP TABLE codesets (codeset_id int, concept_id bigint)", statement]
    shown = re.escape(" ".join(statement.split("\n")[-1].split())[:20])
    with pytest.raises(CdmDataError, match=rf"x\.json: its SQL would write outside .*{shown}"):
        check_temporary_only(batch, "allrwe_circe_1", "x.json")
