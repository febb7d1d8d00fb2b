"""The data rules on kept rows run in one query on PostgreSQL and Spark, as on DuckDB.

The broken mini CDM (defects in seven tables) is loaded into each engine; after the rows a study
keeps are cached, the check runs every rule on them in one query (plus the two whole-table
counts of ``empty_table``). A combined query the engine rejects would fall back to one query
per rule and show here as more queries.
"""

from __future__ import annotations

from typing import Any

import ibis
import pytest
from backend_servers import ADMIN, ADMIN_PW, READER, READER_PW, PgServer, grant_select_only

from allrwe.io import KeptRows, connect
from allrwe.io.check import STUDY_TABLES, CheckReport, check_cdm
from allrwe.io.load import load_cdm
from cdm_files import write_cdm
from mini_cdm import SCOPED, TODAY, broken_cdm, keep_study_rows, summary

#: PySpark drops local sockets without closing them (ResourceWarning on garbage collection)
SPARK_SOCKETS = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(scope="module")
def broken_parquet(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The broken mini CDM as a Parquet folder (the DuckDB reference, and what is loaded)."""
    return write_cdm(tmp_path_factory.mktemp("broken") / "cdm", broken_cdm(), "parquet")


def scoped_check(url: str) -> tuple[CheckReport, int]:
    """The check of the kept rows, and the number of queries it ran."""
    with connect(url) as connection, KeptRows(connection) as source:
        keep_study_rows(source)
        execute = source.execute
        queries: list[ibis.Expr] = []

        def counted(expr: ibis.Expr) -> Any:
            queries.append(expr)
            return execute(expr)

        source.execute = counted  # type: ignore[method-assign]
        report = check_cdm(source, today=TODAY, tables=STUDY_TABLES)
    return report, len(queries)


def assert_like_duckdb(report: CheckReport, queries: int, reference: str) -> None:
    want, want_queries = scoped_check(reference)
    assert summary(want) == SCOPED
    assert want_queries == queries == 3
    assert report.findings == want.findings
    assert (report.checks_run, report.checks_skipped) == (want.checks_run, want.checks_skipped)


@pytest.mark.postgres
def test_checks_on_kept_rows_run_in_one_query_on_postgres(
    pg_server: PgServer, pg_cdms: dict[str, str], broken_parquet: str
) -> None:
    # pg_cdms has created the SELECT-only role
    with pg_server.admin() as con:
        con.execute("CREATE DATABASE broken")
    load_cdm(broken_parquet, pg_server.url(ADMIN, ADMIN_PW, "broken", schema=None), schema="cdm")
    grant_select_only(pg_server, "broken", READER)
    report, queries = scoped_check(pg_server.url(READER, READER_PW, "broken"))
    assert_like_duckdb(report, queries, broken_parquet)


@pytest.mark.spark
@SPARK_SOCKETS
def test_checks_on_kept_rows_run_in_one_query_on_spark(
    spark_session: Any, broken_parquet: str
) -> None:
    load_cdm(
        broken_parquet,
        "spark://",
        schema="cdm_broken",
        spark_session=spark_session,
        external=True,
    )
    report, queries = scoped_check("spark://?schema=cdm_broken")
    assert_like_duckdb(report, queries, broken_parquet)
