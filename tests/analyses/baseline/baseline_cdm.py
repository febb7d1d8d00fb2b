"""Tiny OMOP CDMs for the baseline tests: rows by day offset from one index date.

Every table the event helpers read is created with all its CDM v5.4 columns (absent values are
NULL); primary keys are numbered when a row does not give one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from allrwe.io.cdm_spec import load_cdm_spec
from allrwe.io.vocabulary import Vocabulary

D0 = dt.date(2021, 1, 10)
TABLES = (
    "person",
    "observation_period",
    "drug_exposure",
    "condition_occurrence",
    "procedure_occurrence",
    "measurement",
    "observation",
    "death",
)
_ARROW = {
    "integer": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "string": pa.string(),
}


def day(n: int) -> dt.date:
    """The date ``n`` days after the index date ``D0``."""
    return D0 + dt.timedelta(days=n)


def cid(vocab: Vocabulary, key: str) -> int:
    """The first concept id of a concept set."""
    return vocab.concept_set(key).concept_ids[0]


def write_cdm(path: Path, tables: dict[str, list[dict[str, Any]]]) -> Path:
    """Write a DuckDB CDM holding ``tables``; the other tables of :data:`TABLES` are empty."""
    spec = load_cdm_spec()
    con = duckdb.connect(str(path))
    try:
        for name in TABLES:
            fields = list(spec.table(name))
            rows = [dict(r) for r in tables.get(name, [])]
            pk = fields[0].name
            if pk.endswith("_id") and pk != "person_id":
                for i, row in enumerate(rows, start=1):
                    row.setdefault(pk, i)
            arrays = [pa.array([r.get(f.name) for r in rows], type=_ARROW[f.type]) for f in fields]
            con.register("_src", pa.Table.from_arrays(arrays, names=[f.name for f in fields]))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _src")
            con.unregister("_src")
    finally:
        con.close()
    return path


def meas(pid: int, concept: int, n: int, value: float | None, unit: int | None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "measurement_concept_id": concept,
        "measurement_date": day(n),
        "measurement_type_concept_id": 32817,
        "value_as_number": value,
        "unit_concept_id": unit,
    }


def cond(pid: int, concept: int, n: int) -> dict[str, Any]:
    return {
        "person_id": pid,
        "condition_concept_id": concept,
        "condition_start_date": day(n),
        "condition_type_concept_id": 32817,
    }


def drug(pid: int, concept: int, start: int, end: int | None = None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "drug_concept_id": concept,
        "drug_exposure_start_date": day(start),
        "drug_exposure_end_date": day(start if end is None else end),
        "drug_type_concept_id": 32818,
    }


def proc(pid: int, concept: int, n: int) -> dict[str, Any]:
    return {
        "person_id": pid,
        "procedure_concept_id": concept,
        "procedure_date": day(n),
        "procedure_type_concept_id": 32817,
    }


def obs(pid: int, concept: int, n: int, grade: float | None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "observation_concept_id": concept,
        "observation_date": day(n),
        "observation_type_concept_id": 32817,
        "value_as_number": grade,
    }


def death(pid: int, n: int, cause: int | None) -> dict[str, Any]:
    return {
        "person_id": pid,
        "death_date": day(n),
        "death_type_concept_id": 32817,
        "cause_concept_id": cause,
    }
