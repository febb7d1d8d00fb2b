"""Spark as a real backend: loading a CDM into a Spark database and reading it back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pandas as pd
import pandas.testing as pdt
import pytest

from allrwe.errors import CdmConnectionError, UsageError
from allrwe.io import connect
from allrwe.io.load import load_cdm

pytestmark = [
    pytest.mark.spark,
    # PySpark drops local sockets without closing them (ResourceWarning on garbage collection)
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]


def _sorted(source: Any, table: str) -> pd.DataFrame:
    t = source.table(table)
    frame = source.execute(t.order_by(list(t.columns))).reset_index(drop=True)
    # An all-NULL integer column comes back as NaN from Spark and as None from DuckDB.
    return frame.astype(object).where(frame.notna(), None)


def test_external_tables_hold_the_parquet_rows_and_hide_ibis_temporary_views(
    spark_cdms: dict[str, str], synthetic_cdms: dict[str, str]
) -> None:
    with connect(synthetic_cdms["claims"]) as ref, connect(spark_cdms["claims"]) as spark:
        assert spark.kind == "spark"
        # An in-memory table becomes a temporary view, which SHOW TABLES IN cdm also lists.
        persons = ibis.memtable({"person_id": [1, 2, 3, 10**9]})
        n = spark.execute(spark.table("person").semi_join(persons, "person_id").count())
        assert int(n) == 3
        with connect(spark_cdms["claims"]) as again:
            assert again.tables == ref.tables
        for name in ref.tables:
            assert int(spark.execute(spark.table(name).count())) == int(
                ref.execute(ref.table(name).count())
            ), name
        for table in ("person", "death"):
            pdt.assert_frame_equal(_sorted(spark, table), _sorted(ref, table), check_dtype=False)


def test_load_copies_parquet_and_duckdb_sources_into_managed_tables(
    spark_session: Any,
    synthetic_cdms: dict[str, str],
    tmp_cdm: Callable[..., str],
) -> None:
    counts = load_cdm(
        synthetic_cdms["claims"],
        "spark://?schema=copied",
        tables=["death"],
        spark_session=spark_session,
    )
    duck = tmp_cdm(
        {
            "person": [
                {"person_id": 7, "gender_concept_id": 8507, "year_of_birth": 1970},
                {"person_id": 8, "gender_concept_id": 8532, "year_of_birth": 1985},
            ]
        }
    )
    assert load_cdm(duck, "spark://", schema="copied", spark_session=spark_session) == {"person": 2}
    with pytest.raises(UsageError, match=r"copied\.person already exists"):
        load_cdm(duck, "spark://?schema=copied", spark_session=spark_session)
    with pytest.raises(UsageError, match="external tables need a Parquet source"):
        load_cdm(duck, "spark://?schema=other", spark_session=spark_session, external=True)
    table = spark_session.catalog.getTable("copied.death")
    assert table.tableType == "MANAGED"
    with connect("spark://?schema=copied", spark_session=spark_session) as spark:
        assert spark.tables == ["death", "person"]
        assert int(spark.execute(spark.table("death").count())) == counts["death"]
        people = _sorted(spark, "person")
        assert people["person_id"].tolist() == [7, 8]
        assert people["year_of_birth"].tolist() == [1970, 1985]
    spark_session.sql("DROP DATABASE copied CASCADE")


def test_unknown_spark_database_is_a_clear_error(spark_session: Any) -> None:
    with pytest.raises(CdmConnectionError, match="schema 'nope' does not exist"):
        connect("spark://?schema=nope", spark_session=spark_session)


def test_a_spark_host_other_than_the_sessions_is_refused_not_ignored(
    spark_session: Any, spark_cdms: dict[str, str]
) -> None:
    url = "spark://spark-master.example.org:7077?schema=cdm"
    with pytest.raises(UsageError, match=r"runs on 'local\[2\]', not on 'spark://spark-master"):
        connect(url)
    with pytest.raises(UsageError, match="runs on 'local"):
        connect(url, spark_session=spark_session)


def test_the_session_itself_and_a_two_part_schema_are_accepted(
    spark_session: Any, spark_cdms: dict[str, str]
) -> None:
    with connect(spark_session, schema="spark_catalog.cdm") as cdm:
        assert cdm.kind == "spark"
        assert cdm.schema == "spark_catalog.cdm"
        assert int(cdm.execute(cdm.table("person").count())) > 0
    with connect(spark_cdms["claims"]) as cdm:
        assert cdm.has("person")
