"""Seed 001's Table 2: response, MRD and the endpoints' medians and 1-year rates by setting.

One table per index group: a column for all its persons and one per level of the setting
and line strata present in the records, each setting followed by the treatment settings
within it (``setting &&& treatment_setting``: ND induction, ND consolidation, R/R
re-induction, as seed 001's columns), each headed with its own number of persons; rows for
the response and MRD rates and, per endpoint, the median and the 12-month rate.
"""

from __future__ import annotations

from allrwe.report._blocks import LINE_STRATA, Context, make_table, sized, slug, stratum_size
from allrwe.report._view import Value, level_sort_key
from allrwe.report.labels import label
from allrwe.report.model import Row, Table
from allrwe.report.sections.response import rate_cell
from allrwe.report.sections.survival import (
    WITHHELD_NOTE,
    endpoint_title,
    followup_cell,
    landmark_cell,
    summary_cells,
)
from allrwe.results.suppression import TABLE2_STRATA, TABLE2_WITHIN
from allrwe.spec import StudySpec

__all__ = ["TABLE2_ENDPOINTS", "TABLE2_ROWS_BY", "TABLE2_STRATA", "efficacy_tables"]

_O = "overall"
#: strata whose levels are rows of the 12-month rates (seed 001: 1-year EFS by Ph+ and Ph-),
#: in All and, crossed with the setting (``crossed_strata: [[ph_status, setting]]``), in ND
#: and R/R
TABLE2_ROWS_BY = ("ph_status",)
_X = " &&& "
_TWELVE = "12 months"
#: the size of a column no record gives: headed as a hidden one, "(n not shown)"
_NOT_SHOWN = Value(suppressed=True, present=True)
#: endpoints shown as rows, in this order, when the records have them
TABLE2_ENDPOINTS = ("efs", "rfs", "os", "dor")
#: response and MRD rows (``{n}``: the cycles of ``outcomes.response_within_cycles``); seed
#: 001 gives MRD negativity overall and within 2 cycles
_RATES = (
    ("response", "CR/CRh/CRi"),
    ("response_within_n", "CR/CRh/CRi within {n} cycles"),
    ("cr", "CR"),
    ("mrd_negative", "MRD negativity"),
    ("mrd_negative_within_n", "MRD negativity within {n} cycles"),
    ("mrd_negative_in_remission", "MRD negativity in remission (reached or at start)"),
    ("mrd_negative_in_remission_within_n", "MRD negativity in remission within {n} cycles"),
)
#: what the CR/CRh/CRi rows count, in the words of papers without a CRh category
CR_CRI_NOTE = (
    "CR/CRh/CRi: best response CR, CRh or CRi (blasts ≤ 5% whatever the blood counts), the "
    "composite that papers without a CRh category, as seed 001, call CR/CRi."
)
_TITLES = {
    "os": "Overall survival",
    "efs": "Event-free survival",
    "rfs": "Relapse-free survival",
    "dor": "Duration of response",
}


#: the treatment settings in seed 001's order; others (unknown) after them
_TREATMENT_SETTINGS = ("induction", "re-induction", "consolidation")


def _treatment_order(level: str) -> tuple[int, tuple[float, float, float, str]]:
    inner = level.partition(" &&& ")[2]
    rank = _TREATMENT_SETTINGS.index(inner) if inner in _TREATMENT_SETTINGS else 99
    return rank, level_sort_key(level)


def _columns(ctx: Context, group: str) -> list[tuple[str, str]]:
    frame = ctx.view.frame("survival_summary")
    frame = frame[frame["group"] == group]
    cols = [(_O, _O)]
    for name in TABLE2_STRATA:
        levels = set(frame.loc[frame["strata_name"] == name, "strata_level"].astype(str))
        within = TABLE2_WITHIN.get(name, "")
        inner = sorted(
            set(frame.loc[frame["strata_name"] == within, "strata_level"].astype(str)),
            key=_treatment_order,
        )
        for lv in sorted(levels, key=level_sort_key):
            cols.append((name, lv))
            cols += [(within, x) for x in inner if x.startswith(f"{lv} &&& ")]
    return cols


def _header(ctx: Context, group: str, cols: list[tuple[str, str]]) -> list[str]:
    out = [""]
    for sn, sl in cols:
        if sn == _O:
            size = ctx.group_size(group)
            out.append(sized("All", size, "N"))
        else:
            size = stratum_size(ctx, group, sn, sl)
            name = f"Line {sl}" if sn in LINE_STRATA else sl.replace(" &&& ", ": ")
            # every column says its size: one no record gives is not shown either
            out.append(sized(name, size if size.present else _NOT_SHOWN))
    return out


