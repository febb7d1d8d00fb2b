"""``load_cdm`` arguments and type mapping (no server needed)."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from allrwe.errors import CdmConnectionError, CdmDataError, UsageError
from allrwe.io.load import load_cdm, postgres_type

PERSON = {"person": [{"person_id": 1, "gender_concept_id": 8507, "year_of_birth": 1970}]}


@pytest.mark.parametrize(
    ("arrow", "expected"),
    [
        (pa.int64(), "bigint"),
        (pa.int32(), "integer"),
        (pa.int16(), "smallint"),
        (pa.float64(), "double precision"),
        (pa.float32(), "real"),
        (pa.bool_(), "boolean"),
        (pa.string(), "text"),
        (pa.large_string(), "text"),
        (pa.date32(), "date"),
        (pa.timestamp("us"), "timestamp"),
        (pa.timestamp("ns", tz="UTC"), "timestamp with time zone"),
        (pa.decimal128(10, 2), "numeric(10,2)"),
        (pa.dictionary(pa.int8(), pa.string()), "text"),
        (pa.null(), "text"),
    ],
)
def test_postgres_type_holds_the_arrow_values(arrow: pa.DataType, expected: str) -> None:
    assert postgres_type(pa.field("x", arrow)) == expected


def test_postgres_type_names_table_and_column_it_cannot_hold() -> None:
    with pytest.raises(CdmDataError, match=r"column person\.tags has Arrow type list<item: int64>"):
        postgres_type(pa.field("tags", pa.list_(pa.int64())), table="person")


def test_load_rejects_targets_sources_and_names_before_touching_anything(
    tmp_cdm: Callable[..., str],
) -> None:
    src = tmp_cdm(PERSON)
    with pytest.raises(UsageError, match="cannot load a CDM into 'mysql'"):
        load_cdm(src, "mysql://u@h/db")
    with pytest.raises(UsageError, match="invalid target schema name 'cdm;drop'"):
        load_cdm(src, "postgresql://u@127.0.0.1:1/db", schema="cdm;drop")
    with pytest.raises(UsageError, match=r"has no table\(s\) \['death'\]"):
        load_cdm(src, "postgresql://u@127.0.0.1:1/db", tables=["person", "death"])
    with pytest.raises(UsageError, match="external tables need a Parquet source"):
        load_cdm(src, "spark://", external=True)
    with pytest.raises(UsageError, match="external tables need a Parquet source"):
        load_cdm(tmp_cdm(PERSON, kind="parquet"), "postgresql://u@127.0.0.1:1/db", external=True)


def test_unreachable_postgres_is_a_connection_error_without_the_password(
    tmp_cdm: Callable[..., str],
) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(
        CdmConnectionError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1/db"
    ) as err:
        load_cdm(tmp_cdm(PERSON), "postgresql://u:secret@127.0.0.1:1/db")
    assert "secret" not in str(err.value)
