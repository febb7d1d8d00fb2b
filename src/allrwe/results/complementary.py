"""Complementary suppression as one optimisation per linked table (HiGHS through SciPy).

A *table* is a set of margins linked by shared cells (:func:`allrwe.results.margins`). For
every table that holds a primary suppression, a mixed-integer programme chooses which other
non-zero cells to hide, at the least total weight, so that in every margin:

* no hidden cell is the only unknown (it would be the total minus the visible cells);
* the hidden members do not add up to their number (each hidden cell is at least 1, so the
  attacker would know them all to be 1).

The weight of a cell is its value plus one, times :data:`HEADLINE_WEIGHT` for the headline
counts (group sizes, ND/RR and treatment settings, responders), so that those are hidden only
where nothing else protects a small cell. The exact check of :mod:`allrwe.results.margins`
(lowest and highest value of each hidden cell by linear programming) then verifies the
choice and repairs what a combination of margins still pins down.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["HEADLINE_WEIGHT", "choose_complements"]

logger = logging.getLogger(__name__)

#: how much more a headline count weighs than another cell of the same value
HEADLINE_WEIGHT = 1000.0


def choose_complements(
    values: np.ndarray,
    suppressed: np.ndarray,
    tables: Sequence[Sequence[tuple[list[int], int | None, bool]]],
    weights: np.ndarray,
) -> np.ndarray:
    """Return ``suppressed`` with the least-weight complements of every table added.

    Parameters
    ----------
    values : numpy.ndarray
        The record values.
    suppressed : numpy.ndarray of bool
        The primary suppressions, aligned with ``values``.
    tables : sequence of sequence of (members, total, total_known)
        Each table as its margins: member rows, the row of the recorded total (or ``None``)
        and, for an unrecorded total, whether it is known to the reader.
    weights : numpy.ndarray
        The cost of hiding each record.

    Returns
    -------
    numpy.ndarray of bool
        A new array; tables whose programme has no solution are left as they were (the
        exact check that follows protects them).
    """
    out = suppressed.copy()
    for table in tables:
        cells = sorted({c for members, total, _ in table for c in _cells(members, total)})
        if not out[cells].any():
            continue
        chosen = _solve_table(values, out, table, cells, weights)
        if chosen is None:
            logger.debug("no optimal complement for a table of %d cells", len(cells))
            continue
        out[chosen] = True
    return out


def _cells(members: list[int], total: int | None) -> list[int]:
    return members + ([] if total is None else [total])


#: seconds HiGHS may spend on one table before its best solution so far is taken
_TIME_LIMIT = 20.0


class _Rows:
    """Sparse rows ``lower <= A z <= upper`` of a programme, built one at a time."""

    def __init__(self) -> None:
        self.row: list[int] = []
        self.col: list[int] = []
        self.val: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, terms: dict[int, float], lower: float, upper: float) -> None:
        r = len(self.lower)
        for col, val in terms.items():
            self.row.append(r)
            self.col.append(col)
            self.val.append(val)
        self.lower.append(lower)
        self.upper.append(upper)


def _solve_table(
    values: np.ndarray,
    suppressed: np.ndarray,
    table: Sequence[tuple[list[int], int | None, bool]],
    cells: list[int],
    weights: np.ndarray,
) -> list[int] | None:
    """Solve one table's programme; return the rows to hide (``None``: not solved).

    Variables: one binary per non-zero cell (hide it or not), and per margin the number of
    its hidden cells ``s`` and the excess ``r`` of its hidden members over ones.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp  # deferred: tables to protect
    from scipy.sparse import coo_array

    live = [c for c in cells if values[c] > 0 or suppressed[c]]  # zeros stay visible
    index: Mapping[int, int] = {c: i for i, c in enumerate(live)}
    n = len(live)
    rows = _Rows()
    extra = 0
    for members, total, known in table:
        margin = [c for c in _cells(members, total) if c in index]
        if not margin:
            continue
        s_col, r_col = n + extra, n + extra + 1
        extra += 2
        # s = number of hidden cells of the margin; a hidden cell needs another unknown:
        # 2 x_c - s <= 1 when the total is unknown to the reader, else <= 0
        rows.add({s_col: 1.0, **{index[c]: -1.0 for c in margin}}, 0.0, 0.0)
        open_total = total is None and not known
        for c in margin:
            rows.add({index[c]: 2.0, s_col: -1.0}, -np.inf, 1.0 if open_total else 0.0)
        if open_total:
            continue
        # r = sum of (value - 1) over hidden members; hidden members may not all be ones:
        # r >= x_j for each member j (a hidden recorded total lifts the rule)
        hidden = [c for c in members if c in index]
        rows.add({r_col: 1.0, **{index[c]: -(float(values[c]) - 1.0) for c in hidden}}, 0.0, 0.0)
        for c in hidden:
            terms = {r_col: 1.0, index[c]: -1.0}
            if total is not None and total in index:
                terms[index[total]] = 1.0
            rows.add(terms, 0.0, np.inf)
    size = n + extra
    cost = np.zeros(size)
    # ties go to the earlier record: a spread far below the 1 that separates any two weights
    cost[:n] = weights[live] + 1e-4 * np.arange(n) / max(n, 1)
    lower = np.zeros(size)
    upper = np.full(size, np.inf)
    upper[:n] = 1.0
    lower[:n] = suppressed[live].astype(float)
    integrality = np.zeros(size)
    integrality[:n] = 1
    matrix = coo_array((rows.val, (rows.row, rows.col)), shape=(len(rows.lower), size)).tocsr()
    result = milp(
        cost,
        integrality=integrality,
        bounds=Bounds(lower, upper),
        constraints=LinearConstraint(matrix, rows.lower, rows.upper),
        options={"time_limit": _TIME_LIMIT},
    )
    if result.x is None:
        return None
    chosen = np.asarray(result.x[:n]) > 0.5
    return [c for c, keep in zip(live, chosen, strict=True) if keep]
