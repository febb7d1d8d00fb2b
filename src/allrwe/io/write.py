"""Writing CDMs: the one place allrwe writes to a database.

- :func:`parquet_dir_to_duckdb` loads a folder of Parquet tables into a new DuckDB file (the
  synthetic-data generator writes Parquet with pyarrow and uses it for ``--format duckdb``);
- :func:`load_cdm` copies a CDM from DuckDB or Parquet into PostgreSQL or Spark, for tests,
  benchmarks and users moving a CDM to a server. Both are bulk paths: PostgreSQL receives each
  table through one ``COPY ... FROM STDIN (FORMAT csv)``, fed with CSV that pyarrow writes from
  the source's Arrow record batches (no row-by-row ``INSERT``), all in one transaction,
  followed by ``ANALYZE``; Spark reads Parquet files (the source's own, or a temporary DuckDB
  export) and saves each table in a Spark database with ``saveAsTable``.

The rule this module owns: only these two functions write, each to a target it creates or is
told to replace; reading a CDM (:func:`allrwe.io.connect`) never writes.
It stays one module (about 400 lines) on purpose: its one concern is writing, the PostgreSQL
and Spark loaders share :func:`load_cdm`'s checks and table list, and keeping every write in
one file is what lets a reader check the rule above by reading one file.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from allrwe.errors import BackendUnavailableError, CdmConnectionError, CdmDataError, UsageError
from allrwe.io.backends.parquet import parquet_tables
from allrwe.io.backends.postgres import postgres_params
from allrwe.io.backends.spark import spark_master
from allrwe.io.backends.spark import spark_session as open_spark_session
from allrwe.io.connection import CdmConnection, first_line
from allrwe.io.identifiers import validate_identifier
from allrwe.io.source import connect
from allrwe.io.url import url_path

__all__ = ["DEFAULT_SCHEMA", "load_cdm", "parquet_dir_to_duckdb", "postgres_type"]

log = logging.getLogger(__name__)

#: schema (PostgreSQL) or database (Spark) the tables go to unless the call names another
DEFAULT_SCHEMA = "cdm"

_BATCH_ROWS = 250_000

_PG_SIMPLE: dict[pa.DataType, str] = {
    pa.bool_(): "boolean",
    pa.int8(): "smallint",
    pa.int16(): "smallint",
    pa.uint8(): "smallint",
    pa.int32(): "integer",
    pa.uint16(): "integer",
    pa.int64(): "bigint",
    pa.uint32(): "bigint",
    pa.uint64(): "numeric(20)",
    pa.float16(): "real",
    pa.float32(): "real",
    pa.float64(): "double precision",
    pa.string(): "text",
    pa.large_string(): "text",
    pa.string_view(): "text",
    pa.date32(): "date",
    pa.date64(): "date",
    pa.null(): "text",
}


def postgres_type(field: pa.Field, *, table: str = "?") -> str:
    """Return the PostgreSQL column type that holds an Arrow field's values exactly.

    Parameters
    ----------
    field : pyarrow.Field
        The column.
    table : str
        The table, for the message.

    Returns
    -------
    str
        A PostgreSQL type name.

    Raises
    ------
    CdmDataError
        The Arrow type has no PostgreSQL counterpart here (lists, structs, binary, ...).

    Examples
    --------
    >>> postgres_type(pa.field("person_id", pa.int64()))
    'bigint'
    """
    typ = field.type
    if typ in _PG_SIMPLE:
        return _PG_SIMPLE[typ]
    if pa.types.is_timestamp(typ):
        return "timestamp with time zone" if typ.tz else "timestamp"
    if pa.types.is_decimal(typ):
        return f"numeric({typ.precision},{typ.scale})"
    if pa.types.is_dictionary(typ):
        return postgres_type(pa.field(field.name, typ.value_type), table=table)
    raise CdmDataError(
        f"column {table}.{field.name} has Arrow type {typ}, which allrwe cannot load into "
        "PostgreSQL"
    )


def load_cdm(
    src_url: str | Path,
    dst_url: str,
    *,
    schema: str | None = None,
    tables: Sequence[str] | None = None,
    replace: bool = False,
    spark_session: Any = None,
    external: bool = False,
) -> dict[str, int]:
    """Copy an OMOP CDM from DuckDB or Parquet into PostgreSQL or Spark.

    Column names become lower case; types follow the source (Arrow types mapped one to one:
    ``int64`` to ``bigint``, ``date32`` to ``date``, strings to ``text``, ...). Each target
    table is created; a table that exists is an error unless ``replace``.

    Parameters
    ----------
    src_url : str or pathlib.Path
        The source, as for :func:`allrwe.io.connect`: ``duckdb:///abs/cdm.duckdb`` or
        ``parquet:///abs/folder`` (or a path).
    dst_url : str
        ``postgresql://user[:password]@host:port/db[?schema=cdm]`` (a user who may create
        the schema and tables) or ``spark://[host:port][?schema=cdm]``.
    schema : str, optional
        Target schema (PostgreSQL) or database (Spark); overrides ``?schema=`` in
        ``dst_url``; default ``"cdm"``. Created when missing.
    tables : sequence of str, optional
        The tables to copy; default all tables of the source.
    replace : bool, default False
        Drop and recreate target tables that exist.
    spark_session : pyspark.sql.SparkSession, optional
        The session for ``spark://``; default the active one, else a new local session.
    external : bool, default False
        Spark with a Parquet source only: register external tables over the source files
        instead of copying them (fast; the files must stay where they are).

    Returns
    -------
    dict of str to int
        Rows copied per table.

    Raises
    ------
    UsageError
        A source that is not DuckDB or Parquet, a target that is neither PostgreSQL nor Spark,
        a table the source lacks, or a target table that exists (without ``replace``).
    CdmConnectionError
        The target cannot be reached.
    CdmDataError
        A column type the target cannot hold, or a table the target rejects.
    BackendUnavailableError
        psycopg or pyspark is not installed.

    Notes
    -----
    PostgreSQL: the whole copy is one transaction, so a failure leaves the target unchanged.
    Spark: a DuckDB source is exported to Parquet in a temporary folder first; with a cluster,
    that folder (like a Parquet source) must be readable by the executors.
    """
    parsed = urlparse(dst_url)
    scheme = parsed.scheme.lower()
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    target = validate_identifier(
        schema or query.get("schema") or DEFAULT_SCHEMA, what="target schema name"
    )
    if scheme not in ("postgresql", "postgres", "spark"):
        raise UsageError(
            f"cannot load a CDM into {scheme or dst_url!r}: use postgresql://... or spark://"
        )
    with connect(src_url) as source:
        if source.kind not in ("duckdb", "parquet"):
            raise UsageError(
                f"load_cdm copies from DuckDB or Parquet, not from {source.description}"
            )
        names = _table_names(source, tables)
        if external and (scheme != "spark" or source.kind != "parquet"):
            raise UsageError("external tables need a Parquet source and a spark:// target")
        if scheme == "spark":
            session = open_spark_session(spark_master(parsed), spark_session)
            return _load_spark(source, src_url, names, target, replace, session, external)
        return _load_postgres(source, parsed, names, target, replace)


def _table_names(source: CdmConnection, tables: Sequence[str] | None) -> list[str]:
    if tables is None:
        names = source.tables
    else:
        names = [t.lower() for t in tables]
        missing = [t for t in names if not source.has(t)]
        if missing:
            raise UsageError(f"the source {source.description} has no table(s) {missing}")
    for name in names:
        validate_identifier(name, what="table name")
    return names


def _csv(batch: pa.RecordBatch) -> memoryview:
    # pyarrow writes NULL as an empty field and an empty string as "", which is exactly how
    # PostgreSQL's CSV format tells them apart.
    sink = pa.BufferOutputStream()
    pacsv.write_csv(batch, sink, pacsv.WriteOptions(include_header=False))
    return memoryview(sink.getvalue())


def _load_postgres(
    source: CdmConnection, parsed: Any, names: list[str], schema: str, replace: bool
) -> dict[str, int]:
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:
        raise BackendUnavailableError(
            "loading into PostgreSQL needs psycopg: pip install 'allrwe[postgres]'"
        ) from exc
    params = postgres_params(parsed)
    params["dbname"] = params.pop("database")
    where = f"PostgreSQL at {params['host']}:{params['port']}/{params['dbname']}"
    try:
        con = psycopg.connect(**params)
    except Exception as exc:
        raise CdmConnectionError(f"cannot connect to {where}: {first_line(exc)}") from exc
    counts: dict[str, int] = {}
    with con:  # commits on success, rolls the whole load back on any error
        con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        for name in names:
            counts[name] = _copy_table(con, source, name, schema, replace)
        for name in names:
            con.execute(
                sql.SQL("ANALYZE {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
            )
    log.info("loaded %d tables into %s schema %s", len(names), where, schema)
    return counts


def _copy_table(con: Any, source: CdmConnection, name: str, schema: str, replace: bool) -> int:
    from psycopg import sql

    target = sql.Identifier(schema, name)
    exists = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
        (schema, name),
    ).fetchone()
    if exists and not replace:
        raise UsageError(f"table {schema}.{name} already exists in the target; pass replace")
    if exists:
        con.execute(sql.SQL("DROP TABLE {}").format(target))
    arrow_schema = source.backend.to_pyarrow(source.table(name).limit(0)).schema
    columns = [sql.Identifier(f.name.lower()) for f in arrow_schema]
    defs = [
        sql.SQL("{} {}").format(col, sql.SQL(postgres_type(f, table=name)))
        for col, f in zip(columns, arrow_schema, strict=True)
    ]
    con.execute(sql.SQL("CREATE TABLE {} ({})").format(target, sql.SQL(", ").join(defs)))
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        target, sql.SQL(", ").join(columns)
    )
    rows = 0
    try:
        with con.cursor().copy(copy_sql) as copy, warnings.catch_warnings():
            # ibis 12 reads DuckDB results with methods DuckDB 1.5 deprecates (but keeps)
            warnings.filterwarnings("ignore", message=r".*fetch_(arrow_table|record_batch).*")
            expr = source.table(name)
            for batch in source.backend.to_pyarrow_batches(expr, chunk_size=_BATCH_ROWS):
                if batch.num_rows:
                    copy.write(_csv(batch))
                    rows += batch.num_rows
    except Exception as exc:
        raise CdmDataError(
            f"PostgreSQL rejected table {name} after {rows} rows: {first_line(exc)}"
        ) from exc
    log.info("table %s: %d rows copied", name, rows)
    return rows


def _load_spark(
    source: CdmConnection,
    src_url: str | Path,
    names: list[str],
    database: str,
    replace: bool,
    session: Any,
    external: bool,
) -> dict[str, int]:
    spark = session
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
    for name in names:
        if spark.catalog.tableExists(f"{database}.{name}") and not replace:
            raise UsageError(
                f"table {database}.{name} already exists in the Spark catalog; pass replace"
            )
    with tempfile.TemporaryDirectory(prefix="allrwe-load-") as tmp:
        locations = _parquet_locations(source, src_url, names, Path(tmp))
        counts = {}
        for name in names:
            _save_spark_table(spark, locations[name], database, name, external)
            counts[name] = int(source.execute(source.table(name).count()))
    log.info("loaded %d tables into Spark database %s", len(names), database)
    return counts


def _parquet_locations(
    source: CdmConnection, src_url: str | Path, names: list[str], tmp: Path
) -> dict[str, str]:
    if source.kind == "parquet":
        text = str(src_url)
        root = url_path(urlparse(text)) if "://" in text else Path(text)
        found = parquet_tables(root)
        return {name: found[name] for name in names}
    out = {}
    for name in names:
        path = tmp / f"{name}.parquet"
        source.backend.to_parquet(source.table(name), path)
        out[name] = str(path)
    return out


def _save_spark_table(spark: Any, location: str, database: str, name: str, external: bool) -> None:
    qualified = f"{database}.{name}"
    try:
        spark.sql(f"DROP TABLE IF EXISTS {qualified}")
        if external:
            folder = location.removesuffix("/*.parquet")
            spark.catalog.createTable(qualified, path=folder, source="parquet")
        else:
            frame = spark.read.parquet(location)
            frame = frame.toDF(*[c.lower() for c in frame.columns])
            frame.write.format("parquet").saveAsTable(qualified)
    except Exception as exc:
        raise CdmDataError(f"Spark could not save table {qualified}: {first_line(exc)}") from exc
    log.info("table %s saved (%s)", qualified, "external" if external else "copied")


def _tables(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue  # hidden files, as when reading a Parquet CDM
        if entry.is_file() and entry.suffix == ".parquet":
            found[entry.stem.lower()] = str(entry)
        elif entry.is_dir() and any(entry.glob("*.parquet")):
            found[entry.name.lower()] = str(entry / "*.parquet")
    return found


def parquet_dir_to_duckdb(
    parquet_dir: str | Path, duckdb_path: str | Path, *, threads: int = 1
) -> dict[str, int]:
    """Create a DuckDB file with one table per ``<table>.parquet`` file or ``<table>/`` folder.

    Rows keep the order of the files (part files in name order), so the same Parquet gives the
    same tables.

    Parameters
    ----------
    parquet_dir : str or pathlib.Path
        Folder holding the tables.
    duckdb_path : str or pathlib.Path
        The database file to create; must not exist.
    threads : int, default 1
        DuckDB worker threads.

    Returns
    -------
    dict of str to int
        Rows per table.

    Raises
    ------
    UsageError
        The folder holds no table, or the database file exists.
    """
    root = Path(parquet_dir)
    target = Path(duckdb_path)
    if target.exists():
        raise UsageError(f"DuckDB file {str(target)!r} already exists")
    tables = _tables(root) if root.is_dir() else {}
    if not tables:
        raise UsageError(f"Parquet folder {str(root)!r} holds no <table>.parquet file or folder")
    counts: dict[str, int] = {}
    con = duckdb.connect(str(target))
    try:
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = true")
        for name, location in tables.items():
            validate_identifier(name, what="table name")
            con.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?, file_row_number = false)",
                [location],
            )
            row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
            counts[name] = int(row[0]) if row else 0
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts
