"""Per-row safety outcomes and the count cells of the safety tables (pure pandas/NumPy).

Each outcome is an array aligned with the cohort rows: a grade category per adverse-event term,
a flag (discontinuation, early death), a cause of death, or a cycles-by-row matrix. The cell
builders count them per column and stratum (``docs/baseline-and-safety.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.analyses.baseline.records import OVERALL, PERSONS, Cell

__all__ = [
    "GradeLevels",
    "cycle_cells",
    "flag_cells",
    "grade_categories",
    "graded_cells",
    "partition_cells",
    "row_index",
]


@dataclass(frozen=True)
class GradeLevels:
    """The grade columns of an adverse-event table for a severe grade ``G``.

    Attributes
    ----------
    severe_grade : int
        ``G``: grades ``>= G`` are severe (CTCAE 3 by default).
    """

    severe_grade: int

    @property
    def any(self) -> str:
        """Level of persons with the term at any grade (the total of the others)."""
        return "any grade"

    @property
    def low(self) -> str | None:
        """Level of persons whose worst grade is 1 to G-1 (None when G is 1)."""
        g = self.severe_grade
        if g <= 1:
            return None
        return "grade 1" if g == 2 else f"grade 1-{g - 1}"

    @property
    def high(self) -> str:
        """Level of persons whose worst grade is G or worse."""
        return f"grade >={self.severe_grade}"

    @property
    def unknown(self) -> str:
        """Level of persons whose records of the term carry no valid grade."""
        return "grade unknown"

    def members(self) -> list[str]:
        """Return the levels that partition ``any grade``, in display order."""
        return [lv for lv in (self.low, self.high, self.unknown) if lv is not None]

    def categorise(self, max_grade: np.ndarray, present: np.ndarray) -> np.ndarray:
        """Return each row's level (``None`` for rows without the term)."""
        g = np.asarray(max_grade, dtype="float64")
        out = np.full(g.shape, None, dtype=object)
        known = present & ~np.isnan(g)
        out[known & (g >= self.severe_grade)] = self.high
        if self.low is not None:
            out[known & (g < self.severe_grade)] = self.low
        out[present & np.isnan(g)] = self.unknown
        return out


def row_index(units: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Return, for each row of ``rows``, its position in ``units`` (matching person and group)."""
    pos = pd.DataFrame(
        {
            "person_id": units["person_id"].to_numpy(dtype="int64"),
            "group": units["group"].astype(str).to_numpy(),
            "_pos": np.arange(len(units)),
        }
    )
    keyed = pd.DataFrame(
        {
            "person_id": rows["person_id"].to_numpy(dtype="int64"),
            "group": rows["group"].astype(str).to_numpy(),
        }
    )
    merged = keyed.merge(pos, on=["person_id", "group"], how="left")
    return merged["_pos"].fillna(-1).to_numpy(dtype="int64")


def grade_categories(
    units: pd.DataFrame,
    grades: pd.DataFrame,
    window: str,
    terms: Sequence[str],
    levels: GradeLevels,
    *,
    any_name: str,
) -> dict[str, np.ndarray]:
    """Return each term's grade level per cohort row, plus ``any_name`` over all ``terms``.

    Parameters
    ----------
    units : pandas.DataFrame
        The cohort rows (``person_id, group``).
    grades : pandas.DataFrame
        ``person_id, group, window, term, max_grade`` (:func:`~.events.worst_grades`).
    window : str
        The window to read.
    terms : sequence of str
        The terms of the table, in display order.
    levels : GradeLevels
        The grade levels.
    any_name : str
        Name of the row summarising all terms (e.g. ``"any_ae"``).
    """
    n = len(units)
    sel = grades[(grades["window"] == window) & grades["term"].isin(list(terms))]
    at = row_index(units, sel)
    grade = sel["max_grade"].to_numpy(dtype="float64")
    term = sel["term"].astype(str).to_numpy()
    out: dict[str, np.ndarray] = {}
    worst = np.full(n, -np.inf)
    present_any = np.zeros(n, dtype=bool)
    for t in terms:
        mine = (term == t) & (at >= 0)
        max_grade = np.full(n, np.nan)
        present = np.zeros(n, dtype=bool)
        max_grade[at[mine]] = grade[mine]
        present[at[mine]] = True
        out[t] = levels.categorise(max_grade, present)
        worst = np.fmax(worst, np.where(np.isnan(max_grade), -np.inf, max_grade))
        present_any |= present
    worst = np.where(np.isinf(worst), np.nan, worst)
    out[any_name] = levels.categorise(worst, present_any)
    return out


def _cell(
    analysis: str,
    group: str,
    stratum: tuple[str, str],
    variable: str,
    level: str,
    name: str,
    kind: str,
    value: float,
    *,
    partition: bool = False,
    level_total: bool = False,
) -> Cell:
    return Cell(
        analysis,
        group,
        stratum[0],
        stratum[1],
        variable,
        level,
        name,
        kind,
        float(value),
        partition=partition,
        level_total=level_total,
    )


def _pct(count: float, denominator: float) -> float:
    return 100.0 * count / denominator if denominator > 0 else float("nan")


def _count_and_pct(
    analysis: str,
    group: str,
    stratum: tuple[str, str],
    variable: str,
    level: str,
    count: int,
    n: int,
    *,
    partition: bool = False,
    level_total: bool = False,
) -> list[Cell]:
    """Return a count cell and its percentage of ``n`` persons."""
    return [
        _cell(
            analysis,
            group,
            stratum,
            variable,
            level,
            "count",
            "count",
            count,
            partition=partition,
            level_total=level_total,
        ),
        _cell(
            analysis, group, stratum, variable, level, "percentage", "percentage", _pct(count, n)
        ),
    ]


def graded_cells(
    analysis: str,
    group: str,
    stratum: tuple[str, str],
    variable: str,
    category: np.ndarray,
    mask: np.ndarray,
    levels: GradeLevels,
) -> list[Cell]:
    """Persons with the term at any grade (the total) and by grade level, with % of persons."""
    return partition_cells(
        analysis,
        group,
        stratum,
        variable,
        category,
        mask,
        list(levels.members()),
        total_level=levels.any,
    )


def flag_cells(
    analysis: str,
    group: str,
    stratum: tuple[str, str],
    variable: str,
    flag: np.ndarray,
    mask: np.ndarray,
    *,
    level: str = "yes",
) -> list[Cell]:
    """Persons with ``flag`` set, with % of persons."""
    count = int(flag[mask].sum())
    return _count_and_pct(analysis, group, stratum, variable, level, count, int(mask.sum()))


def partition_cells(
    analysis: str,
    group: str,
    stratum: tuple[str, str],
    variable: str,
    category: np.ndarray,
    mask: np.ndarray,
    levels: Sequence[str],
    *,
    total_level: str,
) -> list[Cell]:
    """Persons per level of a partial partition (``None`` = in none) and its recorded total."""
    n = int(mask.sum())
    cat = category[mask]
    total = int(sum(c is not None for c in cat))
    cells = _count_and_pct(
        analysis, group, stratum, variable, total_level, total, n, level_total=True
    )
    for level in levels:
        count = int((cat == level).sum())
        cells += _count_and_pct(analysis, group, stratum, variable, level, count, n, partition=True)
    return cells


def cycle_cells(
    analysis: str,
    group: str,
    stratum: tuple[str, str],
    started: np.ndarray,
    severe: np.ndarray,
    mask: np.ndarray,
) -> list[Cell]:
    """Per cycle k: persons starting it (``denominator``) and with a severe AE onset in it.

    ``started`` and ``severe`` are boolean matrices (cohort rows x cycles).
    """
    cells = []
    for k in range(started.shape[1]):
        level = str(k + 1)
        den = int(started[mask, k].sum())
        count = int((severe[mask, k] & started[mask, k]).sum())
        cells += [
            _cell(analysis, group, stratum, "cycle", level, "denominator", "count", den),
            _cell(analysis, group, stratum, "cycle", level, "count", "count", count),
            _cell(
                analysis,
                group,
                stratum,
                "cycle",
                level,
                "percentage",
                "percentage",
                _pct(count, den),
            ),
        ]
    return cells


def persons_cell(analysis: str, group: str, stratum: tuple[str, str], mask: np.ndarray) -> Cell:
    """Return the persons of a column and stratum (the denominator of the percentages)."""
    return _cell(analysis, group, stratum, PERSONS, OVERALL, "count", "count", int(mask.sum()))
