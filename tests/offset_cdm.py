"""Writing tiny OMOP CDMs for tests: every table with all its CDM v5.4 columns.

Absent values are NULL; primary keys are numbered when a row does not give one. Shared by the
baseline and safety test fixtures (``baseline_cdm.py``, ``safety_cdm.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from allrwe.io.cdm_spec import load_cdm_spec
from allrwe.io.vocabulary import Vocabulary

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


def write_vocabulary(
    path: Path,
    concepts: list[tuple[int, str, str, str, str | None, str]],
    maps_to: list[tuple[int, int]],
) -> Path:
    """Add vocabulary tables to the DuckDB CDM at ``path``.

    ``concept`` holds ``concepts`` (id, name, domain, vocabulary, standard, code);
    ``concept_relationship`` holds a ``Maps to`` row per pair of ``maps_to``.
    """
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "CREATE TABLE concept (concept_id BIGINT, concept_name VARCHAR, domain_id VARCHAR,"
            " vocabulary_id VARCHAR, standard_concept VARCHAR, concept_code VARCHAR)"
        )
        rows = [list(c) for c in concepts]
        con.executemany("INSERT INTO concept VALUES (?, ?, ?, ?, ?, ?)", rows)
        con.execute(
            "CREATE TABLE concept_relationship (concept_id_1 BIGINT, concept_id_2 BIGINT,"
            " relationship_id VARCHAR)"
        )
        con.executemany(
            "INSERT INTO concept_relationship VALUES (?, ?, 'Maps to')", [list(r) for r in maps_to]
        )
    finally:
        con.close()
    return path
