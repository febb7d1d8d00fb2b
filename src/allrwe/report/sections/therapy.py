"""Treatment-pattern sections: cycles, duration, lines, prior/subsequent therapy, dose.

The therapy after the index treatment (:mod:`.destinations`) and the pathways
(:mod:`.pathways`) have modules of their own; :func:`patterns_section` puts them in order.
"""

from __future__ import annotations

from typing import Any

from allrwe.analyses.therapy import COURSE_VARIABLE, CR_VARIABLE, IN_CR, course_levels
from allrwe.report._blocks import Context, group_header, make_table, na_text, slug
from allrwe.report._view import (
    Value,
    fmt_count,
    fmt_count_pct,
    fmt_number,
    fmt_pct,
    level_sort_key,
)
from allrwe.report.figures import group_colour
from allrwe.report.model import Block, Figure, Row, Section, Text
from allrwe.report.sections.destinations import SETTING_TITLES, destinations_section
from allrwe.report.sections.levels import level_table
from allrwe.report.sections.pathways import pathways_section
from allrwe.spec import StudySpec

__all__ = ["patterns_section"]

_O = "overall"


def _bars(ctx: Context, analysis: str, levels: list[str]) -> dict[str, Any]:
    """Return a bar series per group: its percentages, None where suppressed.

    A group none of whose percentages is published or suppressed (a group of no persons:
    every percentage 0/0) draws no bar: hatched bars would call it suppressed.
    """
    series = []
    for g in ctx.present_groups(analysis):
        values, kept = [], False
        for lv in levels:
            pct = ctx.view.get(analysis, g, _O, _O, analysis, lv, "percentage")
            values.append(pct.value if pct.visible else None)
            kept |= pct.visible or pct.suppressed
        if kept:
            series.append({"name": g, "colour": group_colour(ctx.groups, g), "values": values})
    return {"categories": levels, "series": series}


def _cycles(ctx: Context) -> Section | None:
    table = level_table(ctx, "cycles", "Cycles of the index treatment, persons (%)", "Cycles")
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
    buckets = level_table(
        ctx, "duration_buckets", "Duration of the index treatment, persons (%)", "Days"
    )
    if buckets is not None:
        blocks.append(buckets)
    return Section("patterns-duration", "Duration of the index treatment", tuple(blocks))


def _period_strata(
    ctx: Context, spec: StudySpec, analysis: str, title: str, order: list[str]
) -> list[Block]:
    """One table per level of each ``patterns.therapy_by`` stratum (ND, then R/R, …)."""
    frame = ctx.view.frame(analysis)
    tables: list[Block] = []
    for sn in spec.patterns.therapy_by_names:
        found = set(frame.loc[frame["strata_name"] == sn, "strata_level"].astype(str))
        known = [lv for lv in SETTING_TITLES if lv in found]
        for sl in [*known, *sorted(found - set(known), key=level_sort_key)]:
            name = SETTING_TITLES.get(sl, sl) if sn == "setting" else f"{sn} {sl}"
            name = name.replace(" &&& ", " × ")  # a crossed stratum: "ph_status × setting …"
            caption = f"{title} by class, {name}, persons (%)"
            tid = f"table-{analysis}-{slug(sn)}-{slug(sl)}"
            table = level_table(ctx, analysis, caption, "Class", order=order, sn=sn, sl=sl, tid=tid)
            if table is not None:
                tables.append(table)
    return tables


def _prior_subsequent(ctx: Context, spec: StudySpec) -> Section | None:
    order = [*spec.patterns.therapy_classes, "other_novel_agent", "any"]
    blocks: list[Block] = []
    for analysis, title in (
        ("prior_therapy", "Prior therapy"),
        ("subsequent_therapy", "Subsequent therapy"),
    ):
        table = level_table(ctx, analysis, f"{title} by class, persons (%)", "Class", order=order)
        if table is not None:
            blocks.append(table)
        blocks.extend(_period_strata(ctx, spec, analysis, title, order))
    if not blocks:
        return None
    note = Text(("Classes overlap: a person may have had several.",), style="note")
    return Section("patterns-therapy", "Prior and subsequent therapy", (*blocks, note))


def _chemo_courses(ctx: Context, spec: StudySpec) -> Section | None:
    """Chemotherapy before index by course length, and in CR at index within each class.

    One table per group: a row per stratum level (all, then each ``patterns.therapy_by``
    level) and class, with the class's persons (% of the level) and those in CR at index (%
    of the class). Seed 001 Supplementary Table 1.
    """
    rule = spec.patterns.prior_chemo_course
    frame = ctx.view.frame(COURSE_VARIABLE)
    if rule is None or frame.empty:
        return None
    classes = course_levels(rule.therapy_class, rule.short_max_days)
    cut = " &&& "
    blocks: list[Block] = []
    for g in ctx.present_groups(COURSE_VARIABLE):
        levels = [(_O, _O)]
        for sn in spec.patterns.therapy_by_names:
            found = set(frame.loc[frame["strata_name"] == sn, "strata_level"].astype(str))
            levels += [(sn, sl) for sl in sorted(found, key=level_sort_key)]
        rows = []
        for sn, sl in levels:
            name = "All" if sn == _O else SETTING_TITLES.get(sl, sl).replace(cut, " × ")
            crn = COURSE_VARIABLE if sn == _O else f"{sn}{cut}{COURSE_VARIABLE}"
            for c in classes:
                crl = c if sn == _O else f"{sl}{cut}{c}"
                n = ctx.view.get(COURSE_VARIABLE, g, sn, sl, COURSE_VARIABLE, c, "count")
                if not n.present:
                    continue
                pct = ctx.view.get(COURSE_VARIABLE, g, sn, sl, COURSE_VARIABLE, c, "percentage")
                cr = [ctx.view.get(COURSE_VARIABLE, g, crn, crl, CR_VARIABLE, IN_CR, e)
                      for e in ("count", "percentage")]  # fmt: skip
                in_cr = "" if not cr[0].present else fmt_count_pct(cr[0], cr[1])
                rows.append(Row((name, c, fmt_count_pct(n, pct), in_cr)))
        header = ("Stratum", "Course length", "Persons (%)", "In CR at index, n (% of class)")
        caption = (
            f"{group_header(ctx, g)}: {rule.therapy_class} before index by course length "
            f"(short-term: every course at most {rule.short_max_days} days)"
        )
        blocks.append(make_table(ctx, f"table-prior-chemo-course-{slug(g)}", caption, header, rows))
    note = Text(
        (
            "Course length only: a course is a run of records joined across gaps of at most "
            f"{spec.patterns.era_gap_days} days. A CDM does not record the intensity a "
            "clinician intended; in CR at index is the treatment setting consolidation.",
        ),
        style="note",
    )
    return Section("patterns-chemo-course", "Chemotherapy courses before index", (*blocks, note))


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
    table = level_table(ctx, "line_at_index", "Line of therapy at index, persons (%)", "Line")
    return (
        None if table is None else Section("patterns-lines", "Line of therapy at index", (table,))
    )


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
            _chemo_courses(ctx, spec),
            destinations_section(ctx, spec),
            _sequences(ctx),
            pathways_section(ctx, keep_index=spec.pathways.keep_index),
            _dose(ctx),
        )
        if s is not None
    ]
    if not children:
        return Section("patterns", title, (na_text("Treatment patterns", None),), (), False)
    return Section("patterns", title, (), tuple(children))
