"""Opening an OMOP CDM: URL parsing, backends, and the read-only :class:`CdmSource` facade.

This module is the only place in allrwe that opens database connections. Everything above it
receives lazy Ibis table expressions from :meth:`CdmSource.table` and never a connection.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import operator
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import ibis
from ibis.backends import BaseBackend

from allrwe.errors import (
    AllrweWarning,
    BackendUnavailableError,
    CdmConnectionError,
    CdmDataError,
    CdmSchemaError,
    UsageError,
)

__all__ = [
    "PERSON_TABLES",
    "SCHEMES",
    "CachedRows",
    "CdmSource",
    "UrlFormWarning",
    "cdm_url",
    "connect",
    "local_path",
    "validate_identifier",
    "validate_schema",
]

#: the tables :meth:`CdmSource.cache_kept_persons_rows` keeps rows of, by person
PERSON_TABLES = ("person", "observation_period", "death")

#: URL schemes :func:`connect` understands
SCHEMES = ("duckdb", "parquet", "csv", "postgresql", "postgres", "spark", "sc")


class UrlFormWarning(AllrweWarning):
    """A URL in a form allrwe still reads but will not in a later release."""


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def validate_identifier(name: str, *, what: str = "identifier") -> str:
    """Return ``name`` if it is a plain SQL identifier, else raise :class:`UsageError`.

    Schema and table names come from user configuration; allrwe never pastes them into SQL
    text, and rejects anything but letters, digits and underscores so no backend has to quote.

    Parameters
    ----------
    name : str
        The identifier to check.
    what : str, default "identifier"
        What the identifier names, for the message.

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    UsageError
        If ``name`` is not a plain identifier.

    Examples
    --------
    >>> validate_identifier("cdm_54")
    'cdm_54'
    """
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise UsageError(
            f"invalid {what} {name!r}: use letters, digits and underscores only "
            "(starting with a letter or underscore, at most 63 characters)"
        )
    return name


def validate_schema(name: str) -> str:
    """Return ``name`` if it is a schema or a two-part ``catalog.schema``, else raise.

    Parameters
    ----------
    name : str
        ``schema`` or ``catalog.schema`` (Spark with Unity Catalog, Databricks, Trino,
        Snowflake, DuckDB's ``file.main``); each part a plain identifier.

    Returns
    -------
    str
        ``name``, unchanged.

    Raises
    ------
    UsageError
        More than two parts, or a part that is not a plain identifier.

    Examples
    --------
    >>> validate_schema("omop.cdm_54")
    'omop.cdm_54'
    """
    parts = name.split(".") if isinstance(name, str) else [name]
    if len(parts) > 2:
        raise UsageError(f"invalid schema name {name!r}: use schema or catalog.schema")
    for part in parts:
        validate_identifier(part, what="schema name")
    return name


def _database(schema: str | None) -> str | tuple[str, str] | None:
    """Return the ``database=`` argument of Ibis for a schema: a name or (catalog, schema)."""
    if schema is None or "." not in schema:
        return schema
    catalog, name = schema.split(".")
    return (catalog, name)


def cdm_url(path: str | Path, kind: str) -> str:
    """Return the URL of a DuckDB file or Parquet folder, in Ibis's form (absolute path).

    Parameters
    ----------
    path : str or pathlib.Path
        The file or folder; made absolute.
    kind : {"duckdb", "parquet", "csv"}
        The scheme.

    Returns
    -------
    str
        ``duckdb:///abs/path`` or ``parquet:///abs/path``.

    Examples
    --------
    >>> cdm_url("/data/cdm.duckdb", "duckdb")
    'duckdb:///data/cdm.duckdb'
    """
    return f"{kind}://{Path(path).absolute().as_posix()}"


@dataclass(frozen=True)
class CachedRows:
    """Rows of one CDM table kept in the engine: those matching a set of concept ids.

    Attributes
    ----------
    table : ibis.Table
        The materialised rows (a temporary table, or a cached Spark DataFrame).
    columns : tuple of str
        The columns searched: a row is kept when any of them holds one of ``ids``.
    ids : frozenset of int
        The ids searched for.
    rows : int
        Rows kept.
    persons : ibis.Table or None
        For rows kept by person (:meth:`CdmSource.cache_persons_rows`): the distinct
        ``person_id`` of the persons whose rows they are, kept in the engine as well.
    """

    table: ibis.Table
    columns: tuple[str, ...]
    ids: frozenset[int]
    rows: int
    persons: ibis.Table | None = None

    def covers(self, ids: Collection[int]) -> bool:
        """Whether every row a filter on ``ids`` (in the same columns) keeps is cached."""
        return self.ids.issuperset(ids)


@dataclass
class CdmSource:
    """A read-only OMOP CDM reached through an Ibis backend.

    Parameters
    ----------
    backend : ibis.backends.BaseBackend
        The open Ibis connection.
    kind : str
        One of ``"duckdb"``, ``"parquet"``, ``"postgresql"``, ``"spark"``.
    description : str
        A description of the source that holds no password, for provenance.
    schema : str or None
        The database schema holding the CDM tables, where the backend has schemas.
    stored_columns : dict of str to list of str
        Column names as stored in the files, by table, where the engine may rename them
        (Parquet); :meth:`table` refuses names that differ only in case.
    """

    backend: BaseBackend
    kind: str
    description: str
    schema: str | None = None
    stored_columns: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _tables: dict[str, str] = field(default_factory=dict, repr=False)
    _cached: dict[str, CachedRows] = field(default_factory=dict, repr=False)
    _exprs: dict[str, ibis.Table] = field(default_factory=dict, repr=False)
    _person_sets: list[tuple[ibis.Table, ibis.Table]] = field(default_factory=list, repr=False)
    _kept_values: dict[tuple[str, tuple[str, ...]], frozenset[tuple[Any, ...]]] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        if not self._tables:
            self._tables = self._discover_tables()

    def _discover_tables(self) -> dict[str, str]:
        kwargs: dict[str, Any] = {}
        if self.schema is not None:
            kwargs["database"] = _database(self.schema)
        try:
            names = self.backend.list_tables(**kwargs)
        except Exception as exc:  # backend-specific errors, reported uniformly
            raise CdmConnectionError(
                f"cannot list the tables of {self.description}: {_first_line(exc)}"
            ) from exc
        return {name.lower(): name for name in names}

    @property
    def tables(self) -> list[str]:
        """Sorted lower-case names of the tables present."""
        return sorted(self._tables)

    def has(self, name: str) -> bool:
        """Return whether the CDM holds table ``name`` (case-insensitive)."""
        return name.lower() in self._tables

    def table(self, name: str) -> ibis.Table:
        """Return table ``name`` as a lazy Ibis expression with lower-case column names.

        Raises
        ------
        CdmSchemaError
            If the table is not in the CDM.
        """
        key = name.lower()
        if key not in self._tables:
            raise CdmSchemaError(f"table {name!r} is not in the CDM ({self.description})")
        if key not in self._exprs:
            # Looking a table up asks the engine for its schema; the source is read-only, so
            # one look-up per table and session is enough.
            kwargs: dict[str, Any] = {}
            if self.schema is not None:
                kwargs["database"] = _database(self.schema)
            expr = self.backend.table(self._tables[key], **kwargs)
            _refuse_case_duplicates(key, self.stored_columns.get(key, expr.columns))
            renames = {c.lower(): c for c in expr.columns if c != c.lower()}
            self._exprs[key] = expr.rename(renames) if renames else expr
        return self._exprs[key]

    def cache_rows(
        self, name: str, *, match: Sequence[str], ids: Collection[int], columns: Sequence[str]
    ) -> CachedRows:
        """Read the rows of ``name`` whose ``match`` columns hold one of ``ids`` once; keep them.

        The rows are materialised in the engine (a session-private temporary table; a cached
        DataFrame on Spark); the source database is not written. Later calls to
        :meth:`cached_rows` return them until :meth:`close`.

        Parameters
        ----------
        name : str
            The CDM table.
        match : sequence of str
            Columns searched (a row is kept when any of them holds one of ``ids``).
        ids : collection of int
            The ids searched for; must not be empty.
        columns : sequence of str
            The columns kept (must include ``match``).

        Returns
        -------
        CachedRows
        """
        key = name.lower()
        if not ids:
            raise ValueError("cache_rows needs at least one id")
        table = self.table(name)
        wanted = sorted(ids)
        cond = functools.reduce(operator.or_, [table[c].isin(wanted) for c in match])
        self.release(name)
        cached, rows = self._materialise(name, table.filter(cond).select(*columns))
        self._cached[key] = CachedRows(cached, tuple(match), frozenset(ids), rows)
        return self._cached[key]

    def cache_persons_rows(self, name: str, persons: ibis.Table) -> CachedRows:
        """Keep the rows of ``name`` whose ``person_id`` is in ``persons`` (an expression here).

        Used to check ``person``, ``observation_period`` and ``death`` on the persons a study
        reads. Text columns (``*_source_value``) are left out: no analysis reads them. The kept
        rows match no concept (:meth:`CachedRows.covers` is false for any concept).

        Returns
        -------
        CachedRows
        """
        key = name.lower()
        table = self.table(name)
        columns = [c for c, t in table.schema().items() if not t.is_string()]
        self.release(name)
        who = self._person_set(persons)
        kept = table.semi_join(who, "person_id")
        cached, rows = self._materialise(name, kept.select(*columns))
        self._cached[key] = CachedRows(cached, ("person_id",), frozenset(), rows, persons=who)
        return self._cached[key]

    def cache_kept_persons_rows(self, names: Sequence[str] = PERSON_TABLES) -> list[str]:
        """Keep the rows of ``names`` of every person with a row kept by :meth:`cache_rows`.

        The persons, observation periods and deaths a study can read are those of persons with
        a kept record; the run's checks of these tables cover them, not everyone in the CDM.
        Tables absent from the CDM are left out, and nothing is kept when no row is.

        Returns
        -------
        list of str
            The tables whose rows were kept.
        """
        persons = [e.table.select("person_id") for e in self._cached.values() if e.persons is None]
        if not persons:
            return []
        anyone = persons[0] if len(persons) == 1 else ibis.union(*persons)
        done = [name for name in names if self.has(name)]
        for name in done:
            self.cache_persons_rows(name, anyone)
        return done

    def _person_set(self, persons: ibis.Table) -> ibis.Table:
        # The distinct persons, kept once however many tables are kept for them.
        wanted = persons.select("person_id").distinct()
        for expr, kept in self._person_sets:
            if expr.equals(wanted):
                return kept
        kept, _ = self._materialise("the persons with a kept record", wanted)
        self._person_sets.append((wanted, kept))
        return kept

    def rows_for_persons(self, name: str, persons: ibis.Table) -> ibis.Table:
        """Return the rows of ``name`` a query about ``persons`` needs: kept ones if they do.

        The rows kept by :meth:`cache_persons_rows` serve when every person of ``persons`` is
        one they were kept for (one query checks this); otherwise, or when none are kept, this
        is :meth:`table`. The kept rows lack text columns, which no caller reads.

        Parameters
        ----------
        name : str
            ``person``, ``observation_period`` or ``death``, say.
        persons : ibis.Table
            A table with a ``person_id`` column: the persons the caller's query is about.

        Returns
        -------
        ibis.Table
        """
        entry = self._cached.get(name.lower())
        if entry is None or entry.persons is None:
            return self.table(name)
        outside = persons.select("person_id").anti_join(entry.persons, "person_id").count()
        return entry.table if int(self.execute(outside)) == 0 else self.table(name)

    def _materialise(self, name: str, expr: ibis.Table) -> tuple[ibis.Table, int]:
        cached: ibis.Table | None = None
        try:
            cached = expr.cache()
            return cached, int(self.execute(cached.count()))
        except Exception as exc:  # a value the engine cannot read, reported as data
            if cached is not None:
                with contextlib.suppress(Exception):
                    cached.release()
            raise CdmDataError(
                f"cannot read the rows of {name} allrwe needs: {_first_line(exc)}"
            ) from exc

    def cached_rows(self, name: str) -> CachedRows | None:
        """Return the rows of ``name`` kept by :meth:`cache_rows`, if any."""
        return self._cached.get(name.lower())

    def kept_values(self, name: str, columns: Sequence[str]) -> frozenset[tuple[Any, ...]]:
        """Return the distinct values of ``columns`` in the rows kept for ``name``.

        One query on the kept rows (:meth:`cache_rows`) the first time; the answer is
        remembered until they are released, as they never change.

        Parameters
        ----------
        name : str
            The CDM table whose rows are kept.
        columns : sequence of str
            Columns of the kept rows.

        Returns
        -------
        frozenset of tuple
            One tuple per distinct combination, in the order of ``columns``; ``None`` for a
            null.

        Raises
        ------
        ValueError
            No rows of ``name`` are kept.
        """
        entry = self.cached_rows(name)
        if entry is None:
            raise ValueError(f"no rows of {name!r} are kept")
        key = (name.lower(), tuple(columns))
        if key not in self._kept_values:
            frame = self.execute(entry.table.select(*columns).distinct())
            # None for a null, whether it came back as None, NaN or pandas.NA
            values = [frame[c].astype(object).where(frame[c].notna(), None) for c in columns]
            self._kept_values[key] = frozenset(zip(*(v.tolist() for v in values), strict=True))
        return self._kept_values[key]

    def release(self, name: str | None = None) -> None:
        """Drop the cached rows of ``name`` (of every table when ``None``)."""
        names = list(self._cached) if name is None else [name.lower()]
        for key in names:
            for values_key in [k for k in self._kept_values if k[0] == key]:
                del self._kept_values[values_key]
            entry = self._cached.pop(key, None)
            if entry is not None:
                entry.table.release()
        if name is None:
            while self._person_sets:
                self._person_sets.pop()[1].release()

    def execute(self, expr: ibis.Expr) -> Any:
        """Execute an expression built on this source's tables and return pandas objects."""
        with warnings.catch_warnings():
            # ibis 12 reads pandas' deprecated future.infer_string option on every result and
            # calls DuckDB's deprecated fetch_arrow_table; neither concerns the caller.
            warnings.filterwarnings("ignore", message=".*future.infer_string.*")
            warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*")
            return self.backend.execute(expr)

    def close(self) -> None:
        """Drop cached rows and close the connection (a shared Spark session stays open)."""
        try:
            self.release()
        except Exception:  # a broken connection must still be closed
            pass
        finally:
            if self.kind != "spark":
                self.backend.disconnect()

    def __enter__(self) -> CdmSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def connect(
    url: str | Path | BaseBackend | Any, *, schema: str | None = None, spark_session: Any = None
) -> CdmSource:
    """Open an OMOP CDM read-only.

    Parameters
    ----------
    url : str, pathlib.Path, CdmSource, Ibis backend or SparkSession
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
        still works, with a :class:`UrlFormWarning`. A CdmSource is returned as it is; an
        open Ibis backend or a SparkSession is read through (the caller closes it).
    schema : str, optional
        Schema (database) holding the CDM tables, ``schema`` or ``catalog.schema``;
        overrides ``?schema=`` in the URL.
    spark_session : pyspark.sql.SparkSession, optional
        A session to use for ``spark://`` instead of the active one.

    Returns
    -------
    CdmSource
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
        return _connect_object(url, schema)
    text = _url_text(str(url))
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
    schema = schema if schema is not None else query.get("schema")
    if schema is not None:
        validate_schema(schema)
    if scheme == "duckdb":
        return _connect_duckdb(_url_path(parsed), schema)
    if scheme == "parquet":
        return _connect_parquet(_url_path(parsed))
    if scheme == "csv":
        return _connect_csv(_url_path(parsed))
    if scheme in ("postgresql", "postgres"):
        return _connect_postgres(parsed, schema)
    if scheme in ("spark", "sc"):
        return _connect_spark(schema, spark_session, master=_spark_master(parsed))
    raise UsageError(
        f"unknown URL scheme {parsed.scheme!r} in {_redact(text)!r}: "
        f"use one of {', '.join(SCHEMES)}"
    )


def _connect_object(given: Any, schema: str | None) -> CdmSource:
    """Return a CdmSource over an open CdmSource, Ibis backend or SparkSession."""
    if isinstance(given, CdmSource):
        if schema is not None and schema != given.schema:
            raise UsageError(f"the CDM source {given.description} is not in schema {schema!r}")
        return given
    if schema is not None:
        validate_schema(schema)
    if isinstance(given, BaseBackend):
        return _wrap_backend(given, schema)
    if _is_spark_session(given):
        return _connect_spark(schema, given, master=None)
    raise UsageError(
        f"cannot read a CDM from a {type(given).__name__}: give a URL, a path, a CdmSource, "
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
        csv_only = bool(_csv_tables(folder)) and not _parquet_tables(folder)
        return cdm_url(text, "csv" if csv_only else "parquet")
    raise UsageError(
        f"cannot tell what {text!r} is: give a URL such as duckdb:///abs/cdm.duckdb, "
        "parquet:///abs/dir, postgresql://user@host/db?schema=cdm or spark://"
    )


def local_path(url: Any) -> Path | None:
    """Return the file or folder of a local CDM URL (DuckDB or Parquet), else None.

    Parameters
    ----------
    url : str, pathlib.Path or object
        A CDM as :func:`connect` takes it (an open source or backend gives None).

    Returns
    -------
    pathlib.Path or None
        The DuckDB file or Parquet folder; None for a server or an unknown form.
    """
    if not isinstance(url, (str, os.PathLike)):
        return None
    text = os.fspath(url)
    if "://" not in text:
        return Path(text) if text.endswith(".duckdb") or Path(text).is_dir() else None
    parsed = urlparse(text)
    if parsed.scheme.lower() not in ("duckdb", "parquet"):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # connect() warns about an old URL form once
        return _url_path(parsed)


def _url_path(parsed: Any) -> Path:
    """Return the path of a ``duckdb:`` or ``parquet:`` URL, as Ibis reads it.

    ``duckdb:///abs/path`` is absolute and ``duckdb://rel/path`` relative (the host part is
    the first folder). allrwe 0.1's forms still work, with a :class:`UrlFormWarning`:
    ``duckdb:////abs/path``, and ``duckdb:///rel/path`` when ``/rel/path`` does not exist
    but ``rel/path`` does.
    """
    raw = unquote(parsed.path)
    if parsed.netloc:
        return Path(unquote(parsed.netloc) + raw)
    scheme = parsed.scheme.lower()
    if raw.startswith("//"):
        path = Path("/" + raw.lstrip("/"))
        _warn_url_form(f"{scheme}:////{raw.lstrip('/')}", f"{scheme}://{path.as_posix()}")
        return path
    path = Path(raw or ".")
    relative = Path(raw.lstrip("/"))
    if path.is_absolute() and not path.exists() and raw.lstrip("/") and relative.exists():
        _warn_url_form(f"{scheme}://{raw}", f"{scheme}://{relative.as_posix()}", relative_path=True)
        return relative
    return path


_URL_HINT = (
    "(an absolute path follows three slashes, {0}:///abs/path; a relative one two, {0}://rel/path)"
)


def _warn_url_form(given: str, ibis_form: str, *, relative_path: bool = False) -> None:
    meaning = "a relative path" if relative_path else "an absolute path"
    warnings.warn(
        f"{given!r} is allrwe 0.1's URL form for {meaning}; write {ibis_form!r} "
        "(Ibis's form: three slashes and an absolute path, or scheme://relative/path)",
        UrlFormWarning,
        stacklevel=4,
    )


def _refuse_case_duplicates(table: str, columns: Sequence[str]) -> None:
    """Refuse columns whose names differ only in case: which one is meant cannot be told."""
    seen: dict[str, str] = {}
    for column in columns:
        first = seen.setdefault(column.lower(), column)
        if first != column:
            raise CdmSchemaError(
                f"{table} has columns {first!r} and {column!r}, which differ only in case; "
                "allrwe matches names without regard to case and cannot tell which to use "
                "(drop or rename one)"
            )


def _redact(text: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", text)


#: DuckDB's memory limit unless ALLRWE_DUCKDB_MEMORY_LIMIT says otherwise; above it DuckDB
#: spills to a private temporary folder instead of growing (docs/backends.md)
DUCKDB_MEMORY_LIMIT = "3GB"


def _remove_stale_scratch(parent: Path) -> None:
    """Remove the temporary folders of allrwe processes (of this user) that have ended."""
    try:
        entries = list(parent.glob("allrwe-duckdb-*-*"))
    except OSError:
        return
    for entry in entries:
        match = re.fullmatch(r"allrwe-duckdb-(\d+)-[^/]+", entry.name)
        try:
            mine = entry.is_dir() and not entry.is_symlink() and entry.stat().st_uid == os.getuid()
        except OSError:
            continue
        if match is None or not mine:
            continue
        try:
            os.kill(int(match.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except (OSError, OverflowError):
            continue


@functools.cache
def _scratch() -> Path:
    # One folder per process: DuckDB opens a file once per process and refuses a second
    # connection to it with another configuration, so every connection gets the same one.
    try:
        _remove_stale_scratch(Path(tempfile.gettempdir()))
        path = Path(tempfile.mkdtemp(prefix=f"allrwe-duckdb-{os.getpid()}-"))
    except OSError as exc:
        raise UsageError(
            f"cannot create DuckDB's temporary folder in {tempfile.gettempdir()!r} "
            f"({exc.strerror}); set TMPDIR to a writable folder"
        ) from exc
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _duckdb_config() -> dict[str, str]:
    limit = os.environ.get("ALLRWE_DUCKDB_MEMORY_LIMIT", "").strip() or DUCKDB_MEMORY_LIMIT
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", limit, flags=re.IGNORECASE):
        raise UsageError(f"ALLRWE_DUCKDB_MEMORY_LIMIT={limit!r} is not a size such as 3GB or 512MB")
    # Each file is read once per run, so DuckDB's cache of file contents (on by default since
    # 1.3) only holds memory: over 1 GB at 10M persons, and about 1 s to free on close.
    return {
        "memory_limit": limit,
        "temp_directory": str(_scratch()),
        "enable_external_file_cache": "false",
    }


def _connect_duckdb(path: Path, schema: str | None) -> CdmSource:
    if not path.is_file():
        raise UsageError(f"DuckDB file {str(path)!r} does not exist {_URL_HINT.format('duckdb')}")
    config = _duckdb_config()
    try:
        backend = ibis.duckdb.connect(str(path), read_only=True, **config)
    except Exception as exc:
        raise CdmConnectionError(
            f"cannot open DuckDB file {str(path)!r}: {_first_line(exc)}"
        ) from exc
    return CdmSource(backend, "duckdb", f"duckdb:{path.name}", schema)


def _parquet_tables(root: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue  # hidden files: macOS '._person.parquet', editors' and sync tools' files
        if entry.is_file() and entry.suffix == ".parquet":
            name, location = entry.stem.lower(), str(entry)
        elif entry.is_dir() and any(entry.glob("*.parquet")):
            name, location = entry.name.lower(), str(entry / "*.parquet")
        else:
            continue
        if name in found:
            # Two spellings of one table (person.parquet and person/) would make the answer
            # depend on which one allrwe happened to read.
            raise UsageError(
                f"Parquet folder {str(root)!r} holds table {name!r} twice "
                f"({Path(found[name]).name!r} and {entry.name!r}); keep one"
            )
        found[name] = location
    return found


def _csv_tables(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        if not (entry.is_file() and entry.suffix.lower() in (".csv", ".tsv")):
            continue
        name = entry.stem.lower()
        if name in found:
            raise UsageError(
                f"CSV folder {str(root)!r} holds table {name!r} twice "
                f"({found[name].name!r} and {entry.name!r}); keep one"
            )
        found[name] = entry
    return found


#: SQL casting a text column to each logical CDM type; dates as ISO or as Athena's YYYYMMDD
_CSV_CASTS = {
    "integer": "CAST({c} AS BIGINT)",
    "float": "CAST({c} AS DOUBLE)",
    "date": "COALESCE(TRY_CAST({c} AS DATE), CAST(STRPTIME({c}, '%Y%m%d') AS DATE))",
    "datetime": "CAST({c} AS TIMESTAMP)",
    "string": "{c}",
}


def _connect_csv(root: Path) -> CdmSource:
    from allrwe.io.cdm_spec import load_cdm_spec

    if not root.is_dir():
        raise UsageError(f"CSV folder {str(root)!r} does not exist")
    files = _csv_tables(root)
    if not files:
        raise UsageError(f"CSV folder {str(root)!r} holds no <table>.csv file")
    spec = load_cdm_spec()
    backend = ibis.duckdb.connect(**_duckdb_config())
    for name, path in files.items():
        validate_identifier(name, what="table name")
        source = "read_csv('{}', header = true, all_varchar = true)".format(
            str(path).replace("'", "''")
        )
        try:
            columns = [str(c) for c in backend.sql(f"SELECT * FROM {source}").columns]
            fields = {f.name: f.type for f in spec.table(name).fields} if name in spec else {}
            parts = []
            for column in columns:
                lower = validate_identifier(column.lower(), what="column name")
                quoted = '"' + column.replace('"', '""') + '"'
                cast = _CSV_CASTS[fields.get(lower, "string")].format(c=f"NULLIF({quoted}, '')")
                parts.append(f"{cast} AS {lower}")
            backend.raw_sql(f"CREATE VIEW {name} AS SELECT {', '.join(parts)} FROM {source}")
        except Exception as exc:
            backend.disconnect()
            raise CdmConnectionError(
                f"cannot read CSV table {name!r} at {str(path)!r}: {_first_line(exc)}"
            ) from exc
    return CdmSource(backend, "csv", f"csv:{root.name}", None)


def _connect_parquet(root: Path) -> CdmSource:
    if not root.is_dir():
        raise UsageError(
            f"Parquet folder {str(root)!r} does not exist {_URL_HINT.format('parquet')}"
        )
    files = _parquet_tables(root)
    if not files:
        raise UsageError(f"Parquet folder {str(root)!r} holds no <table>.parquet file or folder")
    for name in files:
        validate_identifier(name, what="table name")
    backend = ibis.duckdb.connect(**_duckdb_config())
    stored: dict[str, list[str]] = {}
    for name, location in files.items():
        try:
            backend.read_parquet(location, table_name=name)
        except Exception as exc:
            backend.disconnect()
            raise CdmConnectionError(
                f"cannot read Parquet table {name!r} at {location!r}: {_first_line(exc)}"
            ) from exc
        # DuckDB renames the second of two columns equal without regard to case
        # (Year_Of_Birth becomes Year_Of_Birth_1), so look at the names in the files; a
        # damaged part file is left to the check, which names it as an unreadable table
        try:
            rows = backend.con.execute(
                "SELECT DISTINCT name FROM parquet_schema(?)", [location]
            ).fetchall()
        except Exception:
            continue
        stored[name] = [str(row[0]) for row in rows]
    source = CdmSource(backend, "parquet", f"parquet:{root.name}", None)
    source.stored_columns.update(stored)
    return source


def _postgres_params(parsed: Any) -> dict[str, Any]:
    """Return the psycopg connection keywords of a parsed ``postgresql://`` URL."""
    return {
        "host": parsed.hostname or "localhost",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
        "database": parsed.path.lstrip("/") or None,
    }


