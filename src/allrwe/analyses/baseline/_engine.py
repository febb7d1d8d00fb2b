"""Engine-side helpers: records relative to each cohort row's index date, one row per row.

Every function takes ``units`` (an Ibis table with ``person_id, group, index_date``) and an
event table of :mod:`allrwe.cohort.events`, and returns an Ibis expression; nothing executes.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from allrwe.cohort import Window, window_bounds

__all__ = ["first_per_unit", "in_window", "with_offset"]


def with_offset(units: ir.Table, events: ir.Table, **extra: str) -> ir.Table:
    """Join events to units by person; add ``_date``, ``_rid`` and ``_offset`` (days to index).

    Parameters
    ----------
    units : ibis.Table
        ``person_id, group, index_date``.
    events : ibis.Table
        An events table with ``person_id, start_date, record_id`` and the ``extra`` columns.
    **extra : str
        New name = event column to carry along (e.g. ``_value="value_as_number"``).

    Returns
    -------
    ibis.Table
        ``person_id, group, index_date, _date, _rid``, the extra columns and ``_offset``; only
        the persons of ``units``, so ``events`` may be everyone's.
    """
    ev = events.select(
        _pid="person_id",
        _date="start_date",
        _rid="record_id",
        **{name: events[col] for name, col in extra.items()},
    )
    j = units.join(ev, units.person_id == ev._pid)
    # One projection of the join (not a drop, then a mutate): every step is a node that
    # Ibis's compiler walks again for each later one.
    return j.select(
        *units.columns,
        *[c for c in ev.columns if c != "_pid"],
        _offset=j._date.delta(j.index_date, unit="day"),
    )


def in_window(table: ir.Table, window: Window) -> ir.Table:
    """Keep rows whose ``_offset`` lies in ``window`` (both ends inclusive)."""
    bounds = window_bounds(table._offset, window)
    return table.filter(*bounds) if bounds else table


def first_per_unit(table: ir.Table, order_by: list[ir.Value]) -> ir.Table:
    """Keep the first row per ``person_id, group`` in ``order_by`` order.

    The rank column ``_rn`` (0 on every row kept) stays: callers select the columns they
    report, and a projection less keeps the query smaller to compile.
    """
    w = ibis.window(group_by=["person_id", "group"], order_by=order_by)
    ranked = table.mutate(_rn=ibis.row_number().over(w))
    return ranked.filter(ranked._rn == 0)
