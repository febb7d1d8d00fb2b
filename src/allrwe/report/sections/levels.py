"""Persons (%) per level and group: the tables the treatment-pattern sections share."""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import Context, group_header, make_table
from allrwe.report._view import fmt_count_pct, level_sort_key
from allrwe.report.model import Row, Table

__all__ = ["OVERALL", "cell", "level_table", "unrecorded_levels"]

OVERALL = _O = "overall"


def cell(
    ctx: Context, analysis: str, group: str, variable: str, level: str, sn: str = _O, sl: str = _O
) -> str:
    """Return ``n (%)`` of one level of one group and stratum, as published."""
    args = (analysis, group, sn, sl, variable, level)
    return fmt_count_pct(ctx.view.get(*args, "count"), ctx.view.get(*args, "percentage"))


def level_table(
    ctx: Context,
    analysis: str,
    caption: str,
    label: str,
    *,
    order: list[str] | None = None,
    sn: str = _O,
    sl: str = _O,
    tid: str | None = None,
) -> Table | None:
    """Persons (%) per level (rows) and group (columns) of one analysis and stratum.

    A level the CDM holds no record of (a therapy class: its "not available" records) is a
    row saying so in the overall table, never 0 %.
    """
    everything = ctx.view.frame(analysis)
    frame = everything[(everything["strata_name"] == sn) & (everything["strata_level"] == sl)]
    if frame.empty:
        return None
    groups = ctx.present_groups(analysis)
    levels = list(dict.fromkeys(frame["variable_level"].astype(str)))
    unrecorded = unrecorded_levels(everything) if sn == _O else []
    if order:
        levels = [lv for lv in order if lv in levels or lv in unrecorded]
    else:
        levels = sorted([*levels, *unrecorded], key=level_sort_key)
    variables = list(dict.fromkeys(frame["variable"].astype(str)))
    rows = [
        Row(
            (lv, *(["not available"] * len(groups)))
            if lv in unrecorded
            else (lv, *(cell(ctx, analysis, g, variables[0], lv, sn, sl) for g in groups))
        )
        for lv in levels
    ]
    # a stratum's table is headed with the stratum's own size, never the whole group's
    strata = (sn, sl) if sn != _O else None
    header = [label, *(group_header(ctx, g, strata) for g in groups)]
    notes = ("Not available: no record of the class anywhere in this CDM.",) if unrecorded else ()
    return make_table(ctx, tid or f"table-{analysis}", caption, header, rows, notes)


def unrecorded_levels(frame: pd.DataFrame) -> list[str]:
    """Return the levels of an analysis reported "not available" one by one (``variable``)."""
    sel = frame[
        (frame["strata_name"] == "reason")
        & (frame["variable"] != "status")
        & (frame["variable_level"] == "not available")
    ]
    return list(dict.fromkeys(sel["variable"].astype(str)))
