"""The safety section, from the ``safety_*`` analyses of :mod:`allrwe.analyses.safety`.

Adverse events by grade, AEs of special interest, discontinuation due to an AE, cycles with a
severe AE and deaths.
"""

from __future__ import annotations

import pandas as pd

from allrwe.report._blocks import (
    OVERALL_NOTE,
    Context,
    group_header,
    make_table,
    na_text,
    overall_header,
)
from allrwe.report._view import (
    SUPPRESSED,
    Value,
    fmt_count,
    fmt_count_pct,
    fmt_pct,
    level_sort_key,
)
from allrwe.report.model import Block, Row, Section, Table

__all__ = ["SAFETY_ANALYSES", "safety_section"]

_O = "overall"
#: the safety analyses, in report order: (analysis, title)
SAFETY_ANALYSES = (
    ("safety_ae", "Adverse events in the treatment window"),
    ("safety_aesi_treatment", "Adverse events of special interest in the treatment window"),
    ("safety_aesi_followup", "Adverse events of special interest over all follow-up"),
    ("safety_discontinuation", "Discontinuation of the index treatment due to an adverse event"),
    ("safety_dlt", "Cycles with a severe adverse event"),
    ("safety_deaths", "Deaths after the index date"),
)
_LEVELS = ("any grade", "grade 1-2", "grade >=3", "grade unknown")
_ANY = ("any_ae", "any_aesi", "death")


def _columns(ctx: Context, analysis: str) -> list[str]:
    """Return the groups, then Overall; one group alone, as Overall would repeat it."""
    groups = [g for g in ctx.present_groups(analysis) if g != _O]
    overall = _O in ctx.present_groups(analysis) and len(groups) != 1
    return groups + ([_O] if overall else [])


def _header(ctx: Context, columns: list[str], first: str) -> list[str]:
    return [first, *(overall_header(ctx) if c == _O else group_header(ctx, c) for c in columns)]


def _overall_note(columns: list[str]) -> tuple[str, ...]:
    return (OVERALL_NOTE,) if _O in columns else ()


#: row labels that are not the key with spaces
_ROW_LABELS = {"death_cause": "cause of death"}


def _label(text: str) -> str:
    return _ROW_LABELS.get(text, text.replace("_", " "))


def _cell(ctx: Context, analysis: str, column: str, variable: str, level: str) -> str:
    args = (analysis, column, _O, _O, variable, level)
    return fmt_count_pct(ctx.view.get(*args, "count"), ctx.view.get(*args, "percentage"))


def _unrecorded(ctx: Context, analysis: str) -> list[str]:
    """Return the terms of ``analysis`` the CDM holds no record of ("not available")."""
    frame = ctx.view.frame(analysis)
    sel = frame[
        (frame["strata_name"] == "reason")
        & (frame["variable"] != "status")
        & (frame["variable_level"] == "not available")
    ]
    return list(dict.fromkeys(sel["variable"].astype(str)))


def _unrecorded_rows(ctx: Context, analysis: str, width: int) -> list[Row]:
    """One row per unrecorded term, "not available" in every cell (never 0 %)."""
    return [
        Row((_label(t), *(["not available"] * width)))
        for t in _variable_order(_unrecorded(ctx, analysis))
    ]


_UNRECORDED_NOTE = "Not available: no record of the adverse event anywhere in this CDM."
_NO_CAUSE_NOTE = (
    "Cause of death not available: no death of the cohort has a cause concept in the CDM "
    "(OMOP death.cause_concept_id 0 or empty)."
)


def _variable_order(variables: list[str]) -> list[str]:
    def key(v: str) -> tuple[int, str]:
        return (2 if v in _ANY else 1 if v == "other_ae" else 0, v)

    return sorted(variables, key=key)


def _level_rows(ctx: Context, analysis: str, columns: list[str]) -> list[Row]:
    frame = ctx.view.frame(analysis)
    frame = frame[(frame["strata_name"] == _O) & (frame["variable"] != "persons")]
    rows = [
        Row(
            (
                "Persons",
                *(
                    fmt_count(ctx.view.get(analysis, c, _O, _O, "persons", _O, "count"))
                    for c in columns
                ),
            ),
            strong=True,
        )
    ]
    for variable in _variable_order(list(dict.fromkeys(frame["variable"].astype(str)))):
        levels = list(dict.fromkeys(frame.loc[frame["variable"] == variable, "variable_level"]))
        if levels == ["yes"]:
            rows.append(
                Row(
                    (_label(variable), *(_cell(ctx, analysis, c, variable, "yes") for c in columns))
                )
            )
            continue
        graded = [lv for lv in _LEVELS if lv in levels]
        order = graded or sorted(levels, key=level_sort_key)
        if variable == "death" and "any" in order:
            order = ["any", *(lv for lv in order if lv != "any")]
        rows.append(Row((_label(variable), *([""] * len(columns))), strong=True))
        rows += [
            Row((lv, *(_cell(ctx, analysis, c, variable, lv) for c in columns)), indent=1)
            for lv in order
        ]
    return rows + _unrecorded_rows(ctx, analysis, len(columns))


_BANDS = (("any grade", "any grade"), ("grade 1-2", "grade 1–2"), ("grade >=3", "grade ≥3"))


