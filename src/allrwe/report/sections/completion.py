"""Completion of the index treatment (``patterns.completion``): its table and notes.

Seed 001: "Among 30 R/R patients completing blinatumomab, 10 underwent direct allo-HSCT".
The persons who completed (``index_completion`` records) head the destinations' ``setting &&&
completion`` columns; a group whose completion cannot be derived gets a note, never 0 %.
"""

from __future__ import annotations

from allrwe.report._blocks import Context, make_table
from allrwe.report.model import Block, Row, Table, Text
from allrwe.report.sections.levels import OVERALL as _O
from allrwe.report.sections.levels import cell

__all__ = ["completion_table", "no_completion_notes"]

#: display names of the settings, in the order of seed 001's panels (as the destinations')
_SETTINGS = {"ND": "Newly diagnosed", "RR": "Relapsed/refractory", "unknown": "Setting unknown"}


def completion_table(ctx: Context) -> Table | None:
    """Persons who completed the index treatment (``patterns.completion``), all and by setting.

    Columns: each group, then each of its settings (ND, R/R); the column of a setting is a
    percentage of that setting's persons whose completion can be derived.
    """
    frame = ctx.view.frame("index_completion")
    if frame.empty:
        return None
    columns: list[tuple[str, str, str]] = []
    for g in ctx.present_groups("index_completion"):
        columns.append((g, _O, _O))
        found = set(frame.loc[(frame["group"] == g) & (frame["strata_name"] == "setting"),
                              "strata_level"].astype(str))  # fmt: skip
        for s in [*(s for s in _SETTINGS if s in found), *sorted(found - set(_SETTINGS))]:
            columns.append((g, "setting", s))
    header = ["Index treatment"]
    for g, sn, sl in columns:
        header.append(g if sn == _O else f"{g}: {_SETTINGS.get(sl, sl)}")
    rows = [
        Row(
            (
                lv,
                *(
                    cell(ctx, "index_completion", g, "completion", lv, sn, sl)
                    for g, sn, sl in columns
                ),
            )
        )
        for lv in ("completed", "not completed")
    ]
    caption = (
        "Completion of the index treatment (patterns.completion: at least the set number of "
        "complete cycles), persons (%)"
    )
    return make_table(ctx, "table-index-completion", caption, header, rows)


def no_completion_notes(ctx: Context) -> list[Block]:
    """Return a note per group whose completion of the index treatment is not available."""
    frame = ctx.view.frame("destinations")
    part = frame[frame["variable"] == "completion"]
    return [
        Text(
            (
                f"{g}: completion of the index treatment not available "
                f"({part.loc[part['group'] == g, 'strata_level'].iloc[0]}).",
            ),
            style="note",
        )
        for g in dict.fromkeys(part["group"].astype(str))
    ]