def _crossed_key(ctx: Context, by: str, column: tuple[str, str], level: str) -> tuple[str, str]:
    """Return the stratum (name, level) of ``by = level`` within one column, or ``("", "")``.

    The All column reads the stratum alone (``ph_status``, ``Ph+``); a setting's column reads
    the crossed stratum in either order (``ph_status &&& setting``, ``Ph+ &&& ND``); any other
    column has no such cell.
    """
    sn, sl = column
    if sn == _O:
        return by, level
    if sn != "setting":
        return "", ""
    names = set(ctx.view.frame("survival_landmark")["strata_name"].astype(str))
    if f"{by}{_X}{sn}" in names:
        return f"{by}{_X}{sn}", f"{level}{_X}{sl}"
    if f"{sn}{_X}{by}" in names:
        return f"{sn}{_X}{by}", f"{sl}{_X}{level}"
    return "", ""


def _rows_by(ctx: Context, variable: str, group: str, cols: list[tuple[str, str]]) -> list[Row]:
    """Rows of the 12-month rate by each level of :data:`TABLE2_ROWS_BY` (seed 001: by Ph).

    A cell is the rate of the level in the column's persons: in All the stratum alone, in a
    setting the crossed stratum (``ph_status &&& setting``); other columns are left blank.
    """
    frame = ctx.view.frame("survival_landmark")
    frame = frame[(frame["group"] == group) & (frame["variable"] == variable)]
    rows: list[Row] = []
    for by in TABLE2_ROWS_BY:
        levels = set(frame.loc[frame["strata_name"] == by, "strata_level"].astype(str))
        for lv in sorted(levels, key=level_sort_key):
            cells = []
            for col in cols:
                sn, sl = _crossed_key(ctx, by, col, lv)
                cells.append(landmark_cell(ctx, variable, (group, sn, sl), _TWELVE) if sn else "")
            rows.append(Row((f"12-month rate, {label(lv)}", *cells), indent=2))
    return rows


def _rows(ctx: Context, spec: StudySpec, group: str, cols: list[tuple[str, str]]) -> list[Row]:
    rows: list[Row] = []
    response = ctx.view.frame("response")
    within = spec.outcomes.response_within_cycles
    for variable, name in _RATES:
        if variable in set(response["variable"].astype(str)):
            rates = [rate_cell(ctx, group, sn, sl, variable, _O) for sn, sl in cols]
            rows.append(Row((name.format(n=within), *rates)))
    summary = ctx.view.frame("survival_summary")
    present = set(summary["variable"].astype(str))
    twelve = 12.0 in spec.outcomes.landmarks_months
    for variable in (v for v in TABLE2_ENDPOINTS if v in present):
        title = endpoint_title(variable, spec, _TITLES)
        cells = [summary_cells(ctx, spec, variable, (group, sn, sl)) for sn, sl in cols]
        rows.append(Row((title, *([""] * len(cols))), strong=True))
        rows.append(Row(("median, months (95% CI)", *(c[0] for c in cells)), indent=1))
        if twelve:
            twelves = [landmark_cell(ctx, variable, (group, sn, sl), _TWELVE) for sn, sl in cols]
            rows.append(Row(("12-month rate, % (95% CI)", *twelves), indent=1))
            rows += _rows_by(ctx, variable, group, cols)
        if variable == "os":
            follow = (followup_cell(ctx, variable, (group, sn, sl)) for sn, sl in cols)
            rows.append(Row(("median follow-up, months", *follow), indent=1))
    return rows


def efficacy_tables(ctx: Context, spec: StudySpec) -> list[Table]:
    """Return Table 2 of each index group (empty when no endpoint was estimated).

    Parameters
    ----------
    ctx : Context
        The records, groups and threshold.
    spec : StudySpec
        The study (landmarks, endpoint titles).

    Returns
    -------
    list of Table
        One table per group with survival summaries.
    """
    summary = ctx.view.frame("survival_summary")
    if summary.empty:
        return []
    tables = []
    for group in ctx.present_groups("survival_summary"):
        cols = _columns(ctx, group)
        rows = _rows(ctx, spec, group, cols)
        if not rows:
            continue
        tables.append(
            make_table(
                ctx,
                f"table-efficacy-{slug(group)}",
                f"Efficacy of {group} by treatment setting and line (Table 2)",
                _header(ctx, group, cols),
                rows,
                (
                    "Rates: n/N, % (exact 95% CI). Medians (Brookmeyer–Crowley 95% CI) and "
                    "12-month rates (95% CI) from the Kaplan–Meier estimate.",
                    *((CR_CRI_NOTE,) if any(r.cells[0] == "CR/CRh/CRi" for r in rows) else ()),
                    WITHHELD_NOTE,
                ),
            )
        )
    return tables
