"""Helpers shared by the section builders: group headers, tables with their notes, slugs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from allrwe.report._view import (
    NOT_APPLICABLE,
    NOT_ESTIMABLE,
    NOT_REACHED,
    SUPPRESSED,
    ResultView,
    Value,
    fmt_count,
)
from allrwe.report.labels import journal_signs, label
from allrwe.report.model import Row, Table, Text

__all__ = [
    "OVERALL_NOTE",
    "Context",
    "figure_colours",
    "group_header",
    "level_words",
    "make_table",
    "na_text",
    "overall_header",
    "sized",
    "slug",
    "stratum_words",
    "suppression_note",
    "unsupported",
]

#: how a header says that the number of persons of its column is hidden (after n or N)
SIZE_NOT_SHOWN = "not shown"

#: strata whose levels are numbers of lines, shown as ``line 2``
LINE_STRATA = ("line", "line_at_index")


def sized(name: str, size: Value, symbol: str = "n") -> str:
    """Head a column with its number of persons: ``"ND (n = 128)"``.

    A size that is suppressed is said in words, ``"4 cycles (n not shown)"``, not as a bare
    ``–`` beside an equals sign; an absent size leaves the name alone.

    Examples
    --------
    >>> sized("ND", Value(128.0, present=True)), sized("BLIN", Value(199.0, present=True), "N")
    ('ND (n = 128)', 'BLIN (N = 199)')
    >>> sized("4 cycles", Value(suppressed=True, present=True)), sized("ND", Value())
    ('4 cycles (n not shown)', 'ND')
    >>> sized("All", Value(suppressed=True, present=True), "N")
    'All (N not shown)'
    """
    if size.suppressed:
        return f"{name} ({symbol} {SIZE_NOT_SHOWN})"
    if not size.present:
        return name
    return f"{name} ({symbol} = {fmt_count(size)})"


def level_words(
    strata_name: str, strata_level: str, joiner: str = ": ", *, named: bool = False
) -> str:
    """Name a stratum level for a reader: ``"line 2: re-induction"``, ``"ND: induction"``.

    Crossed levels (``a &&& b``) are joined by ``joiner``; a level of a line stratum, a bare
    number, is written ``line N`` unless the stratum is ``named`` beside it; ``<=``/``>=``
    are written ``≤``/``≥``.

    Examples
    --------
    >>> level_words("line &&& treatment_setting", "2 &&& re-induction")
    'line 2: re-induction'
    >>> level_words("age_band", ">=55"), level_words("ph_status &&& setting", "Ph+ &&& ND", " × ")
    ('≥55', 'Ph+ × ND')
    """
    names = strata_name.split(" &&& ")
    levels = strata_level.split(" &&& ")
    if len(names) != len(levels):
        names = [""] * len(levels)
    parts = [
        f"line {lv}" if n in LINE_STRATA and not named else lv
        for n, lv in zip(names, levels, strict=True)
    ]
    return journal_signs(joiner.join(parts))


def stratum_words(strata_name: str, strata_level: str) -> str:
    """Name a stratum and its level: ``"age band: ≥55"``, ``"Ph status × setting: Ph+ × ND"``.

    Examples
    --------
    >>> stratum_words("line &&& treatment_setting", "2 &&& re-induction")
    'line × treatment setting: 2 × re-induction'
    """
    names = " × ".join(label(n) for n in strata_name.split(" &&& "))
    return f"{names}: {level_words(strata_name, strata_level, ' × ', named=True)}"


def _token(marker: str) -> re.Pattern[str]:
    return re.compile(r"(^|[\s(])" + re.escape(marker) + r"($|[\s),%])")


_SUPPRESSED_TOKEN, _NE_TOKEN, _NR_TOKEN, _NA_TOKEN = (
    _token(m) for m in (SUPPRESSED, NOT_ESTIMABLE, NOT_REACHED, NOT_APPLICABLE)
)


class Context:
    """What every section builder reads: the records, the groups and the threshold.

    ``therapy_colours`` gives each therapy class its one colour in every figure
    (:func:`allrwe.report.figures.therapy_colours`); ``pathway_settings`` are those the run
    applied (``provenance.json``, ``settings.pathways``). ``hides_below`` is the threshold the
    counts were suppressed with (default ``min_cell_count``; 1 under ``suppression.policy:
    none``): at 1 every time of a curve is a published point.
    """

    def __init__(
        self,
        view: ResultView,
        groups: Sequence[str],
        min_cell_count: int,
        therapy_colours: Mapping[str, str] | None = None,
        *,
        hides_below: int | None = None,
        pathway_settings: Mapping[str, object] | None = None,
    ) -> None:
        self.view = view
        self.groups = list(groups)
        self.min_cell_count = min_cell_count
        #: counts from 1 to this minus 1 were hidden (1 when the spec opts out of suppression)
        self.hides_below = min_cell_count if hides_below is None else hides_below
        self.therapy_colours = dict(therapy_colours or {})
        #: the pathway settings of the run (its provenance), for the notes that explain them
        self.pathway_settings = dict(pathway_settings or {})

    def group_size(self, group: str) -> Value:
        """Return the published size of an index group."""
        return self.view.get("cohort", group, "overall", "overall", "persons", "overall", "count")

    @property
    def exact_curves(self) -> bool:
        """bool: whether every time of a curve is a published point (a threshold of 1)."""
        return self.hides_below <= 1

    def present_groups(self, analysis: str) -> list[str]:
        """Return the groups with records in ``analysis``, spec order first."""
        return self.view.groups(analysis, self.groups)


def figure_colours(ctx: Context, names: Iterable[str]) -> dict[str, str]:
    """Return the colour of each therapy class among ``names`` (a figure's ``colours``)."""
    return {n: ctx.therapy_colours[n] for n in dict.fromkeys(names) if n in ctx.therapy_colours}


def stratum_size(ctx: Context, group: str, strata_name: str, strata_level: str) -> Value:
    """Return the published number of persons of a group in one stratum level.

    Every stratified analysis stratifies the same persons, so the ``persons`` count of any of
    them is the stratum's size: the first one published is taken, of the baseline records,
    then of :data:`STRATUM_SIZE_SOURCES` (a count hidden in Table 1 by complementary
    suppression may be published by a safety analysis, whose other cells differ; a level
    Table 1 pools, ``line 4`` and ``line 5`` in ``>=4``, is only in the survival analyses,
    whose overall survival starts at the index date for everyone of the stratum). When none
    is published, the first hidden one is returned (it reads "–"); when none is present, an
    absent value.
    """
    hidden = Value()
    for analysis, variable, estimate in (
        ("baseline", "persons", "count"),
        *STRATUM_SIZE_SOURCES,
    ):
        size = ctx.view.get(
            analysis, group, strata_name, strata_level, variable, "overall", estimate
        )
        if size.visible:
            return size
        if size.present and not hidden.present:
            hidden = size
    return hidden


def unsupported(
    ctx: Context, analysis: str, key: tuple[str, str, str], variable: str, level: str = "overall"
) -> bool:
    """Whether the data cannot support a cell: it reads "not available", whatever its stratum.

    An outcome's ``available`` flag is 0 when the CDM cannot support it (claims hold no
    response labs). The flag shares its cell with the counts, so suppression hides it with a
    small stratum's counts; a hidden or absent flag then defers to the group's own flag (all
    its persons): what the data cannot support for the whole group they cannot support for
    part of it. So a small stratum's column reads "not available" like the others, not "–" or
    NE (seed 000 on claims: BLIN line 5 and 6 beside lines 1–4).

    Parameters
    ----------
    ctx : Context
        The records.
    analysis : str
        The analysis holding the flag (``response``, ``survival_summary``).
    key : tuple of str
        ``(group, strata_name, strata_level)`` of the cell.
    variable, level : str
        The outcome and its level (default ``"overall"``).

    Returns
    -------
    bool
        True when the cell's flag, or else the group's, is a published 0.
    """
    group, sn, sl = key
    for stratum in ((sn, sl), ("overall", "overall")):
        flag = ctx.view.get(analysis, group, *stratum, variable, level, "available")
        if flag.visible:
            return flag.value == 0
    return False


def group_header(ctx: Context, group: str, strata: tuple[str, str] | None = None) -> str:
    """``"BLIN (N = 88)"``, with the size as published; in a stratum ``"BLIN (n = 30)"``.

    A stratified table is headed with the stratum's own number of persons, never the whole
    group's; a hidden size reads ``"BLIN (n not shown)"`` (:func:`sized`), an absent one
    leaves the group alone.
    """
    if strata is not None and strata[0] != "overall":
        return sized(group, stratum_size(ctx, group, *strata))
    return sized(group, ctx.group_size(group), "N")


#: what the Overall column of Table 1 and of the adverse-event tables counts
#: (``allrwe.analyses.baseline.units.first_entries``)
OVERALL_NOTE = (
    "Overall: every person once, at their earliest index date (ties: the group named first "
    "in the study), with the characteristics and the treatment window of that index "
    "treatment. A person in two groups is counted once, so Overall is not the sum of the "
    "groups, and its count can be below one group's: a person whose first index treatment "
    "was another group's is counted with that one."
)


def overall_header(ctx: Context, strata: tuple[str, str] | None = None) -> str:
    """``"Overall (N = 373)"``: the Overall column headed with its size, as the groups are.

    Overall (:data:`OVERALL_NOTE`) is the records' group ``overall``; in a stratum its own
    size, ``"Overall (n = 142)"``, from the same records as a group's
    (:func:`stratum_size`).
    """
    if strata is None or strata[0] == "overall":
        return sized("Overall", stratum_size(ctx, "overall", "overall", "overall"), "N")
    return sized("Overall", stratum_size(ctx, "overall", *strata))


def policy_statement(suppression: Mapping[str, object], min_cell_count: int) -> str:
    """Return the sentence stating the suppression policy of the run (weaker ones say so)."""
    policy = suppression.get("policy", "complementary")
    if policy == "none":
        return (
            "No small-cell suppression: the study spec opts out (suppression.policy: none), so "
            "counts of any size, including those of 1 to 4 persons, are published; do not share "
            "these outputs outside the site."
        )
    if policy == "per_cell":
        return (
            f"Per-cell suppression (suppression.policy: per_cell): counts from 1 to "
            f"{min_cell_count - 1} are hidden, but no complementary cells are, so a hidden count "
            "may be worked out from totals; this is weaker than the default complementary policy."
        )
    return (
        f"Complementary suppression: counts from 1 to {min_cell_count - 1} are hidden, with the "
        "cells that would let them be worked out from totals."
    )


def suppression_note(min_cell_count: int) -> str:
    """Return the footnote of a table holding a suppressed value."""
    return (
        f"{SUPPRESSED} suppressed: fewer than {min_cell_count} persons, or hidden so that such a "
        "count cannot be worked out from the other cells; percentages and statistics of a hidden "
        "count are hidden with it."
    )


#: records ``(analysis, variable, estimate)`` that give a stratum's size when the baseline has
#: none: the persons of the safety analyses, then the persons of the overall survival curve
STRATUM_SIZE_SOURCES = (
    ("safety_ae", "persons", "count"),
    ("safety_deaths", "persons", "count"),
    ("survival_summary", "os", "n"),
)


def _has(rows: Iterable[Row], pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(cell) for row in rows for cell in row.cells[1:])


def make_table(
    ctx: Context,
    id: str,
    caption: str,
    header: Sequence[str],
    rows: Sequence[Row],
    notes: Sequence[str] = (),
) -> Table:
    """Build a table, adding the notes its display markers need (suppressed, NE, NR)."""
    extra = list(notes)
    if _has(rows, _SUPPRESSED_TOKEN):
        extra.append(suppression_note(ctx.min_cell_count))
    if _has(rows, _NE_TOKEN):
        extra.append(f"{NOT_ESTIMABLE} not estimable.")
    if _has(rows, _NR_TOKEN):
        extra.append(f"{NOT_REACHED} not reached.")
    if _has(rows, _NA_TOKEN):
        extra.append(f"{NOT_APPLICABLE} not applicable: no one to assess (denominator 0).")
    return Table(id, caption, tuple(header), tuple(rows), tuple(extra))


def na_text(what: str, reason: str | None) -> Text:
    """Return a "not available" paragraph for ``what``."""
    why = f": {reason}" if reason and reason != "not available" else ""
    return Text((f"{what} not available{why}.",), style="na")


def slug(text: str) -> str:
    """Return a lower-case id made of letters, digits and hyphens.

    Signs that tell levels apart are spelled out (``Ph+``/``Ph-`` give ``ph-pos``/``ph-neg``,
    ``<35``/``>=55`` give ``lt-35``/``ge-55``), so that two levels never share an id.

    Examples
    --------
    >>> slug("Ph+ &&& consolidation"), slug("Ph- &&& consolidation"), slug("15-28")
    ('ph-pos-consolidation', 'ph-neg-consolidation', '15-28')
    """
    for sign, word in (("<=", " le "), (">=", " ge "), ("<", " lt "), (">", " gt ")):
        text = text.replace(sign, word)
    # at the end of a level, also of each part of a crossed level ("Ph+ &&& consolidation")
    text = re.sub(r"\+(?=\s|$)", " pos", text)
    text = re.sub(r"(?<=[A-Za-z])-(?=\s|$)", " neg", text)
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return out or "x"
