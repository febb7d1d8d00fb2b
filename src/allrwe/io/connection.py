"""One open, read-only connection to an OMOP CDM: its tables as lazy Ibis expressions.

Everything above :mod:`allrwe.io` receives table expressions from :meth:`CdmConnection.table`
and never the connection. The rules this module owns: table names are matched without regard
to case, columns come back lower-case, and a table whose columns differ only in case is
refused. A connection keeps no rows (:attr:`CdmConnection.kept` is None): rows a run keeps are
a :class:`~allrwe.io.kept.KeptRows` the run owns. Opening one is
:func:`allrwe.io.source.connect`'s.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import ibis
from ibis.backends import BaseBackend

from allrwe.errors import CdmConnectionError, CdmSchemaError
from allrwe.io.identifiers import ibis_database

__all__ = ["CdmConnection", "check_schema", "first_line"]


@dataclass
class CdmConnection:
    """A read-only OMOP CDM reached through an Ibis backend (a :class:`~allrwe.io.cdm.CdmSource`).

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
    temporary_tables : bool, default True
        Whether rows kept from it (:class:`~allrwe.io.kept.KeptRows`) are materialised
        (``.cache()``: a temporary table). False where the engine allows none (Trino,
        Databricks SQL warehouses): kept rows are then the filtered expression, recomputed by
        each query that reads them (same results, more reading).
    """

    backend: BaseBackend
    kind: str
    description: str
    schema: str | None = None
    stored_columns: dict[str, list[str]] = field(default_factory=dict, repr=False)
    temporary_tables: bool = True
    _tables: dict[str, str] = field(default_factory=dict, repr=False)
    _exprs: dict[str, ibis.Table] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self._tables:
            self._tables = self._discover_tables()

    def _discover_tables(self) -> dict[str, str]:
        kwargs: dict[str, Any] = {}
        if self.schema is not None:
            kwargs["database"] = ibis_database(self.schema)
        try:
            names = self.backend.list_tables(**kwargs)
        except Exception as exc:  # backend-specific errors, reported uniformly
            raise CdmConnectionError(
                f"cannot list the tables of {self.description}: {first_line(exc)}"
            ) from exc
        return {name.lower(): name for name in names}

    @property
    def kept(self) -> None:
        """None: a bare connection keeps no rows (see :class:`~allrwe.io.kept.KeptRows`)."""
        return None

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
                kwargs["database"] = ibis_database(self.schema)
            expr = self.backend.table(self._tables[key], **kwargs)
            _refuse_case_duplicates(key, self.stored_columns.get(key, expr.columns))
            renames = {c.lower(): c for c in expr.columns if c != c.lower()}
            self._exprs[key] = expr.rename(renames) if renames else expr
        return self._exprs[key]

    def execute(self, expr: ibis.Expr) -> Any:
        """Execute an expression built on this source's tables and return pandas objects."""
        with warnings.catch_warnings():
            # ibis 12 reads pandas' deprecated future.infer_string option on every result and
            # calls DuckDB's deprecated fetch_arrow_table; neither concerns the caller.
            warnings.filterwarnings("ignore", message=".*future.infer_string.*")
            warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*")
            return self.backend.execute(expr)

    def close(self) -> None:
        """Close the connection (a shared Spark session stays open).

        Rows kept by a :class:`~allrwe.io.kept.KeptRows` live in this connection's session and
        go with it; the run releases them before.
        """
        if self.kind != "spark":
            self.backend.disconnect()

    def __enter__(self) -> CdmConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def first_line(exc: BaseException) -> str:
    """Return the first line of an exception's text (its type when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


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


def check_schema(backend: BaseBackend, schema: str | None, where: str) -> None:
    """Raise :class:`CdmConnectionError` unless ``schema`` exists in ``backend`` (None: any)."""
    if schema is None:
        return
    database = ibis_database(schema)
    catalog, name = database if isinstance(database, tuple) else (None, schema)
    kwargs = {"catalog": catalog} if catalog is not None else {}
    try:
        schemas = {n.lower() for n in backend.list_databases(**kwargs)}
    except Exception as exc:
        raise CdmConnectionError(f"cannot list the schemas of {where}: {first_line(exc)}") from exc
    if name.lower() not in schemas:
        raise CdmConnectionError(
            f"schema {schema!r} does not exist in {where}, or the user may not use it"
        )