@functools.cache
def _read_only_postgres() -> type[BaseBackend]:
    """Return the Ibis PostgreSQL backend class, with in-memory tables in a read-only session."""
    from ibis.backends.postgres import Backend

    # First use of ibis.postgres registers the backend's options, as ibis.postgres.connect does.
    _ = ibis.postgres

    class ReadOnlyPostgres(Backend):
        def _register_in_memory_table(self, op: Any) -> None:
            # Cohort-sized frames travel to the server as session-private TEMP tables; creating
            # or dropping one needs a read-write transaction, so only that statement gets one.
            with self._writable():
                super()._register_in_memory_table(op)

        def _create_cached_table(self, name: str, expr: Any) -> Any:
            # Rows kept by CdmSource.cache_rows: a TEMP table, private to the session.
            with self._writable():
                return super()._create_cached_table(name, expr)

        def _drop_cached_table(self, name: str) -> None:
            with self._writable():
                super()._drop_cached_table(name)

        @contextlib.contextmanager
        def _writable(self) -> Iterator[None]:
            self.con.read_only = False
            try:
                yield
            finally:
                self.con.read_only = None

    return ReadOnlyPostgres


def _check_schema(backend: BaseBackend, schema: str | None, where: str) -> None:
    if schema is None:
        return
    database = _database(schema)
    catalog, name = database if isinstance(database, tuple) else (None, schema)
    kwargs = {"catalog": catalog} if catalog is not None else {}
    try:
        schemas = {n.lower() for n in backend.list_databases(**kwargs)}
    except Exception as exc:
        raise CdmConnectionError(f"cannot list the schemas of {where}: {_first_line(exc)}") from exc
    if name.lower() not in schemas:
        raise CdmConnectionError(
            f"schema {schema!r} does not exist in {where}, or the user may not use it"
        )


