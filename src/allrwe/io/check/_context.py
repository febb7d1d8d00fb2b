"""What every rule sees: the source, its usable columns, and the declarative check record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import ibis
import ibis.expr.datatypes as dt

from allrwe.io.cdm_spec import CdmSpec
from allrwe.io.check.report import Severity
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary

__all__ = ["Check", "CheckContext"]


@dataclass(frozen=True)
class Check:
    """One rule on one table (and column): a count of offending rows, computed in the engine.

    Either ``predicate`` (a boolean over the rows of ``base``; checks sharing a base are counted
    in one aggregate query) or ``expr`` (a scalar integer expression) is given. ``message`` may
    use ``{rows}``.
    """

    rule: str
    severity: Severity
    table: str
    column: str | None
    message: str
    base: ibis.Table | None = None
    predicate: ibis.BooleanValue | None = None
    expr: ibis.Scalar | None = None


@dataclass
class CheckContext:
    """The CDM under check, with the columns rules may use.

    A column is usable when it is present and its type is compatible (exactly, or leniently,
    e.g. a DATE stored as TIMESTAMP); rules whose columns are not all usable are skipped.
    ``rows`` holds, by table, the rows to check instead of the whole table.
    """

    source: CdmSource
    spec: CdmSpec
    today: date
    vocabulary: Vocabulary
    death_grace_days: int
    usable: dict[str, dict[str, dt.DataType]]
    rows: dict[str, ibis.Table] = field(default_factory=dict)
    skipped: int = 0
    _tables: dict[str, ibis.Table] = field(default_factory=dict, repr=False)

    def has(self, table: str, *columns: str) -> bool:
        """Whether ``table`` is present with every one of ``columns`` usable."""
        cols = self.usable.get(table)
        return cols is not None and all(c in cols for c in columns)

    def require(self, table: str, *columns: str) -> bool:
        """Like :meth:`has`, but counts a skipped check when the table is there and columns not."""
        if self.has(table, *columns):
            return True
        if table in self.usable:
            self.skipped += 1
        return False

    def table(self, name: str) -> ibis.Table:
        """Return the table as a lazy expression, one object per table so checks can be batched."""
        if name not in self._tables:
            kept = self.rows.get(name)
            self._tables[name] = kept if kept is not None else self.source.table(name)
        return self._tables[name]

    def col(self, t: ibis.Table, table: str, name: str) -> ibis.Value:
        """Column ``name`` of ``t``; a CDM date stored as a timestamp is read as its date part."""
        value = t[name]
        spec_type = (
            self.spec.table(table).field(name).type if name in self.spec.table(table) else ""
        )
        if spec_type == "date" and self.usable[table][name].is_timestamp():
            return value.cast("date")
        return value

    @property
    def today_literal(self) -> ibis.DateScalar:
        """``today`` as an Ibis date literal."""
        return ibis.date(self.today)
