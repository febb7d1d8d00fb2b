"""Complementary suppression as one optimisation per linked table (HiGHS through SciPy).

A *table* is a set of margins linked by shared cells (:func:`allrwe.results.margins`). For
every table that holds a primary suppression, a mixed-integer programme chooses which other
non-zero cells to hide, at the least total weight, so that in every margin:

* no hidden cell is the only unknown (it would be the total minus the visible cells);
* the hidden members do not add up to their number (each hidden cell is at least 1, so the
  attacker would know them all to be 1).

The weight of a cell is its value plus one, times :data:`HEADLINE_WEIGHT` for the headline
counts (group sizes, ND/RR and treatment settings, responders, the persons and events of
survival summaries), so that those are hidden only where nothing else protects a small cell,
and times :data:`OVERALL_WEIGHT` for the other counts of the overall stratum, so that a
stratum's count is hidden before the overall row a manuscript's tables show. The exact
check of :mod:`allrwe.results.margins` (lowest and highest value of each hidden cell by
linear programming) then verifies the choice and repairs what a combination of margins
still pins down.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["HEADLINE_WEIGHT", "OVERALL_WEIGHT", "choose_complements", "headlines"]

logger = logging.getLogger(__name__)

#: how much more a headline count weighs than another cell of the same value
HEADLINE_WEIGHT = 1000.0

#: how much more a count of the overall stratum weighs than a stratum's count of the same
#: value (headlines aside)
OVERALL_WEIGHT = 10.0


def headlines(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Flag the cells whose weight makes them headlines (``values`` NaN read as 0)."""
    filled = np.nan_to_num(values, nan=0.0)
    return weights > 0.5 * HEADLINE_WEIGHT * (filled + 1.0)


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
    pending: list[tuple[Sequence[tuple[list[int], int | None, bool]], list[int]]] = []
    for table in tables:
        cells = sorted({c for members, total, _ in table for c in _cells(members, total)})
        if out[cells].any():
            pending.append((table, cells))
    for batch in _batches(pending):
        chosen = _solve_tables(values, out, batch, weights)
        if chosen is None and len(batch) > 1:
            # one table without a solution: solve each alone, so that the others still are
            chosen = []
            for one in batch:
                found = _solve_tables(values, out, [one], weights)
                if found is None:
                    logger.debug("no optimal complement for a table of %d cells", len(one[1]))
                chosen += found or []
        elif chosen is None:
            logger.debug("no optimal complement for a table of %d cells", len(batch[0][1]))
            continue
        out[chosen] = True
    return out


#: tables of at most :data:`SMALL_TABLE` cells are solved together, as one block-diagonal
#: programme of up to :data:`BATCH_CELLS` cells: the solver's set-up costs more than a small
#: table's solve, and the blocks do not interact; larger tables are solved alone
SMALL_TABLE = 100
BATCH_CELLS = 2000
#: relative optimality gap of a batch: small enough that no block settles for a choice its
#: own solve would not make (the defaults of HiGHS, 1e-4, apply to a table solved alone)
_BATCH_GAP = 1e-9


def _batches(
    pending: list[tuple[Sequence[tuple[list[int], int | None, bool]], list[int]]],
) -> list[list[tuple[Sequence[tuple[list[int], int | None, bool]], list[int]]]]:
    """Group small tables, in order, into batches of at most :data:`BATCH_CELLS` cells."""
    batches: list[list[tuple[Sequence[tuple[list[int], int | None, bool]], list[int]]]] = []
    size = BATCH_CELLS
    for item in pending:
        if len(item[1]) > SMALL_TABLE:
            batches.append([item])
            size = BATCH_CELLS
            continue
        if size + len(item[1]) > BATCH_CELLS:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += len(item[1])
    return batches


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


def _solve_tables(
    values: np.ndarray,
    suppressed: np.ndarray,
    batch: Sequence[tuple[Sequence[tuple[list[int], int | None, bool]], list[int]]],
    weights: np.ndarray,
) -> list[int] | None:
    """Solve the programmes of a batch of tables as one; return the rows to hide.

    ``None`` when the programme has no solution. Each table keeps its own tie-break, so the
    choice in a table is the one solving it alone would make.
    """
    from scipy.sparse import coo_array  # deferred: tables to protect

    from allrwe.results.highs import solve

    rows = _Rows()
    cost: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    integrality: list[np.ndarray] = []
    live_all: list[int] = []
    binary: list[np.ndarray] = []
    offset = 0
    for table, cells in batch:
        live, n_vars = _table_rows(values, suppressed, table, cells, rows, offset)
        n = len(live)
        block_cost = np.zeros(n_vars)
        # ties go to the earlier record: a spread far below the 1 that separates any weights
        block_cost[:n] = weights[live] + 1e-4 * np.arange(n) / max(n, 1)
        block_lower = np.zeros(n_vars)
        block_lower[:n] = suppressed[live].astype(float)
        block_integer = np.zeros(n_vars)
        block_integer[:n] = 1
        cost.append(block_cost)
        lower.append(block_lower)
        integrality.append(block_integer)
        binary.append(offset + np.arange(n))
        live_all += live
        offset += n_vars
    size = offset
    low = np.concatenate(lower)
    upper = np.full(size, np.inf)
    is_binary = np.concatenate(binary).astype(np.int64)
    upper[is_binary] = 1.0
    matrix = coo_array((rows.val, (rows.row, rows.col)), shape=(len(rows.lower), size)).tocsr()
    result = solve(
        np.concatenate(cost),
        matrix,
        np.asarray(rows.lower),
        np.asarray(rows.upper),
        low,
        upper,
        integer=np.concatenate(integrality),
        options={"time_limit": _TIME_LIMIT}
        if len(batch) == 1
        else {"time_limit": _TIME_LIMIT, "mip_rel_gap": _BATCH_GAP},
    )
    if result.x is None:
        return None
    chosen = np.asarray(result.x)[is_binary] > 0.5
    return [c for c, keep in zip(live_all, chosen, strict=True) if keep]


def _table_rows(
    values: np.ndarray,
    suppressed: np.ndarray,
    table: Sequence[tuple[list[int], int | None, bool]],
    cells: list[int],
    rows: _Rows,
    offset: int,
) -> tuple[list[int], int]:
    """Add one table's rows to ``rows``, its variables from ``offset``.

    Variables: one binary per non-zero cell (hide it or not), and per margin the number of
    its hidden cells ``s`` and the excess ``r`` of its hidden members over ones. Returns the
    cells of the binaries, in order, and the number of variables.
    """
    live = [c for c in cells if values[c] > 0 or suppressed[c]]  # zeros stay visible
    index: Mapping[int, int] = {c: offset + i for i, c in enumerate(live)}
    n = len(live)
    extra = 0
    for members, total, known in table:
        margin = [c for c in _cells(members, total) if c in index]
        if not margin:
            continue
        s_col, r_col = offset + n + extra, offset + n + extra + 1
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
    return live, n + extra