def _connect_postgres(parsed: Any, schema: str | None) -> CdmSource:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            "the PostgreSQL backend is not installed: pip install 'allrwe[postgres]'"
        ) from exc
    params = _postgres_params(parsed)
    where = f"PostgreSQL at {params['host']}:{params['port']}/{params['database']}"
    try:
        # A study only reads: every transaction of the session is read-only from the start.
        backend = _read_only_postgres()().connect(
            **params, options="-c default_transaction_read_only=on"
        )
    except Exception as exc:
        raise CdmConnectionError(f"cannot connect to {where}: {_first_line(exc)}") from exc
    try:
        _check_schema(backend, schema, where)
    except CdmConnectionError:
        backend.disconnect()
        raise
    desc = f"postgresql:{params['host']}:{params['port']}/{params['database']}"
    return CdmSource(backend, "postgresql", desc + (f"?schema={schema}" if schema else ""), schema)


#: names of the temporary views that hold Ibis's in-memory and cached tables in Spark
_IBIS_MEMTABLE = re.compile(r"^ibis_[a-z]*_?(memtable|cached)_")


@functools.cache
def _cdm_pyspark() -> type[BaseBackend]:
    """Return the Ibis PySpark backend class adapted to reading a CDM from a Spark database."""
    from ibis.backends.pyspark import Backend

    # First use of ibis.pyspark registers ibis.options.pyspark, which its compiler reads.
    _ = ibis.pyspark

    class CdmPySpark(Backend):
        def execute(self, expr: Any, /, **kwargs: Any) -> Any:
            with warnings.catch_warnings():
                # PySpark 4.0 converts results with astype(copy=False), deprecated by pandas 3.
                warnings.filterwarnings("ignore", message="The copy keyword is deprecated")
                return super().execute(expr, **kwargs)

        def list_tables(self, *, like: str | None = None, database: Any = None) -> list[str]:
            names: list[str] = super().list_tables(like=like, database=database)
            if not isinstance(database, str):
                return [n for n in names if not _IBIS_MEMTABLE.match(n)]
            # SHOW TABLES IN <db> also lists the session's temporary views, Ibis's in-memory
            # tables among them; the tables of a database are only those it holds.
            rows = self._session.sql(f"SHOW TABLES IN {database}").collect()
            temporary = {r.tableName for r in rows if r.isTemporary}
            return [n for n in names if n not in temporary]

    return CdmPySpark


