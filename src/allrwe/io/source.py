"""Opening an OMOP CDM: :func:`connect` reads a URL (or an open object) and picks the backend.

The rule this module owns: a CDM is opened read-only, and only through :func:`connect` (the
backends are :mod:`allrwe.io.backends`); the result is a
:class:`~allrwe.io.connection.CdmConnection`, which reads as a :class:`~allrwe.io.cdm.CdmSource`.
The names other modules imported from here before the split are re-exported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from ibis.backends import BaseBackend

from allrwe.errors import UsageError
from allrwe.io.backends.csv import connect_csv, csv_tables
from allrwe.io.backends.duckdb import DUCKDB_MEMORY_LIMIT, connect_duckdb
from allrwe.io.backends.parquet import connect_parquet, parquet_tables
from allrwe.io.backends.postgres import connect_postgres
from allrwe.io.backends.spark import connect_spark, is_spark_session, spark_master, spark_session
from allrwe.io.cdm import CdmSource
from allrwe.io.connection import CdmConnection, check_schema
from allrwe.io.identifiers import validate_identifier, validate_schema
from allrwe.io.kept import PERSON_TABLES, CachedRows, KeptRows
from allrwe.io.url import UrlFormWarning, cdm_url, local_path, redact, url_path

__all__ = [
    "DUCKDB_MEMORY_LIMIT",
    "PERSON_TABLES",
    "SCHEMES",
    "CachedRows",
    "CdmConnection",
    "CdmSource",
    "KeptRows",
    "UrlFormWarning",
    "cdm_url",
    "connect",
    "local_path",
    "spark_session",
    "validate_identifier",
    "validate_schema",
]


#: URL schemes :func:`connect` understands
SCHEMES = ("duckdb", "parquet", "csv", "postgresql", "postgres", "spark", "sc")


def connect(
    url: str | Path | BaseBackend | Any,
    *,
    schema: str | None = None,
    spark_session: Any = None,
    temporary_tables: bool | None = None,
) -> CdmConnection:
    """Open an OMOP CDM read-only.

    Parameters
    ----------
    url : str, pathlib.Path, CdmConnection, Ibis backend or SparkSession
        Where the CDM is. URLs follow Ibis (three slashes and an absolute path):

        - ``duckdb:///abs/path/cdm.duckdb`` or ``duckdb://rel/path/cdm.duckdb`` (a path
          ending in ``.duckdb`` also works);
        - ``parquet:///abs/path/dir``: one ``<table>.parquet`` file or ``<table>/`` folder of
          Parquet files per table;
        - ``csv:///path/to/dir``: one ``<table>.csv`` file per table (upper- or lower-case
          name, comma or tab separated, as ETL and Athena exports give them), typed by the CDM
          specification; a folder path holding CSV files and no Parquet one works too;
        - ``postgresql://user[:password]@host:port/db?schema=cdm``;
        - ``spark://?schema=db`` (the active or a new local PySpark session),
          ``spark://host:7077?schema=db`` (a session on that standalone master) or
          ``sc://host:15002?schema=db`` (Spark Connect).

        The form ``duckdb:////abs/path`` of allrwe 0.1 (four slashes for an absolute path)
        still works, with a :class:`UrlFormWarning`. A CdmConnection is returned as it is; an
        open Ibis backend or a SparkSession is read through (the caller closes it).
    schema : str, optional
        Schema (database) holding the CDM tables, ``schema`` or ``catalog.schema``;
        overrides ``?schema=`` in the URL.
    spark_session : pyspark.sql.SparkSession, optional
        A session to use for ``spark://`` instead of the active one.
    temporary_tables : bool, optional
        False where the engine allows no temporary tables: kept rows are recomputed, not
        materialised (:attr:`CdmConnection.temporary_tables`). Overrides ``?temp_tables=`` in
        the URL.

    Returns
    -------
    CdmConnection
        The open, read-only source.

    Raises
    ------
    UsageError
        Unknown scheme, a path that does not exist, or a Spark host that differs from the
        active session's.
    CdmConnectionError
        The database cannot be opened or reached.
    BackendUnavailableError
        The backend's Python package is not installed.
    """
    if not isinstance(url, str | Path):
        return _temporary_tables(_connect_object(url, schema), temporary_tables)
    text = _url_text(str(url))
    query = {k: v[-1] for k, v in parse_qs(urlparse(text).query).items()}
    if temporary_tables is None and "temp_tables" in query:
        temporary_tables = _flag("temp_tables", query["temp_tables"])
    return _temporary_tables(_connect_url(text, schema, spark_session, query), temporary_tables)


def _flag(name: str, value: str) -> bool:
    """Read a URL flag: true/false, 1/0, yes/no."""
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise UsageError(f"URL parameter {name}={value!r}: use true or false")


def _temporary_tables(source: CdmConnection, temporary_tables: bool | None) -> CdmConnection:
    if temporary_tables is not None:
        source.temporary_tables = temporary_tables
    return source


def _connect_url(
    text: str, schema: str | None, spark_session: Any, query: dict[str, str]
) -> CdmConnection:
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    schema = schema if schema is not None else query.get("schema")
    if schema is not None:
        validate_schema(schema)
    if scheme == "duckdb":
        return connect_duckdb(url_path(parsed), schema)
    if scheme == "parquet":
        return connect_parquet(url_path(parsed))
    if scheme == "csv":
        return connect_csv(url_path(parsed))
    if scheme in ("postgresql", "postgres"):
        return connect_postgres(parsed, schema)
    if scheme in ("spark", "sc"):
        return connect_spark(schema, spark_session, master=spark_master(parsed))
    raise UsageError(
        f"unknown URL scheme {parsed.scheme!r} in {redact(text)!r}: use one of {', '.join(SCHEMES)}"
    )


def _connect_object(given: Any, schema: str | None) -> CdmConnection:
    """Return a CdmConnection over an open CdmConnection, Ibis backend or SparkSession."""
    if isinstance(given, CdmConnection):
        if schema is not None and schema != given.schema:
            raise UsageError(f"the CDM source {given.description} is not in schema {schema!r}")
        return given
    if schema is not None:
        validate_schema(schema)
    if isinstance(given, BaseBackend):
        return _wrap_backend(given, schema)
    if is_spark_session(given):
        return connect_spark(schema, given, master=None)
    raise UsageError(
        f"cannot read a CDM from a {type(given).__name__}: give a URL, a path, a CdmConnection, "
        "an Ibis backend or a SparkSession"
    )


def _url_text(text: str) -> str:
    """Return ``text`` as a URL: a path ending in ``.duckdb`` or a folder becomes one."""
    if "://" in text:
        return text
    if text.endswith(".duckdb"):
        return cdm_url(text, "duckdb")
    if Path(text).is_dir():
        folder = Path(text)
        csv_only = bool(csv_tables(folder)) and not parquet_tables(folder)
        return cdm_url(text, "csv" if csv_only else "parquet")
    raise UsageError(
        f"cannot tell what {text!r} is: give a URL such as duckdb:///abs/cdm.duckdb, "
        "parquet:///abs/dir, postgresql://user@host/db?schema=cdm or spark://"
    )


def _wrap_backend(backend: BaseBackend, schema: str | None) -> CdmConnection:
    """Return a CdmConnection over an Ibis backend the caller opened (and will close)."""
    kind = str(getattr(backend, "name", type(backend).__module__))
    if kind == "pyspark":  # read through allrwe's PySpark backend, which hides temp views
        return connect_spark(schema, backend._session, master=None)
    check_schema(backend, schema, f"the {kind} connection")
    desc = f"{kind} (Ibis backend)" + (f":{schema}" if schema else "")
    return CdmConnection(backend, kind, desc, schema)
