"""The therapy after the index treatment: seed 001 Fig. 1 and its tables."""

from __future__ import annotations

from typing import Any

from allrwe.report._blocks import Context, figure_colours, slug
from allrwe.report._view import level_sort_key
from allrwe.report.figures import PALETTE
from allrwe.report.model import Block, Details, Figure, Section
from allrwe.report.sections.levels import level_table
from allrwe.spec import StudySpec

__all__ = ["destination_figures", "destinations_section", "stacked_destination_figures"]


def destinations_section(ctx: Context, spec: StudySpec) -> Section | None:
    """Return the first therapy after the index treatment: table, Fig. 1, folded tables."""
    order = [*spec.patterns.therapy_classes, "none"]
    table = level_table(
        ctx,
        "destinations",
        "First therapy after the index treatment, persons (%)",
        "Class",
        order=order,
    )
    if table is None:
        return None
    folded: list[Block] = []
    frame = ctx.view.frame("destinations")
    for sn, label in (("duration", "duration (days)"), ("cycles", "number of cycles")):
        levels = sorted(
            set(frame.loc[frame["strata_name"] == sn, "strata_level"]), key=level_sort_key
        )
        for lv in levels:
            sub = level_table(
                ctx,
                "destinations",
                f"By {label}: {lv}",
                "Class",
                order=order,
                sn=sn,
                sl=lv,
                tid=f"table-destinations-{sn}-{slug(lv)}",
            )
            if sub is not None:
                folded.append(sub)
    blocks: list[Block] = [
        table,
        *stacked_destination_figures(ctx, order),
        *destination_figures(ctx, order),
    ]
    if folded:
        blocks.append(
            Details("By duration and by number of cycles of the index treatment", tuple(folded))
        )
    return Section("patterns-destinations", "Therapy after the index treatment", tuple(blocks))


def destination_figures(ctx: Context, order: list[str]) -> list[Figure]:
    """Seed 001 Fig. 1: the first therapy after the index treatment by duration and by cycles.

    One grouped bar chart per group and stratum (``duration``, ``cycles``): a bar per level
    of the stratum for each class, as a percentage of the persons of that level; a suppressed
    percentage is drawn hatched, not as zero.
    """
    frame = ctx.view.frame("destinations")
    figures = []
    for g in ctx.present_groups("destinations"):
        for sn, what in (("duration", "duration (days)"), ("cycles", "number of cycles")):
            part = frame[(frame["group"] == g) & (frame["strata_name"] == sn)]
            levels = sorted(set(part["strata_level"].astype(str)), key=level_sort_key)
            present = set(part["variable_level"].astype(str))
            classes = [c for c in order if c in present]
            if not levels or not classes:
                continue
            series = []
            for k, lv in enumerate(levels):
                values = []
                for c in classes:
                    pct = ctx.view.get("destinations", g, sn, lv, "destination", c, "percentage")
                    values.append(pct.value if pct.visible else None)
                name = f"{lv} days" if sn == "duration" else f"{lv} cycle{'s' if lv != '1' else ''}"
                series.append({"name": name, "colour": PALETTE[k % len(PALETTE)], "values": values})
            data = {
                "title": f"Next therapy by {what}, {g}",
                "categories": classes,
                "series": series,
                "xlabel": "First therapy after the index treatment",
                "ylabel": "Persons (%)",
            }
            caption = (
                f"First therapy after the index treatment of group {g}, by {what}: persons (%) "
                "of each level; hatched bars marked – are suppressed."
            )
            figures.append(Figure(f"destinations-{slug(g)}-{sn}", caption, "bars", data))
    return figures


#: display names of the settings in seed 001's Fig. 1
SETTING_TITLES = {"ND": "Newly diagnosed", "RR": "Relapsed/refractory"}
#: the analysis of destinations split by setting, when a run publishes one
BY_SETTING = "destinations_by_setting"
_X = " &&& "


def _stacked_bars(
    ctx: Context, analysis: str, g: str, setting: str | None, classes: list[str]
) -> list[dict[str, Any]]:
    """Return the bars of one panel: one per duration bucket, then one per number of cycles."""
    frame = ctx.view.frame(analysis)
    part = frame[frame["group"] == g]
    bars = []
    for kind, section in (("duration", "Duration (days)"), ("cycles", "Cycles")):
        sn = kind if setting is None else f"setting{_X}{kind}"
        found = list(part.loc[part["strata_name"] == sn, "strata_level"].astype(str))
        if setting is not None:
            found = [s.partition(_X)[2] for s in found if s.startswith(f"{setting}{_X}")]
        for lv in sorted(set(found), key=level_sort_key):
            sl = lv if setting is None else f"{setting}{_X}{lv}"
            values: list[float | None] = []
            for c in classes:
                pct = ctx.view.get(analysis, g, sn, sl, "destination", c, "percentage")
                values.append(pct.value if pct.visible else None)
            bars.append({"name": lv, "section": section, "values": values})
    return bars


def stacked_destination_figures(ctx: Context, order: list[str]) -> list[Figure]:
    """Seed 001 Fig. 1: first therapy after the index treatment, as 100 % stacked bars.

    One figure per group: a bar per duration bucket and per number of cycles, each stacked by
    the class of the first therapy after the index treatment. When the run publishes
    destinations by setting (``destinations_by_setting``) the newly diagnosed and R/R panels
    stand side by side, as in seed 001; otherwise one panel holds all persons of the group.
    """
    by_setting = not ctx.view.frame(BY_SETTING).empty
    analysis = BY_SETTING if by_setting else "destinations"
    frame = ctx.view.frame(analysis)
    if frame.empty:
        return []
    figures = []
    for g in ctx.present_groups(analysis):
        part = frame[frame["group"] == g]
        present = set(part["variable_level"].astype(str))
        classes = [c for c in order if c in present]
        panels = []
        if by_setting:
            found = {str(s).partition(_X)[0] for s in part["strata_level"]}
            for s in (s for s in SETTING_TITLES if s in found):
                bars = _stacked_bars(ctx, analysis, g, s, classes)
                if bars:
                    panels.append({"title": SETTING_TITLES[s], "bars": bars})
        else:
            bars = _stacked_bars(ctx, analysis, g, None, classes)
            if bars:
                panels.append({"title": f"All persons of group {g}", "bars": bars})
        if not panels or not classes:
            continue
        data = {
            "title": f"Next therapy by duration and by cycles, {g}",
            "classes": classes,
            "colours": figure_colours(ctx, classes),
            "panels": panels,
            "ylabel": "Persons (%)",
        }
        where = (
            "newly diagnosed and relapsed/refractory side by side"
            if by_setting
            else "all settings together (the records hold no split by setting)"
        )
        caption = (
            f"First therapy after the index treatment of group {g} by duration (days) and by "
            f"number of cycles, {where} (layout of seed 001 Fig. 1): persons (%) of each bar; "
            "the hatched part on top of a bar is the sum of its suppressed classes, and a bar "
            "marked – has no published class."
        )
        figures.append(Figure(f"destinations-{slug(g)}-stacked", caption, "stacked", data))
    return figures
