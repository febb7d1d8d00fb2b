"""What every reader of an OMOP CDM offers: the :class:`CdmSource` and :class:`Kept` protocols.

The cohort and the analyses read a CDM through this interface only, never a connection. Two
classes provide it: :class:`~allrwe.io.connection.CdmConnection` (an open connection, keeping
no rows) and :class:`~allrwe.io.kept.KeptRows` (the rows a run keeps, read through the
connection it was made from). :attr:`CdmSource.kept` tells which: the event queries and the
CDM check read kept rows only when they are handed a reader that has them (:class:`Kept`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import ibis

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["CachedRows", "CdmSource", "Kept"]


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
        For rows kept by person (:meth:`KeptRows.cache_persons_rows`): the distinct
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


class Kept(Protocol):
    """The rows a reader keeps, as the event queries and the CDM check read them."""

    @property
    def expansions(self) -> dict[Any, Any]:
        """Memo of concept sets expanded with their descendants, by the set's signature."""
        ...

    def cached_rows(self, name: str) -> CachedRows | None:
        """Return the rows of ``name`` kept by concept, if any."""
        ...

    def kept_values(self, name: str, columns: Sequence[str]) -> frozenset[tuple[Any, ...]]:
        """Return the distinct values of ``columns`` in the rows kept for ``name``."""
        ...

    def rows_for_persons(self, name: str, persons: ibis.Table) -> ibis.Table:
        """Return the kept rows of ``name`` when they cover ``persons``, else the table."""
        ...


class CdmSource(Protocol):
    """A read-only OMOP CDM: its tables as lazy Ibis expressions, and the rows kept of them."""

    @property
    def backend(self) -> BaseBackend:
        """The open Ibis connection (for the engine's own settings; never written to)."""
        ...

    @property
    def kind(self) -> str:
        """``"duckdb"``, ``"parquet"``, ``"csv"``, ``"postgresql"``, ``"spark"``, or a backend's."""
        ...

    @property
    def description(self) -> str:
        """The source, without a password, for messages and provenance."""
        ...

    @property
    def schema(self) -> str | None:
        """The schema holding the CDM tables, where the backend has schemas."""
        ...

    @property
    def kept(self) -> Kept | None:
        """The rows kept of the CDM's tables, or None when the reader keeps none."""
        ...

    @property
    def tables(self) -> list[str]:
        """Sorted lower-case names of the tables present."""
        ...

    def has(self, name: str) -> bool:
        """Return whether the CDM holds table ``name`` (case-insensitive)."""
        ...

    def table(self, name: str) -> ibis.Table:
        """Return table ``name`` as a lazy Ibis expression with lower-case column names."""
        ...

    def execute(self, expr: ibis.Expr) -> Any:
        """Execute an expression built on this source's tables and return pandas objects."""
        ...
