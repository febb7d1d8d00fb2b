"""The therapy after the index treatment: seed 001 Fig. 1 and its tables."""

from __future__ import annotations

from typing import Any

from allrwe.report._blocks import (
    Context,
    figure_colours,
    make_table,
    sized,
    slug,
    stratum_size,
)
from allrwe.report._view import Value, level_sort_key
from allrwe.report.labels import journal_signs
from allrwe.report.model import Block, Details, Figure, Row, Section, Table, Text
from allrwe.report.sections.completion import completion_table, no_completion_notes
from allrwe.report.sections.levels import OVERALL as _O
from allrwe.report.sections.levels import cell, level_table
from allrwe.spec import StudySpec

__all__ = [
    "crosstab",
    "destination_figures",
    "destinations_section",
    "stacked_destination_figures",
]


#: colours of ordered levels (duration buckets, numbers of cycles) in the grouped bars: shades
#: of grey, so that no level is read as a therapy or a group
LEVEL_SHADES = ("#252525", "#636363", "#969696", "#BDBDBD", "#D9D9D9", "#4D4D4D", "#A6A6A6")
#: display names of the settings in seed 001's Fig. 1 (panels in this order)
SETTING_TITLES = {
    "ND": "Newly diagnosed",
    "RR": "Relapsed/refractory",
    "unknown": "Setting unknown",
}
#: joins the names and levels of a crossed stratum in the records
_X = " &&& "
#: the cohort strata the destinations come by, as tables of their own
_BY = (
    ("setting", "setting"),
    ("treatment_setting", "treatment setting"),
    ("completion", "completion of the index treatment"),
    (f"setting{_X}completion", "setting and completion of the index treatment"),
    (f"treatment_setting{_X}completion", "treatment setting and completion"),
)
#: the cuts of seed 001 Fig. 1 and how a level is named in a column header
_CUTS = (("duration", "duration (days)"), ("cycles", "number of cycles"))


def _level_name(sn: str, lv: str) -> str:
    kind = sn.rpartition(_X)[2]
    parts = journal_signs(lv).split(_X)
    last = parts[-1]
    if kind == "duration":
        last = f"{last} days"
    elif kind == "cycles":
        last = f"{last} cycle{'' if last == '1' else 's'}"
    return " × ".join([*parts[:-1], last])


def _level_size(ctx: Context, g: str, sn: str, lv: str, classes: list[str]) -> Value:
    """Return the persons of one level: as published, else the sum of its published cells.

    With neither (the level's count and one of its cells hidden) the size is hidden: its
    header reads ``"4 cycles (n not shown)"`` (:func:`~allrwe.report._blocks.sized`).
    """
    size = Value()
    if sn == "duration":
        size = ctx.view.get("duration_buckets", g, _O, _O, "duration_bucket", lv, "count")
    elif sn == "cycles":
        size = ctx.view.get("cycles", g, _O, _O, "cycles", lv, "count")
    elif sn == "completion":
        size = ctx.view.get("index_completion", g, _O, _O, "completion", lv, "count")
    elif sn == f"setting{_X}completion":
        setting, _, done = lv.partition(_X)
        size = ctx.view.get("index_completion", g, "setting", setting, "completion", done, "count")
    elif _X not in sn:
        size = stratum_size(ctx, g, sn, lv)
    if size.present:
        return size
    cells = [ctx.view.get("destinations", g, sn, lv, "destination", c, "count") for c in classes]
    if cells and all(c.visible for c in cells):
        return Value(sum(float(c.value) for c in cells), present=True)
    if any(c.suppressed for c in cells):  # a hidden cell: the size cannot be given either
        return Value(suppressed=True, present=True)
    return Value()


def crosstab(
    ctx: Context, g: str, sn: str, order: list[str], caption: str, tid: str
) -> Table | None:
    """Persons (%) of each destination (rows) in each level of one stratum (columns).

    Each column is headed with its own number of persons (published, or the sum of its
    published cells; ``n not shown`` when neither is); a column is a percentage of that
    number.
    """
    frame = ctx.view.frame("destinations")
    part = frame[(frame["group"] == g) & (frame["strata_name"] == sn)]
    if part.empty:
        return None
    levels = sorted(set(part["strata_level"].astype(str)), key=level_sort_key)
    if _X in sn:  # by setting, in the order of the figure's panels, then by bucket
        rank = {s: k for k, s in enumerate(SETTING_TITLES)}

        def order_key(lv: str) -> tuple[int, tuple[float, float, float, str]]:
            setting, _, inner = lv.partition(_X)
            return rank.get(setting, len(rank)), level_sort_key(inner)

        levels.sort(key=order_key)
    present = set(part["variable_level"].astype(str))
    classes = [c for c in order if c in present]
    header = ["Class"]
    for lv in levels:
        size = _level_size(ctx, g, sn, lv, classes)
        name = _level_name(sn, lv)
        header.append(sized(name, size))
    rows = [
        Row((c, *(cell(ctx, "destinations", g, "destination", c, sn, lv) for lv in levels)))
        for c in classes
    ]
    return make_table(ctx, tid, caption, header, rows)


