"""The rows a run keeps in the engine: an explicit object the run owns and passes on.

A study reads each event table once (the records of every concept set) and then only those
rows; the persons, observation periods and deaths of the persons with a kept record are kept
too. :class:`KeptRows` holds them for one open :class:`~allrwe.io.connection.CdmConnection`,
with the answers derived from them that never change (distinct values, concept expansions). The rule
this module owns: whoever reads kept rows is handed this object (the CDM check, the cohort,
the event queries); nothing keeps rows behind a caller's back, and :meth:`KeptRows.release`
drops them all. The source database is never written: rows live in session-private
temporary tables (a cached DataFrame on Spark).
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import ibis
from ibis.backends import BaseBackend

from allrwe.errors import CdmDataError
from allrwe.io.cdm import CachedRows, CdmSource
from allrwe.io.connection import CdmConnection, first_line

__all__ = ["PERSON_TABLES", "CachedRows", "KeptRows", "rows_for_persons"]


#: the tables :meth:`KeptRows.cache_kept_persons_rows` keeps rows of, by person
PERSON_TABLES = ("person", "observation_period", "death")

#: kinds of source whose engine (DuckDB) prunes a scan by a one-column filter: there
#: :meth:`KeptRows.cache_rows` first asks which searched columns hold an id at all
_PRUNING_KINDS = frozenset({"duckdb", "parquet"})


@dataclass
class KeptRows:
    """The rows kept in the engine for one open CDM source, by table.

    Parameters
    ----------
    source : CdmConnection
        The open source the rows are read from (and kept in).

    Attributes
    ----------
    expansions : dict
        Memo of concept sets expanded with their descendants, by the set's signature
        (:mod:`allrwe.cohort.events` fills it): the vocabulary does not change during a run.

    Examples
    --------
    >>> with connect(url) as source, KeptRows(source) as kept:  # doctest: +SKIP
    ...     rows = kept.cache_rows("drug_exposure", match=["drug_concept_id"], ids=[1],
    ...                            columns=["person_id"])
    """

    source: CdmConnection
    expansions: dict[Any, Any] = field(default_factory=dict, repr=False)
    _cached: dict[str, CachedRows] = field(default_factory=dict, repr=False)
    _person_sets: list[tuple[ibis.Table, ibis.Table]] = field(default_factory=list, repr=False)
    _kept_values: dict[tuple[str, tuple[str, ...]], frozenset[tuple[Any, ...]]] = field(
        default_factory=dict, repr=False
    )

    # -- the CdmSource protocol, read through the connection

    @property
    def backend(self) -> BaseBackend:
        """The connection's Ibis backend."""
        return self.source.backend

    @property
    def kind(self) -> str:
        """The connection's kind (``"duckdb"``, ``"postgresql"``, ...)."""
        return self.source.kind

    @property
    def description(self) -> str:
        """The connection's description (no password)."""
        return self.source.description

    @property
    def schema(self) -> str | None:
        """The schema holding the CDM tables."""
        return self.source.schema

    @property
    def temporary_tables(self) -> bool:
        """Whether kept rows are temporary tables (else recomputed expressions)."""
        return self.source.temporary_tables

    @property
    def kept(self) -> KeptRows:
        """Return itself: the rows a reader of it may use."""
        return self

    @property
    def tables(self) -> list[str]:
        """Sorted lower-case names of the CDM's tables (all of them, kept or not)."""
        return self.source.tables

    def has(self, name: str) -> bool:
        """Return whether the CDM holds table ``name`` (case-insensitive)."""
        return self.source.has(name)

    def table(self, name: str) -> ibis.Table:
        """Return the whole table ``name`` (kept rows are :meth:`cached_rows`)."""
        return self.source.table(name)

    def execute(self, expr: ibis.Expr) -> Any:
        """Execute an expression through the connection and return pandas objects."""
        return self.source.execute(expr)

    # -- kept rows

    @property
    def kept_tables(self) -> list[str]:
        """Sorted lower-case names of the tables with kept rows."""
        return sorted(self._cached)

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
        table = self.source.table(name)
        wanted = sorted(ids)
        searched = self._columns_with_ids(table, match, wanted)
        cond = functools.reduce(operator.or_, [table[c].isin(wanted) for c in searched])
        self.release(name)
        cached, rows = self._materialise(name, table.filter(cond).select(*columns))
        self._cached[key] = CachedRows(cached, tuple(match), frozenset(ids), rows)
        return self._cached[key]

    def _columns_with_ids(
        self, table: ibis.Table, match: Sequence[str], wanted: list[int]
    ) -> list[str]:
        # DuckDB pushes a filter on one column into its scan, which then skips the row groups
        # whose statistics exclude the ids (a source concept column of zeros, say); an OR of
        # two columns it evaluates after decoding every kept column of every row. A column
        # other than the first that holds none of the ids adds no row to the OR and is left
        # out: the same rows, in the same order. (The first is kept without asking: asking
        # costs what a scan pruned by it costs.)
        if len(match) < 2 or self.kind not in _PRUNING_KINDS:
            return list(match)
        try:
            return [match[0]] + [
                c
                for c in match[1:]
                if int(self.source.execute(table.filter(table[c].isin(wanted)).limit(1).count()))
            ]
        except Exception:  # the scan itself reports what the engine cannot read
            return list(match)

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
        table = self.source.table(name)
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
        done = [name for name in names if self.source.has(name)]
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
            return self.source.table(name)
        outside = persons.select("person_id").anti_join(entry.persons, "person_id").count()
        return entry.table if int(self.source.execute(outside)) == 0 else self.source.table(name)

    def _materialise(self, name: str, expr: ibis.Table) -> tuple[ibis.Table, int]:
        cached: ibis.Table | None = None
        try:
            if not self.source.temporary_tables:  # recomputed by each query that reads it
                return expr, int(self.source.execute(expr.count()))
            cached = expr.cache()
            return cached, int(self.source.execute(cached.count()))
        except Exception as exc:  # a value the engine cannot read, reported as data
            if cached is not None:
                with contextlib.suppress(Exception):
                    cached.release()
            raise CdmDataError(
                f"cannot read the rows of {name} allrwe needs: {first_line(exc)}"
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
            frame = self.source.execute(entry.table.select(*columns).distinct())
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
            if entry is not None and self.temporary_tables:
                entry.table.release()
        if name is None:
            while self._person_sets:
                kept = self._person_sets.pop()[1]
                if self.temporary_tables:
                    kept.release()

    def close(self) -> None:
        """Release every kept row (a broken connection is left to its owner to close)."""
        with contextlib.suppress(Exception):
            self.release()

    def __enter__(self) -> KeptRows:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def rows_for_persons(source: CdmSource, name: str, persons: ibis.Table) -> ibis.Table:
    """Return the rows of ``name`` a query about ``persons`` needs from any reader.

    The kept rows when ``source`` keeps rows of ``name`` covering ``persons``
    (:meth:`KeptRows.rows_for_persons`); otherwise the whole table.
    """
    kept = source.kept
    return source.table(name) if kept is None else kept.rows_for_persons(name, persons)