def _graded(frame: pd.DataFrame) -> bool:
    """Whether every term of ``frame`` is graded (levels among :data:`_LEVELS`)."""
    levels = set(frame["variable_level"].astype(str))
    return bool(levels) and levels <= {*_LEVELS, "yes"} and bool(levels & set(_LEVELS))


def _grade_table(ctx: Context, analysis: str, title: str, columns: list[str]) -> Table:
    """Seed 001 Table 3: one row per term; per column any grade, grade 1–2, grade ≥3.

    A grade-unknown column is added only when some term has a published or hidden person
    with an unknown grade.
    """
    frame = ctx.view.frame(analysis)
    frame = frame[(frame["strata_name"] == _O) & (frame["variable"] != "persons")]
    unknown = [
        ctx.view.get(analysis, c, _O, _O, v, "grade unknown", "count")
        for c in columns
        for v in set(frame["variable"].astype(str))
    ]
    bands = list(_BANDS)
    if any(u.suppressed or (u.visible and u.value > 0) for u in unknown):
        bands.append(("grade unknown", "grade unknown"))
    header = ["Adverse event"]
    for c in columns:
        name = overall_header(ctx) if c == _O else group_header(ctx, c)
        header += [f"{name}: {bands[0][1]}", *(b[1].capitalize() for b in bands[1:])]
    persons = ["Persons"]
    for c in columns:
        n = fmt_count(ctx.view.get(analysis, c, _O, _O, "persons", _O, "count"))
        persons += [n, *([""] * (len(bands) - 1))]
    rows = [Row(tuple(persons), strong=True)]
    for variable in _variable_order(list(dict.fromkeys(frame["variable"].astype(str)))):
        levels = set(frame.loc[frame["variable"] == variable, "variable_level"].astype(str))
        cells = [_label(variable)]
        for c in columns:
            for level, _ in bands:
                if level == "any grade" and "yes" in levels:
                    level = "yes"
                cells.append(_cell(ctx, analysis, c, variable, level) if level in levels else "")
        rows.append(Row(tuple(cells)))
    unrecorded = _unrecorded_rows(ctx, analysis, len(columns) * len(bands))
    notes: tuple[str, ...] = (
        "Persons (% of the column) by each person's worst grade; any grade includes an "
        "unknown grade.",
    )
    if unrecorded:
        notes += (_UNRECORDED_NOTE,)
    notes += _overall_note(columns)
    return make_table(ctx, f"table-{analysis}", title, header, rows + unrecorded, notes)


def _dlt_cell(ctx: Context, column: str, level: str) -> str:
    def get(name: str) -> Value:
        return ctx.view.get("safety_dlt", column, _O, _O, "cycle", level, name)

    count, den = get("count"), get("denominator")
    if count.suppressed or den.suppressed:
        return SUPPRESSED
    return f"{fmt_count(count)}/{fmt_count(den)} ({fmt_pct(get('percentage'))})"


def _dlt_rows(ctx: Context, columns: list[str]) -> list[Row]:
    frame = ctx.view.frame("safety_dlt")
    frame = frame[(frame["strata_name"] == _O) & (frame["variable"] == "cycle")]
    levels = sorted(set(frame["variable_level"].astype(str)), key=level_sort_key)
    return [Row((f"Cycle {lv}", *(_dlt_cell(ctx, c, lv) for c in columns))) for lv in levels]


def _table(ctx: Context, analysis: str, title: str) -> Table | Block:
    reason = ctx.view.not_available(analysis)
    if reason is not None:
        return na_text(title, reason)
    columns = _columns(ctx, analysis)
    if analysis == "safety_dlt":
        rows = _dlt_rows(ctx, columns)
        notes: tuple[str, ...] = (
            "Persons with an adverse event of the severe grade or worse whose onset falls "
            "in the cycle / persons starting the cycle.",
        )
    else:
        frame = ctx.view.frame(analysis)
        frame = frame[(frame["strata_name"] == _O) & (frame["variable"] != "persons")]
        if _graded(frame):
            return _grade_table(ctx, analysis, title, columns)
        rows = _level_rows(ctx, analysis, columns)
        notes = ("Persons (% of the column); graded terms by each person's worst grade.",)
        unrecorded = _unrecorded(ctx, analysis)
        if "death_cause" in unrecorded:
            notes += (_NO_CAUSE_NOTE,)
        if any(t != "death_cause" for t in unrecorded):
            notes += (_UNRECORDED_NOTE,)
    notes += _overall_note(columns)
    return make_table(ctx, f"table-{analysis}", title, _header(ctx, columns, ""), rows, notes)


def safety_section(ctx: Context) -> Section:
    """Return the adverse-event section, one sub-section per safety analysis present."""
    title = "Adverse events"
    present = [(a, t) for a, t in SAFETY_ANALYSES if ctx.view.has(a)]
    reason = ctx.view.not_available("safety")
    if not present:
        return Section("safety", title, (na_text("Adverse events", reason),), (), False)
    children = []
    for analysis, sub in present:
        block = _table(ctx, analysis, sub)
        available = isinstance(block, Table)
        sid = analysis.replace("_", "-")
        children.append(Section(sid, sub, (block,), (), available))
    return Section("safety", title, (), tuple(children), any(c.available for c in children))
