"""Treatment-pattern sections: cycles, duration, lines, prior/subsequent therapy, pathways."""

from __future__ import annotations

import itertools
from typing import Any

import pandas as pd

from allrwe.report._blocks import Context, group_header, make_table, na_text, slug
from allrwe.report._view import (
    Value,
    fmt_count,
    fmt_count_pct,
    fmt_number,
    fmt_pct,
    level_sort_key,
)
from allrwe.report.figures import PALETTE, group_colour
from allrwe.report.model import Block, Details, Figure, Row, Section, Table, Text
from allrwe.results.model import POOLED_PREFIX
from allrwe.spec import StudySpec

__all__ = ["patterns_section"]

_O = "overall"


def _cell(
    ctx: Context, analysis: str, group: str, variable: str, level: str, sn: str = _O, sl: str = _O
) -> str:
    args = (analysis, group, sn, sl, variable, level)
    return fmt_count_pct(ctx.view.get(*args, "count"), ctx.view.get(*args, "percentage"))


def _level_table(
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
    unrecorded = _unrecorded_levels(everything) if sn == _O else []
    if order:
        levels = [lv for lv in order if lv in levels or lv in unrecorded]
    else:
        levels = sorted([*levels, *unrecorded], key=level_sort_key)
    variables = list(dict.fromkeys(frame["variable"].astype(str)))
    rows = [
        Row(
            (lv, *(["not available"] * len(groups)))
            if lv in unrecorded
            else (lv, *(_cell(ctx, analysis, g, variables[0], lv, sn, sl) for g in groups))
        )
        for lv in levels
    ]
    header = [label, *(group_header(ctx, g) for g in groups)]
    notes = ("Not available: no record of the class anywhere in this CDM.",) if unrecorded else ()
    return make_table(ctx, tid or f"table-{analysis}", caption, header, rows, notes)


def _unrecorded_levels(frame: pd.DataFrame) -> list[str]:
    """Return the levels of an analysis reported "not available" one by one (``variable``)."""
    sel = frame[
        (frame["strata_name"] == "reason")
        & (frame["variable"] != "status")
        & (frame["variable_level"] == "not available")
    ]
    return list(dict.fromkeys(sel["variable"].astype(str)))


def _bars(ctx: Context, analysis: str, levels: list[str]) -> dict[str, Any]:
    series = []
    for g in ctx.present_groups(analysis):
        values = []
        for lv in levels:
            pct = ctx.view.get(analysis, g, _O, _O, analysis, lv, "percentage")
            values.append(pct.value if pct.visible else None)
        series.append({"name": g, "colour": group_colour(ctx.groups, g), "values": values})
    return {"categories": levels, "series": series}


def _cycles(ctx: Context) -> Section | None:
    table = _level_table(ctx, "cycles", "Cycles of the index treatment, persons (%)", "Cycles")
    if table is None:
        return None
    levels = [r.cells[0] for r in table.rows]
    data = {
        **_bars(ctx, "cycles", levels),
        "title": "Cycles of the index treatment",
        "xlabel": "Cycles of the index treatment",
        "ylabel": "Persons (%)",
    }
    figure = Figure(
        "cycles",
        "Distribution of the number of cycles; hatched bars marked – are suppressed (fewer "
        "persons than the minimum cell count, or hidden with such a count).",
        "bars",
        data,
    )
    return Section("patterns-cycles", "Cycles of the index treatment", (figure, table))


def _duration(ctx: Context) -> Section | None:
    if not ctx.view.has("duration"):
        return None
    groups = ctx.present_groups("duration")

    def stat(g: str, name: str) -> Value:
        return ctx.view.get("duration", g, _O, _O, "duration_days", _O, name)

    def cells(fmt: Any) -> tuple[str, ...]:
        return tuple(fmt(g) for g in groups)

    def combo(g: str, names: tuple[str, ...], pattern: str) -> str:
        values = [stat(g, n) for n in names]
        if any(v.suppressed for v in values):
            return "–"
        return pattern.format(*(fmt_number(v.value, 1) for v in values))

    rows = [
        Row(("Persons", *cells(lambda g: fmt_count(stat(g, "count"))))),
        Row(("Median (IQR)", *cells(lambda g: combo(g, ("median", "q25", "q75"), "{} ({}, {})")))),
        Row(("Mean (SD)", *cells(lambda g: combo(g, ("mean", "sd"), "{} ({})")))),
        Row(("Min, max", *cells(lambda g: combo(g, ("min", "max"), "{}, {}")))),
    ]
    header = ["Days", *(group_header(ctx, g) for g in groups)]
    blocks: list[Block] = [
        make_table(
            ctx,
            "table-duration",
            "Duration of the index treatment, days (first to last treated day, both counted)",
            header,
            rows,
        )
    ]
    buckets = _level_table(
        ctx, "duration_buckets", "Duration of the index treatment, persons (%)", "Days"
    )
    if buckets is not None:
        blocks.append(buckets)
    return Section("patterns-duration", "Duration of the index treatment", tuple(blocks))


def _prior_subsequent(ctx: Context, spec: StudySpec) -> Section | None:
    order = [*spec.patterns.therapy_classes, "other_novel_agent", "any"]
    blocks: list[Block] = []
    for analysis, title in (
        ("prior_therapy", "Prior therapy"),
        ("subsequent_therapy", "Subsequent therapy"),
    ):
        table = _level_table(ctx, analysis, f"{title} by class, persons (%)", "Class", order=order)
        if table is not None:
            blocks.append(table)
    if not blocks:
        return None
    note = Text(("Classes overlap: a person may have had several.",), style="note")
    return Section("patterns-therapy", "Prior and subsequent therapy", (*blocks, note))


def _destinations(ctx: Context, spec: StudySpec) -> Section | None:
    order = [*spec.patterns.therapy_classes, "none"]
    table = _level_table(
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
            sub = _level_table(
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


def _sequences(ctx: Context) -> Section | None:
    frame = ctx.view.frame("sequences")
    if frame.empty:
        return None
    rows = []
    keys = dict.fromkeys(zip(frame["group"], frame["variable_level"], strict=True))
    for group, level in keys:

        def get(sl: str, name: str, g: str = group, lv: str = level) -> Value:
            return ctx.view.get("sequences", g, "denominator", sl, "sequence", lv, name)

        n = get("group", "count")
        rows.append(
            Row(
                (
                    level.replace("->", " → "),
                    fmt_count(n),
                    fmt_pct(get("group", "percentage")),
                    fmt_pct(get("with subsequent therapy", "percentage")),
                )
            )
        )
    header = ("Sequence", "Persons", "% of the group", "% of those with subsequent therapy")
    table = make_table(ctx, "table-sequences", "Sequences between index agents", header, rows)
    return Section("patterns-sequences", "Sequences between index agents", (table,))


def _lines(ctx: Context) -> Section | None:
    table = _level_table(ctx, "line_at_index", "Line of therapy at index, persons (%)", "Line")
    return (
        None if table is None else Section("patterns-lines", "Line of therapy at index", (table,))
    )


def _sankey_data(ctx: Context, group: str) -> tuple[dict[str, Any], list[Row]]:
    frame = ctx.view.frame("pathways")
    # the whole group only: pathway records also come by age band, sex and index year
    frame = frame[
        (frame["group"] == group)
        & (frame["strata_name"] == _O)
        & (frame["estimate_name"] == "count")
    ]
    visible: list[tuple[str, int]] = []
    rows = []
    for path, value, hidden in zip(
        frame["variable_level"], frame["value"], frame["suppressed"], strict=True
    ):
        args = ("pathways", group, _O, _O, "pathway", path)
        rows.append(
            (
                path,
                fmt_count_pct(ctx.view.get(*args, "count"), ctx.view.get(*args, "percentage")),
                hidden,
                value,
            )
        )
        pooled = str(path).startswith(POOLED_PREFIX)
        if not hidden and value > 0 and path != "None" and not pooled:
            visible.append((str(path), int(value)))
    # Published pathways first, most frequent first; then the suppressed ones by name.
    rows.sort(key=lambda r: (r[2], 0.0 if r[2] else -float(r[3]), r[0]))
    links: dict[tuple[str, str], int] = {}
    for path, n in visible:
        steps = [f"{k}. {name}" for k, name in enumerate(path.split("-"), start=1)]
        steps.append(f"{len(steps) + 1}. Stopped")
        for a, b in itertools.pairwise(steps):
            links[(a, b)] = links.get((a, b), 0) + n
    nodes = sorted({n for pair in links for n in pair}, key=lambda s: (int(s.split(".")[0]), s))
    data = {
        "nodes": nodes,
        "links": [
            {"source": nodes.index(a), "target": nodes.index(b), "value": v}
            for (a, b), v in sorted(links.items())
        ],
        "top": [
            {"name": p, "value": n} for p, n in sorted(visible, key=lambda x: (-x[1], x[0]))[:10]
        ],
        "paths": [{"steps": p.split("-"), "value": n} for p, n in sorted(visible)],
    }
    return data, [Row((r[0], r[1])) for r in rows]


def swimmer_figure(ctx: Context, group: str) -> Figure | None:
    """Draw the treatment sequences of one group as an aggregated swimmer plot.

    A lane per pathway (the sequence of therapies after the index date) and patient group:
    the whole group, then each level of each stratum the pathway records carry (age band,
    sex, index year). Suppression-safe: a pathway is drawn only when its count is published,
    not pooled and at least the minimum cell count; a lane never stands for fewer persons.
    """
    frame = ctx.view.frame("pathways")
    frame = frame[(frame["group"] == group) & (frame["estimate_name"] == "count")]
    keys = dict.fromkeys(zip(frame["strata_name"], frame["strata_level"], strict=True))
    ordered = sorted(keys, key=lambda k: (k[0] != _O, k[0], level_sort_key(str(k[1]))))
    sections, classes = [], []
    for sn, sl in ordered:
        part = frame[(frame["strata_name"] == sn) & (frame["strata_level"] == sl)]
        lanes = []
        for path in part["variable_level"].astype(str):
            args = ("pathways", group, sn, sl, "pathway", path)
            count = ctx.view.get(*args, "count")
            if (
                not count.visible
                or count.value < max(1, ctx.min_cell_count)
                or path == "None"
                or path.startswith(POOLED_PREFIX)
            ):
                continue
            steps = path.split("-")
            classes += [s for s in steps if s not in classes]
            text = fmt_count_pct(count, ctx.view.get(*args, "percentage"))
            lanes.append((-count.value, path, {"steps": steps, "text": text}))
        if lanes:
            title = f"All persons of group {group}" if sn == _O else f"{sn}: {sl}"
            sections.append({"title": title, "lanes": [lane for *_, lane in sorted(lanes)]})
    if not sections:
        return None
    data = {"title": f"Treatment sequences, {group}", "classes": classes, "sections": sections}
    caption = (
        f"Treatment sequences of group {group} by patient group (aggregated swimmer plot): a "
        "lane per pathway, a box per step after the index date, persons (%) at the right. "
        f"Pathways of fewer than {max(1, ctx.min_cell_count)} persons, suppressed or pooled "
        "are not drawn."
    )
    return Figure(f"swimmer-{slug(group)}", caption, "swimmer", data, static=False)


def _pathways(ctx: Context) -> Section | None:
    reason = ctx.view.not_available("pathways")
    if reason is not None:
        return Section("pathways", "Treatment pathways", (na_text("Pathways", reason),), (), False)
    groups = ctx.present_groups("pathways")
    if not groups:
        return None
    blocks: list[Block] = [
        Text(
            (
                "Pathways from the index date to the end of observation (TreatmentPatterns "
                "semantics); steps are joined by “-”, combinations by “+”. The Sankey diagrams "
                "and bar charts show pathways whose count is published; suppressed and pooled "
                "pathways are left out.",
            ),
            style="note",
        )
    ]
    for g in groups:
        data, rows = _sankey_data(ctx, g)
        if data["links"]:
            blocks.append(
                Figure(
                    f"sankey-{slug(g)}",
                    f"Treatment pathways of group {g}.",
                    "sankey",
                    data,
                    static=False,
                )
            )
            blocks.append(
                Figure(
                    f"sunburst-{slug(g)}",
                    f"Treatment pathways of group {g} as a sunburst: the inner ring is the first "
                    "therapy after the index date, each ring outwards the next; angles are "
                    "proportional to persons (published pathways only).",
                    "sunburst",
                    {"paths": data["paths"], "title": f"Treatment pathways, {g}"},
                    static=False,
                )
            )
            blocks.append(
                Figure(
                    f"pathways-{slug(g)}",
                    f"Most frequent pathways of group {g}.",
                    "hbars",
                    {
                        "items": data["top"],
                        "xlabel": "Persons",
                        "title": f"Most frequent pathways, {g}",
                    },
                )
            )
        swimmer = swimmer_figure(ctx, g)
        if swimmer is not None:
            blocks.append(swimmer)
        blocks.append(
            make_table(
                ctx,
                f"table-pathways-{slug(g)}",
                f"Pathways of group {g}",
                ("Pathway", group_header(ctx, g)),
                rows,
            )
        )
    return Section("pathways", "Treatment pathways", tuple(blocks))


def _dose(ctx: Context) -> Section | None:
    frame = ctx.view.frame("dose_adherence")
    if frame.empty:
        return None
    rows = []
    for group, variable in dict.fromkeys(zip(frame["group"], frame["variable"], strict=True)):

        def get(name: str, g: str = group, v: str = variable) -> Value:
            return ctx.view.get("dose_adherence", g, _O, _O, v, _O, name)

        rows.append(
            Row(
                (
                    group,
                    variable,
                    fmt_count(get("n_persons")),
                    fmt_count(get("n_doses")),
                    fmt_count(get("n_assessable")),
                    fmt_count(get("n_within")),
                    fmt_pct(get("percentage")),
                )
            )
        )
    header = (
        "Group",
        "Drug",
        "Persons",
        "Doses",
        "Assessable doses",
        "Within label",
        "% within label",
    )
    table = make_table(
        ctx, "table-dose", "Dose per administration against the label dose", header, rows
    )
    return Section("patterns-dose", "Dose and label adherence", (table,))


def patterns_section(ctx: Context, spec: StudySpec) -> Section:
    """Treatment patterns with one sub-section per result."""
    title = "Treatment patterns"
    reason = ctx.view.not_available("patterns")
    if reason is not None:
        return Section("patterns", title, (na_text("Treatment patterns", reason),), (), False)
    children = [
        s
        for s in (
            _cycles(ctx),
            _duration(ctx),
            _lines(ctx),
            _prior_subsequent(ctx, spec),
            _destinations(ctx, spec),
            _sequences(ctx),
            _pathways(ctx),
            _dose(ctx),
        )
        if s is not None
    ]
    if not children:
        return Section("patterns", title, (na_text("Treatment patterns", None),), (), False)
    return Section("patterns", title, (), tuple(children))