def destinations_section(ctx: Context, spec: StudySpec) -> Section | None:
    """Return the first therapy after the index treatment: table, Fig. 1, tables by stratum."""
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
    groups = ctx.present_groups("destinations")
    by_stratum = [
        t
        for g in groups
        for sn, what in _BY
        if (
            t := crosstab(
                ctx,
                g,
                sn,
                order,
                f"First therapy after the index treatment of {g} by {what}, persons (%)",
                f"table-destinations-{slug(g)}-{slug(sn)}",
            )
        )
        is not None
    ]
    folded = [
        t
        for g in groups
        for sn, what in (*_CUTS, *((f"setting{_X}{k}", f"setting and {w}") for k, w in _CUTS))
        if (
            t := crosstab(
                ctx,
                g,
                sn,
                order,
                f"First therapy after the index treatment of {g} by {what}, persons (%)",
                f"table-destinations-{slug(g)}-{slug(sn)}",
            )
        )
        is not None
    ]
    completion = completion_table(ctx)
    blocks: list[Block] = [
        table,
        *([completion] if completion is not None else []),
        *no_completion_notes(ctx),
        *by_stratum,
        *stacked_destination_figures(ctx, order),
        *destination_figures(ctx, order),
    ]
    if folded:
        blocks.append(
            Details(
                "By duration and by number of cycles of the index treatment (the numbers of "
                "Fig. 1)",
                tuple(folded),
            )
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
                colour = LEVEL_SHADES[k % len(LEVEL_SHADES)]
                series.append({"name": _level_name(sn, lv), "colour": colour, "values": values})
            if not any(v for sr in series for v in sr["values"] if v is not None):
                continue  # nothing published: the stacked figure and the tables say so
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


#: the cuts of Fig. 1 (bars of the all-persons figure) and of the figure by setting
_FIG1_CUTS = (("duration", "Duration (days)"), ("cycles", "Cycles"))
_SETTING_CUTS = (
    ("setting", "Setting"),
    ("treatment_setting", "Treatment setting"),
    ("completion", "Completion"),
    (f"setting{_X}completion", "Setting × completion"),
)


def _stacked_bars(
    ctx: Context,
    g: str,
    setting: str | None,
    classes: list[str],
    cuts: tuple[tuple[str, str], ...] = _FIG1_CUTS,
) -> list[dict[str, Any]]:
    """Return the bars of one panel: one per level of each cut (duration, then cycles)."""
    frame = ctx.view.frame("destinations")
    part = frame[frame["group"] == g]
    bars = []
    for kind, section in cuts:
        sn = kind if setting is None else f"setting{_X}{kind}"
        found = list(part.loc[part["strata_name"] == sn, "strata_level"].astype(str))
        if setting is not None:
            found = [s.partition(_X)[2] for s in found if s.startswith(f"{setting}{_X}")]
        for lv in sorted(set(found), key=level_sort_key):
            sl = lv if setting is None else f"{setting}{_X}{lv}"
            values: list[float | None] = []
            for c in classes:
                pct = ctx.view.get("destinations", g, sn, sl, "destination", c, "percentage")
                values.append(pct.value if pct.visible else None)
            name = _bar_label(journal_signs(lv))
            bars.append({"name": name, "section": section, "values": values})
    return bars


def _bar_label(level: str) -> str:
    """Name a bar short enough for its axis: ``RR &&& not completed`` is ``RR not done``."""
    if _X not in level:
        return level
    outer, _, inner = level.partition(_X)
    done = {"completed": "done", "not completed": "not done"}
    return f"{outer} {done[inner]}" if inner in done else f"{outer} × {inner}"


def _panels(ctx: Context, g: str, classes: list[str], kind: str) -> list[dict[str, Any]]:
    """Return the panels of one figure: ``all`` persons, ``settings``, or ``by_setting``."""
    if kind == "all":
        bars = _stacked_bars(ctx, g, None, classes)
        return [{"title": f"All persons of group {g}", "bars": bars}] if bars else []
    if kind == "settings":
        bars = _stacked_bars(ctx, g, None, classes, _SETTING_CUTS)
        return [{"title": f"All persons of group {g}", "bars": bars}] if bars else []
    frame = ctx.view.frame("destinations")
    part = frame[
        (frame["group"] == g) & frame["strata_name"].astype(str).str.startswith(f"setting{_X}")
    ]
    found = {str(s).partition(_X)[0] for s in part["strata_level"]}
    panels = []
    for s in (s for s in [*SETTING_TITLES, *sorted(found - set(SETTING_TITLES))] if s in found):
        bars = _stacked_bars(ctx, g, s, classes)
        if bars:
            panels.append({"title": SETTING_TITLES.get(s, s), "bars": bars})
    return panels


#: how the settings figure's caption speaks of the split by duration and cycles, without and
#: with the crossed strata (``patterns.destinations_by``)
_UNPUBLISHED = "those splits are not published"
_PUBLISHED = "those published are the next figure"


def _by_setting(ctx: Context, g: str) -> bool:
    """Whether the records hold destinations of ``g`` by setting and duration or cycles."""
    frame = ctx.view.frame("destinations")
    names = set(frame.loc[frame["group"] == g, "strata_name"].astype(str))
    return bool(names & {f"setting{_X}{kind}" for kind, _ in _FIG1_CUTS})


#: per kind of stacked figure: the words of its title, of its caption and its id's suffix
_KINDS = {
    "all": ("by {cuts}", "all persons of the group", "stacked"),
    "settings": (
        "by setting",
        "each setting, treatment setting and (patterns.completion) setting by completion of "
        "the index treatment a bar (done: completed it), side by side (seed 001 Fig. 1 splits "
        "each setting further by duration and by cycles; " + _UNPUBLISHED + ")",
        "settings",
    ),
    "by_setting": (
        "by setting and {cuts}",
        "in each setting, side by side as in seed 001 Fig. 1",
        "by-setting",
    ),
}


def _stacked_figure(ctx: Context, g: str, classes: list[str], kind: str) -> list[Block]:
    """Return one stacked figure of a group (see :data:`_KINDS`) and its note."""
    panels = _panels(ctx, g, classes, kind)
    # a class that is 0 % in every bar has no part to draw and no key in the legend
    keep = [
        i
        for i in range(len(classes))
        if any(b["values"][i] is None or b["values"][i] > 0 for p in panels for b in p["bars"])
    ]
    classes = [classes[i] for i in keep]
    for p in panels:
        p["bars"] = [{**b, "values": [b["values"][i] for i in keep]} for b in p["bars"]]
    if not panels or not classes:
        return []
    cuts = " and by ".join(
        dict.fromkeys(
            "duration" if b["section"].startswith("Duration") else "cycles"
            for p in panels
            for b in p["bars"]
        )
    )
    title, where, suffix = _KINDS[kind]
    heading = f"Next therapy {title.format(cuts=cuts)}, {g}"
    if all(_blank(b) for p in panels for b in p["bars"]):
        # a figure of hatched bars only shows nothing: the note says what it would show
        bars = "; ".join(
            f"{p['title']}: {', '.join(_bar_name(b) for b in p['bars'])}" for p in panels
        )
        return [
            Text(
                (
                    f"{heading}: not drawn, every bar suppressed (every class of each bar "
                    f"hidden, so that no count below {ctx.min_cell_count} can be worked "
                    f"out): {bars}.",
                ),
                style="note",
            )
        ]
    if kind == "settings" and _by_setting(ctx, g):
        where = where.replace(_UNPUBLISHED, _PUBLISHED)
    data = {
        "title": heading,
        "classes": classes,
        "colours": figure_colours(ctx, classes),
        "panels": panels,
        "ylabel": "Persons (%)",
    }
    what = (
        "setting"
        if kind == "settings"
        else cuts.replace("duration", "duration (days)").replace("cycles", "number of cycles")
    )
    caption = (
        f"First therapy after the index treatment of group {g} by {what}, {where}: persons "
        "(%) of each bar; the hatched part on top of a "
        "bar is the sum of its suppressed classes, and a bar marked – has no published class."
    )
    blocks: list[Block] = [Figure(f"destinations-{slug(g)}-{suffix}", caption, "stacked", data)]
    hidden = [
        f"{p['title']}: {', '.join(_bar_name(b) for b in p['bars'] if _blank(b))}"
        for p in panels
        if any(_blank(b) for b in p["bars"])
    ]
    if hidden:
        blocks.append(
            Text(
                (
                    "Suppressed in this figure (every class of the bar hidden, so that no count "
                    f"below {ctx.min_cell_count} can be worked out): " + "; ".join(hidden) + ".",
                ),
                style="note",
            )
        )
    return blocks


def _bar_name(bar: dict[str, Any]) -> str:
    section = str(bar.get("section", ""))
    unit = {"Duration (days)": " days", "Cycles": " cycles"}.get(section, "")
    if unit == " cycles" and str(bar["name"]) == "1":
        unit = " cycle"
    return f"{bar['name']}{unit}"


def _blank(bar: dict[str, Any]) -> bool:
    """Whether a bar has no published part: every class hidden or zero, one hidden at least."""
    values = bar["values"]
    return any(v is None for v in values) and not any(v for v in values if v is not None)


def stacked_destination_figures(ctx: Context, order: list[str]) -> list[Block]:
    """Seed 001 Fig. 1: first therapy after the index treatment, as 100 % stacked bars.

    Per group: a figure of all its persons (a bar per duration bucket and per number of
    cycles, each stacked by the class of the first therapy after the index treatment); a
    figure of a bar per setting and treatment setting when the records hold destinations by
    those strata; and, when they hold destinations by setting and duration/cycles (crossed
    strata ``setting &&& duration``, ``setting &&& cycles``), the settings side by side as
    in seed 001 (newly diagnosed | R/R). A bar suppressed whole is hatched, marked – and
    named in a note under the figure, never left out; a figure whose every bar is
    suppressed whole is not drawn, and a note in its place names its bars.
    """
    frame = ctx.view.frame("destinations")
    if frame.empty:
        return []
    blocks: list[Block] = []
    for g in ctx.present_groups("destinations"):
        part = frame[frame["group"] == g]
        present = set(part["variable_level"].astype(str))
        classes = [c for c in order if c in present]
        names = set(part["strata_name"].astype(str))
        blocks += _stacked_figure(ctx, g, classes, "all")
        if names & {sn for sn, _ in _SETTING_CUTS}:
            blocks += _stacked_figure(ctx, g, classes, "settings")
        if any(n.startswith(f"setting{_X}") for n in names):
            blocks += _stacked_figure(ctx, g, classes, "by_setting")
    return blocks
