"""Lines of therapy as pattern results: line at index and the line-by-line regimens.

The lines themselves come from :func:`allrwe.cohort.assign_lines` (rules in
docs/treatment-patterns.md); this module only tabulates them per index group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.therapy._inputs import TherapyInputs
from allrwe.analyses.therapy._tables import categorical, percent
from allrwe.cohort import LINE_SUMMARY_COLUMNS, summarise_lines

__all__ = ["line_at_index_table", "line_regimens", "person_lines"]


def _line_level(line: pd.Series, cap: int) -> pd.Series:
    values = line.fillna(0).astype("int64")
    return pd.Series(
        np.where(values >= cap, f"{cap}+", values.astype(str)), index=line.index, dtype=object
    )


def line_at_index_table(inputs: TherapyInputs, *, cap: int = 4) -> pd.DataFrame:
    """Persons by line of therapy at index (``1``, ``2``, ``3``, ``4+`` by default), per group."""
    frame = inputs.cohort.assign(line_level=_line_level(inputs.cohort["line_at_index"], cap))
    levels = [str(i) for i in range(1, cap)] + [f"{cap}+"]
    return categorical(
        frame,
        variable="line_at_index",
        column="line_level",
        levels=levels,
        groups=inputs.spec.index_groups,
    )


def person_lines(inputs: TherapyInputs) -> pd.DataFrame:
    """Return every line of every cohort row's person, marking the line of the index date.

    Returns
    -------
    pandas.DataFrame
        ``group, person_id, line, start_date, end_date, regimen, n_events, has_transplant,
        start_reason, is_index_line, relative_line`` (line minus line at index).
    """
    lines = summarise_lines(inputs.lines)
    rows = inputs.cohort[["group", "person_id", "line_at_index"]]
    out = rows.merge(lines, on="person_id", how="inner")
    out["is_index_line"] = out["line"] == out["line_at_index"]
    out["relative_line"] = out["line"] - out["line_at_index"]
    cols = ["group", *LINE_SUMMARY_COLUMNS, "is_index_line", "relative_line"]
    return out[cols].sort_values(["group", "person_id", "line"]).reset_index(drop=True)


def line_regimens(inputs: TherapyInputs, *, lines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Regimens per line number, per group.

    Returns
    -------
    pandas.DataFrame
        ``group, line, variable, level`` (regimen), ``n, denominator, percentage``; the
        denominator is the group's persons who have that line.
    """
    pl = person_lines(inputs) if lines is None else lines
    rows = []
    for group in inputs.spec.index_groups:
        sub = pl[pl["group"] == group]
        for line, part in sub.groupby("line", sort=True):
            den = part["person_id"].nunique()
            counts = part.groupby("regimen")["person_id"].nunique()
            for regimen, n in counts.sort_index().items():
                rows.append((group, int(str(line)), "line_regimen", regimen, int(n), den))
    out = pd.DataFrame(rows, columns=["group", "line", "variable", "level", "n", "denominator"])
    out["percentage"] = percent(out["n"], out["denominator"])
    return out
