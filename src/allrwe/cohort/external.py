"""Cohorts from outside allrwe: rows of an existing OHDSI ``cohort`` table.

Rules this module owns:

* A :class:`~allrwe.spec.CohortRef` names a table (default ``cohort``) in a schema (the CDM's
  own by default, or e.g. the results schema where ATLAS, CohortGenerator or duckcdm write
  generated cohorts) and a ``cohort_definition_id``. The table must hold OHDSI's cohort
  columns ``cohort_definition_id``, ``subject_id``, ``cohort_start_date`` and
  ``cohort_end_date`` (any case); ``subject_id`` is the CDM's ``person_id``.
* Only the rows of that id are read, as ``person_id``, ``start_date`` and ``end_date``;
  the table is never written.
* With ``circe`` (a Circe cohort definition: an ATLAS export, a PhenotypeLibrary
  ``inst/cohorts/<id>.json``), the cohort is generated instead: duckcdm's port of OHDSI's
  circe-be (the optional extra ``allrwe[circe]``) writes the definition's SQL, SqlRender's port
  translates it to the engine's dialect (DuckDB or PostgreSQL), and it runs in the engine
  into session temporary tables only: every statement must create, fill, analyse or drop a
  temporary table the batch created itself, else nothing runs. The CDM is not written; a
  DuckDB file opened read-only accepts them, and on PostgreSQL's read-only session the batch
  gets one read-write transaction (``temporary_batch`` of the PostgreSQL backend). Spark is
  refused: SqlRender emulates temporary tables there as real Delta tables in the current
  database. The CDM schema is also the vocabulary schema (``concept``, ``concept_ancestor``).
  The rows, one per person and era, come back as a small table.
* As an index cohort (``entry.cohorts``), each row is an entry record of its group dated at
  its ``cohort_start_date``; the study period and the first-record rule then apply as for
  concept-set records. As an exclusion (``inclusion.exclusions[].cohort``), a person is
  excluded when a row of theirs starts in the window around index.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from allrwe.errors import BackendUnavailableError, CdmDataError, CdmSchemaError
from allrwe.io.source import CdmSource
from allrwe.spec import CohortRef

__all__ = [
    "CIRCE_DIALECTS",
    "COHORT_COLUMNS",
    "check_temporary_only",
    "circe_rows",
    "cohort_rows",
    "describe",
]

#: the columns of an OHDSI cohort table
COHORT_COLUMNS = ("cohort_definition_id", "subject_id", "cohort_start_date", "cohort_end_date")


#: SqlRender dialect of each source kind Circe cohorts are generated on (not Spark: SqlRender
#: emulates its temporary tables as Delta tables written in the session's current database)
CIRCE_DIALECTS = {
    "duckdb": "duckdb",
    "parquet": "duckdb",
    "csv": "duckdb",
    "postgresql": "postgresql",
}

#: the statements a Circe batch may run, each on one unqualified table
_TEMP_WRITE = re.compile(
    r"(?P<verb>CREATE\s+TEMP(?:ORARY)?\s+TABLE|INSERT\s+INTO|DELETE\s+FROM|TRUNCATE\s+TABLE"
    r"|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|ANALYZE)\s+(?P<table>[A-Za-z_][A-Za-z0-9_]*)(?=[\s(;]|$)",
    re.IGNORECASE,
)
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


def describe(ref: CohortRef) -> str:
    """Return ``schema.table #id`` (or ``file.json #id``), for attrition reasons and messages."""
    if ref.circe is not None:
        return f"{ref.circe.name} #{ref.id}"
    where = f"{ref.database_schema}.{ref.table}" if ref.database_schema else ref.table
    return f"{where} #{ref.id}"


def _table(source: CdmSource, ref: CohortRef) -> ir.Table:
    if ref.database_schema is None:
        if not source.has(ref.table):
            raise CdmSchemaError(
                f"cohort table {ref.table!r} is not in the CDM ({source.description}); "
                "name its schema with database_schema"
            )
        return source.table(ref.table)
    parts = ref.database_schema.split(".")
    database: Any = tuple(parts) if len(parts) == 2 else parts[0]
    try:
        return source.backend.table(ref.table, database=database)
    except Exception as exc:  # the backend's own "no such table/schema" error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CdmSchemaError(
            f"cohort table {describe(ref)} cannot be read on {source.description}: {first}"
        ) from exc


def cohort_rows(source: CdmSource, ref: CohortRef) -> ir.Table:
    """Return the rows of one cohort as ``person_id``, ``start_date``, ``end_date``.

    Parameters
    ----------
    source : CdmSource
        The CDM (the cohort table is read through its connection).
    ref : CohortRef
        The table, its schema and the ``cohort_definition_id``.

    Returns
    -------
    ibis.Table

    Raises
    ------
    CdmSchemaError
        The table is missing or lacks a cohort column.
    """
    if ref.circe is not None:
        return circe_rows(source, ref.circe, ref.id)
    table = _table(source, ref)
    lower = {c.lower(): c for c in table.columns}
    missing = [c for c in COHORT_COLUMNS if c not in lower]
    if missing:
        raise CdmSchemaError(
            f"cohort table {describe(ref)} lacks column(s) {', '.join(missing)} "
            f"(an OHDSI cohort table has {', '.join(COHORT_COLUMNS)})"
        )
    rows = table.filter(table[lower["cohort_definition_id"]] == ibis.literal(ref.id, "int64"))
    return rows.select(
        person_id=rows[lower["subject_id"]].cast("int64"),
        start_date=rows[lower["cohort_start_date"]].cast("date"),
        end_date=rows[lower["cohort_end_date"]].cast("date"),
    )


