"""What every reader of an OMOP CDM offers: the :class:`CdmSource` protocol.

The cohort and the analyses read a CDM through this interface only, never a connection. Two
classes provide it: :class:`~allrwe.io.connection.CdmConnection` (an open connection, keeping
no rows) and :class:`~allrwe.io.kept.KeptRows` (the rows a run keeps, read through the
connection it was made from). :attr:`CdmSource.kept` tells which: the event queries and the
CDM check read kept rows only when they are handed a reader that has them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import ibis
    from ibis.backends import BaseBackend

    from allrwe.io.kept import KeptRows

__all__ = ["CdmSource"]


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
    def kept(self) -> KeptRows | None:
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