def _spark_master(parsed: Any) -> str | None:
    """Return the Spark master a ``spark://`` or ``sc://`` URL names (None: local or active).

    Examples
    --------
    >>> _spark_master(urlparse("spark://master.example.org:7077?schema=cdm"))
    'spark://master.example.org:7077'
    >>> _spark_master(urlparse("spark://?schema=cdm")) is None
    True
    """
    scheme = parsed.scheme.lower()
    if not parsed.netloc:
        if scheme == "sc":
            raise UsageError("a Spark Connect URL needs a host: sc://host:15002")
        return None
    return f"{scheme}://{parsed.netloc}"


def _is_spark_session(value: Any) -> bool:
    return type(value).__name__ == "SparkSession" and type(value).__module__.startswith("pyspark")


def _session_master(session: Any) -> str | None:
    """Return the master of a classic Spark session (None for a Spark Connect session)."""
    try:
        return str(session.sparkContext.master)
    except Exception:  # Spark Connect sessions have no SparkContext
        return None


def spark_session(master: str | None = None, session: Any = None) -> Any:
    """Return the Spark session to read from: ``session``, the active one, or a new one.

    A new session shows no console progress bars and logs errors only (``--verbose`` does
    not change Spark's JVM log level; set it with ``session.sparkContext.setLogLevel``).

    Parameters
    ----------
    master : str, optional
        ``spark://host:port`` (a standalone master) or ``sc://host:port`` (Spark Connect);
        default the active session, else a new ``local[2]`` one.
    session : pyspark.sql.SparkSession, optional
        A session given by the caller.

    Raises
    ------
    UsageError
        The given or active session runs on another master than ``master``: allrwe never
        ignores a host it was given.
    CdmConnectionError
        The master cannot be reached.
    BackendUnavailableError
        pyspark (or Spark Connect's packages) are not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise BackendUnavailableError(
            "the Spark backend is not installed: pip install 'allrwe[spark]'"
        ) from exc
    current = session if session is not None else SparkSession.getActiveSession()
    if current is not None:
        running = _session_master(current)
        if master is not None and running is not None and running != master:
            raise UsageError(
                f"the Spark session runs on {running!r}, not on {master!r}: stop it, or use "
                "spark:// (no host) to read through it"
            )
        return current
    builder = SparkSession.builder
    try:
        if master is not None and master.startswith("sc://"):
            return builder.remote(master).getOrCreate()
        new = (
            builder.master(master or "local[2]")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    except ImportError as exc:
        raise BackendUnavailableError(
            f"Spark Connect needs its extra packages: pip install 'pyspark[connect]' "
            f"({_first_line(exc)})"
        ) from exc
    except Exception as exc:
        raise CdmConnectionError(
            f"cannot start a Spark session on {master or 'local[2]'}: {_first_line(exc)}"
        ) from exc
    new.sparkContext.setLogLevel("ERROR")
    return new


def _connect_spark(schema: str | None, session: Any, *, master: str | None) -> CdmSource:
    session = spark_session(master, session)
    try:
        backend = _cdm_pyspark()().connect(session)
    except Exception as exc:
        raise CdmConnectionError(f"cannot use the Spark session: {_first_line(exc)}") from exc
    where = f"the Spark catalog ({master})" if master else "the Spark catalog"
    _check_schema(backend, schema, where)
    desc = "spark" + (f"@{urlparse(master).netloc}" if master else "")
    return CdmSource(backend, "spark", desc + (f":{schema}" if schema else ""), schema)


def _wrap_backend(backend: BaseBackend, schema: str | None) -> CdmSource:
    """Return a CdmSource over an Ibis backend the caller opened (and will close)."""
    kind = str(getattr(backend, "name", type(backend).__module__))
    if kind == "pyspark":  # read through allrwe's PySpark backend, which hides temp views
        return _connect_spark(schema, backend._session, master=None)
    _check_schema(backend, schema, f"the {kind} connection")
    desc = f"{kind} (Ibis backend)" + (f":{schema}" if schema else "")
    return CdmSource(backend, kind, desc, schema)