def _fetch(result: Any) -> list[tuple[Any, ...]]:
    """Rows of an executed query: a DuckDB connection or a DB-API cursor."""
    return [tuple(r) for r in result.fetchall()]


def check_temporary_only(statements: Sequence[str], target: str, name: str) -> None:
    """Refuse a batch unless each statement works on a temporary table the batch created.

    Parameters
    ----------
    statements : sequence of str
        The translated statements, in order.
    target : str
        The temporary table the caller creates for the cohort's rows.
    name : str
        The definition's file name, for the message.

    Raises
    ------
    CdmDataError
        A statement of another kind, on a schema-qualified table, or on a table not created
        by a ``CREATE TEMP TABLE`` before it (nothing has run).
    """
    created = {target.lower()}
    for statement in statements:
        head = _LEADING_COMMENTS.sub("", statement, count=1)
        match = _TEMP_WRITE.match(head)
        table = match["table"].lower() if match else ""
        if match and match["verb"].upper().startswith("CREATE"):
            created.add(table)
        elif table not in created:
            shown = " ".join(head.split())[:80]
            raise CdmDataError(
                f"Circe definition {name}: its SQL would write outside the session's "
                f"temporary tables ({shown!r}); nothing was run"
            )


@contextlib.contextmanager
def _session(backend: Any) -> Iterator[Callable[[str], Any]]:
    """Yield a statement runner: one read-write transaction on a read-only PostgreSQL session."""
    batch = getattr(backend, "temporary_batch", None)
    if callable(batch):
        with batch() as execute:
            yield execute
    else:
        yield backend.raw_sql


def circe_rows(source: CdmSource, definition: Path, cohort_id: int) -> ir.Table:
    """Generate a Circe cohort in the engine; return its rows as a small table.

    Parameters
    ----------
    source : CdmSource
        The CDM; its schema holds the vocabulary tables too.
    definition : pathlib.Path
        The Circe cohort definition (JSON).
    cohort_id : int
        The ``cohort_definition_id`` the rows get.

    Returns
    -------
    ibis.Table
        ``person_id``, ``start_date``, ``end_date``.

    Raises
    ------
    BackendUnavailableError
        duckcdm is not installed, or the source kind has no dialect here.
    CdmDataError
        The definition cannot be read, or its SQL fails on the engine (message of the engine).
    """
    try:
        from duckcdm.circe import build_cohort_query
        from duckcdm.sqlrender import render, split_sql, translate
    except ImportError:
        raise BackendUnavailableError(
            "Circe cohorts need duckcdm: pip install 'allrwe[circe]'"
        ) from None
    dialect = CIRCE_DIALECTS.get(source.kind)
    if dialect is None or not getattr(source, "temporary_tables", True):
        raise BackendUnavailableError(
            f"Circe cohorts run on {', '.join(sorted(set(CIRCE_DIALECTS)))} with temporary "
            f"tables; not on {source.description}"
        )
    try:
        text = definition.read_text(encoding="utf-8")
    except OSError as exc:
        raise CdmDataError(f"Circe definition {str(definition)!r}: {exc.strerror}") from None
    target = f"allrwe_circe_{abs(int(cohort_id))}"
    schema = source.schema or ("main" if dialect == "duckdb" else "public")
    try:
        sql = build_cohort_query(
            text,
            cdm_schema=schema,
            vocabulary_schema=schema,
            target_table=target,
            cohort_id=cohort_id,
            generate_stats=False,
        )
        statements = [s for s in split_sql(translate(render(sql), dialect)) if re.search(r"\S", s)]
    except Exception as exc:  # the definition's JSON, as duckcdm reads it
        raise CdmDataError(
            f"Circe definition {definition.name} cannot be turned into SQL: {exc}"
        ) from None
    check_temporary_only(statements, target, definition.name)
    create = (
        f"CREATE TEMPORARY TABLE {target} (cohort_definition_id BIGINT, subject_id BIGINT, "
        "cohort_start_date DATE, cohort_end_date DATE)"
    )
    try:
        with _session(source.backend) as execute:
            execute(f"DROP TABLE IF EXISTS {target}")
            execute(create)
            for statement in statements:
                execute(statement)
            rows = _fetch(
                execute(
                    f"SELECT subject_id, cohort_start_date, cohort_end_date FROM {target} "
                    f"WHERE cohort_definition_id = {int(cohort_id)} ORDER BY 1, 2"
                )
            )
            execute(f"DROP TABLE {target}")
    except Exception as exc:  # the engine's message, first line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CdmDataError(
            f"Circe cohort {definition.name} failed on {source.description}: {first}"
        ) from None
    frame = pd.DataFrame(rows, columns=["person_id", "start_date", "end_date"])
    frame["person_id"] = frame["person_id"].astype("int64")
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    schema_types = {"person_id": "int64", "start_date": "date", "end_date": "date"}
    return ibis.memtable(frame, schema=schema_types)
