"""Bounding the hidden counts: interval propagation, components, linear and integer programmes."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from allrwe.results.attack.propagate import propagate
from allrwe.results.attack.system import MAX_ILP_VARIABLES, _System
from allrwe.results.highs import Session, solve


def _propagate(
    system: _System, passes: int = 60, cache: dict[bytes, Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Bound every variable by interval propagation over the rows (integer bounds).

    Sound but loose: each row bounds one variable by the others' bounds. It pins what plain
    subtraction pins (a risk set minus the next one, an overall row minus its levels) without
    an LP, and it gives the LPs their variable bounds. With ``cache``, parts of the rows
    met before keep their bounds. See :mod:`allrwe.results.attack.propagate`.
    """
    return propagate(system, passes, cache)


def _matrix(system: _System) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    data, rows, cols = [], [], []
    for i, row in enumerate(system.rows):
        for j, c in row.coefs.items():
            rows.append(i)
            cols.append(j)
            data.append(c)
    shape = (len(system.rows), len(system.keys))
    a = sparse.csr_matrix((data, (rows, cols)), shape=shape)
    low = np.array([r.low for r in system.rows], dtype="float64")
    high = np.array([r.high for r in system.rows], dtype="float64")
    return a, low, high


def _components(a: sparse.csr_matrix, n_vars: int) -> np.ndarray:
    """Label the variables by connected component of the row-variable graph."""
    pattern = (a != 0).astype(np.int8)
    # the bipartite graph (variables, then rows): no variable x variable product, which a
    # row of thousands of terms (a curve's summary) would make dense
    graph = sparse.bmat([[None, pattern.T], [pattern, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels[:n_vars])


@dataclass
class _Component:
    a: sparse.csr_matrix
    low: np.ndarray
    high: np.ndarray
    columns: np.ndarray  # global variable indices
    rows: np.ndarray  # global row indices
    lb: np.ndarray  # variable bounds from propagation
    ub: np.ndarray

    #: the linear programmes' session: each starts from the last one's basis
    session: Session | None = field(default=None, init=False, repr=False)

    def optimum(self, c: np.ndarray, *, integer: bool = False) -> np.ndarray | None:
        """Minimise ``c @ x``; the solution, or ``None`` when the solver finds none.

        Over the reals, each programme starts from the last one's optimal basis (see
        :class:`allrwe.results.highs.Session`): the bounds read from a solution are optimal
        values, the same from any optimal point.
        """
        if integer:
            result = solve(
                c,
                self.a,
                self.low,
                self.high,
                self.lb,
                self.ub,
                integer=np.ones(len(self.columns)),
            )
        else:
            if self.session is None:
                self.session = Session(self.a, self.low, self.high, self.lb, self.ub)
            result = self.session.minimize(c)
        if result.status != 0 or result.x is None:
            return None
        return result.x

    def feasible(self) -> bool:
        result = solve(np.zeros(len(self.columns)), self.a, self.low, self.high, self.lb, self.ub)
        return result.status == 0


#: how far a rounded point may miss a row and still count as feasible: below HiGHS's own
#: feasibility tolerances (1e-7 for rows, 1e-6 in a MIP), so a MIP would accept it too
ROW_SLACK = 1e-7


def _integral_zeros(
    a: sparse.csr_matrix,
    low: np.ndarray,
    high: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    x: np.ndarray,
) -> np.ndarray:
    """Flag the variables that a feasible integer point, ``x`` rounded, sets to 0.

    The rule: where ``x`` rounded to integers keeps within the variables' bounds and meets
    every row (within :data:`ROW_SLACK`), it is an integer point of the programme; each
    variable it sets to 0 has 0 for its lowest value over the integers, which no integer
    programme need tell. All False where the rounded point misses a bound or a row.
    """
    point = np.round(x)
    activity = a @ point
    feasible = (
        bool(((point >= lb) & (point <= ub)).all())
        and bool((activity >= low - ROW_SLACK).all())
        and bool((activity <= high + ROW_SLACK).all())
    )
    return (point == 0) if feasible else np.zeros(len(x), dtype=bool)


def _block_zeros(batch: _Batch, x: np.ndarray) -> np.ndarray:
    """:func:`_integral_zeros` of each block of a batch alone (blocks share no row)."""
    whole = batch.whole
    point = np.round(x)
    activity = whole.a @ point
    row_ok = (activity >= whole.low - ROW_SLACK) & (activity <= whole.high + ROW_SLACK)
    column_ok = (point >= whole.lb) & (point <= whole.ub)
    n_blocks = len(batch.comps)
    missed = np.bincount(batch.block[~column_ok], minlength=n_blocks)
    missed += np.bincount(batch.row_block[~row_ok], minlength=n_blocks)
    return (point == 0) & (missed == 0)[batch.block]


def _split(
    system: _System, lb: np.ndarray, ub: np.ndarray, wanted: np.ndarray | None = None
) -> Iterator[_Component]:
    """Yield the connected components of the system (only those holding a ``wanted`` variable).

    Rows and columns are sorted by component once, so that each component is a contiguous
    block of the sorted matrix: no fancy indexing per component.
    """
    if not system.rows:
        return
    a, low, high = _matrix(system)
    labels = _components(a, len(system.keys))
    n_labels = int(labels.max()) + 1
    row_label = labels[np.array([next(iter(r.coefs)) for r in system.rows])]
    keep = np.ones(n_labels, dtype=bool)
    if wanted is not None:
        keep[:] = False
        keep[labels[wanted]] = True
    columns_order = np.argsort(labels, kind="stable")
    rows_order = np.argsort(row_label, kind="stable")
    column_bounds = np.searchsorted(labels[columns_order], np.arange(n_labels + 1))
    row_bounds = np.searchsorted(row_label[rows_order], np.arange(n_labels + 1))
    kept = keep[row_label[rows_order]]
    rows_kept = rows_order[kept]
    columns_kept = columns_order[keep[labels[columns_order]]]
    # the kept rows and columns, each component a block on the diagonal
    block = a[rows_kept][:, columns_kept].tocsr()
    data, indices, indptr = block.data, block.indices, block.indptr
    row_start = np.cumsum(np.concatenate([[0], np.diff(row_bounds) * keep]))
    column_start = np.cumsum(np.concatenate([[0], np.diff(column_bounds) * keep]))
    with_rows = keep & (np.diff(row_bounds) > 0)
    first_row = {int(lab): int(rows_order[row_bounds[lab]]) for lab in np.flatnonzero(with_rows)}
    for label in sorted(first_row, key=first_row.__getitem__):
        r0, r1 = int(row_start[label]), int(row_start[label + 1])
        c0, c1 = int(column_start[label]), int(column_start[label + 1])
        r = rows_kept[r0:r1]
        columns = columns_kept[c0:c1]
        # a component's rows hold only its columns: its block is a run of the CSR arrays
        start, stop = indptr[r0], indptr[r1]
        part = sparse.csr_matrix(
            (data[start:stop], indices[start:stop] - c0, indptr[r0 : r1 + 1] - start),
            shape=(r1 - r0, c1 - c0),
        )
        yield _Component(
            part,
            low[r],
            high[r],
            columns,
            r,
            lb[columns],
            ub[columns],
        )


def _push_up(
    comp: _Component,
    hidden: np.ndarray,
    minimum: int,
    record: Callable[[np.ndarray | None], None],
    seen_high: np.ndarray,
) -> bool:
    """Maximise the hidden counts jointly while that lifts some to ``minimum``.

    Returns ``False`` when the component has no feasible point: every variable is bounded,
    so the first programme fails only then.
    """
    first = comp.optimum(-hidden.astype(float))
    if first is None and not comp.feasible():
        return False
    record(first)
    todo = hidden & (seen_high < minimum - 1e-6)
    if todo.sum() >= hidden.sum():
        return True  # the first programme raised none: no joint push will
    while todo.any():
        record(comp.optimum(-todo.astype(float)))
        left = hidden & (seen_high < minimum - 1e-6)
        if left.sum() >= todo.sum():
            break
        todo = left
    return True


def _bound(comp: _Component, consider: set[int], minimum: int) -> dict[int, tuple[int, int]] | None:
    """Return ``{variable: (low, high)}`` for the hidden counts that may leak.

    Every LP solution found bounds all variables at once: a hidden count seen at
    ``minimum`` or above, or at 0, in any feasible point cannot leak, so it needs no LP of
    its own. The rest are maximised, then minimised (over the integers in small components).
    ``None`` when the component has no feasible point (the first programme tells).
    """
    hidden = np.array([v in consider for v in comp.columns.tolist()], dtype=bool)
    seen_high = np.full(len(comp.columns), -np.inf)
    seen_low = np.full(len(comp.columns), np.inf)
    small = len(comp.columns) <= MAX_ILP_VARIABLES
    zero = np.zeros(len(comp.columns), dtype=bool)  # 0 in a feasible integer point

    def record(x: np.ndarray | None) -> None:
        if x is not None:
            np.maximum(seen_high, x, out=seen_high)
            np.minimum(seen_low, x, out=seen_low)
            if small:
                zero[:] |= _integral_zeros(comp.a, comp.low, comp.high, comp.lb, comp.ub, x)

    # push many counts up at once, then each count still below the threshold
    if not _push_up(comp, hidden, minimum, record, seen_high):
        return None
    high = np.full(len(comp.columns), np.inf)
    for j in np.flatnonzero(hidden & (seen_high < minimum - 1e-6)).tolist():
        c = np.zeros(len(comp.columns))
        c[j] = -1.0
        x = comp.optimum(c)
        record(x)
        high[j] = math.floor(x[j] + 1e-6) if x is not None else np.inf
    candidates = hidden & (high < minimum) & (high >= 1)
    todo = candidates.copy()
    while todo.any():
        record(comp.optimum(todo.astype(float)))
        left = candidates & (seen_low > 1e-6)
        if left.sum() >= todo.sum():
            break
        todo = left
    out: dict[int, tuple[int, int]] = {}
    for j in np.flatnonzero(candidates).tolist():
        c = np.zeros(len(comp.columns))
        c[j] = 1.0
        low = 0
        if seen_low[j] > 1e-6:
            x = comp.optimum(c)
            low = math.ceil(x[j] - 1e-6) if x is not None else 0
            if low < 1 and small and x is not None:
                zero |= _integral_zeros(comp.a, comp.low, comp.high, comp.lb, comp.ub, x)
        if low < 1 and small and not zero[j]:
            x = comp.optimum(c, integer=True)
            low = math.ceil(x[j] - 1e-6) if x is not None else 0
        out[int(comp.columns[j])] = (low, int(high[j]))
    return out


def _signature(comp: _Component, hidden: np.ndarray, minimum: int) -> bytes:
    """Return a digest of everything :func:`_solve_component` reads of a component."""
    digest = hashlib.blake2b(digest_size=20)
    digest.update(np.array([minimum, *comp.a.shape], dtype=np.int64).tobytes())
    for part in (
        comp.a.indptr,
        comp.a.indices,
        comp.a.data,
        comp.low,
        comp.high,
        comp.lb,
        comp.ub,
    ):
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(np.packbits(hidden).tobytes())
    return digest.digest()


def _solve_component(
    comp: _Component, hidden: np.ndarray, minimum: int
) -> dict[int, tuple[int, int]] | None:
    """Bound a component's hidden counts that may leak, by position in the component.

    Returns ``None`` when the published numbers contradict the component's rows.
    """
    lb, ub = comp.lb, comp.ub
    settled = hidden & (lb >= 1) & (ub < minimum)
    undecided = hidden & (ub >= 1) & ~settled
    found = {int(j): (int(lb[j]), int(ub[j])) for j in np.flatnonzero(settled).tolist()}
    if undecided.any():
        columns = comp.columns.tolist()
        position = {v: j for j, v in enumerate(columns)}
        consider = {columns[j] for j in np.flatnonzero(undecided).tolist()}
        bounded = _bound(comp, consider, minimum)
        if bounded is None:
            return None
        for var, bounds in bounded.items():
            found[position[var]] = bounds
    return found


def _families(system: _System) -> dict[int, tuple[str, ...]]:
    """Return, per variable, the families of the rows it appears in."""
    found: dict[int, set[str]] = defaultdict(set)
    for row in system.rows:
        for j in row.coefs:
            found[j].add(row.family)
    return {j: tuple(sorted(f)) for j, f in found.items()}


#: components are solved together, as one block-diagonal programme of up to this many
#: variables: HiGHS's set-up costs more than a small component's solve, and the blocks do
#: not interact (see :func:`_solve_components`)
BATCH_VARIABLES = 2000


def _solve_components(
    comps: list[_Component], hiddens: list[np.ndarray], minimum: int
) -> list[dict[int, tuple[int, int]] | None]:
    """Return :func:`_solve_component` of each component, solving many at once.

    The rule: a programme over several components, each a block of its own rows and
    variables, whose objective is a sum of one objective per block, is optimal exactly where
    each block is optimal for its own objective; so a variable's lowest and highest values
    (unique optimal values) are those of its component solved alone. A batch without a
    feasible point (some component's published numbers contradict its rows), or a programme
    without a solution, is solved again component by component.
    """
    out: list[dict[int, tuple[int, int]] | None] = [None] * len(comps)
    batch: list[int] = []
    size = 0

    def flush() -> None:
        if not batch:
            return
        if len(batch) == 1:
            i = batch[0]
            out[i] = _solve_component(comps[i], hiddens[i], minimum)
        else:
            solved = _solve_batch([comps[i] for i in batch], [hiddens[i] for i in batch], minimum)
            if solved is None:
                for i in batch:
                    out[i] = _solve_component(comps[i], hiddens[i], minimum)
            else:
                for i, found in zip(batch, solved, strict=True):
                    out[i] = found
        batch.clear()

    for i, comp in enumerate(comps):
        n = len(comp.columns)
        hidden = hiddens[i]
        if n > BATCH_VARIABLES // 4 or not (hidden & (comp.ub >= 1)).any():
            flush()
            size = 0
            out[i] = _solve_component(comp, hiddens[i], minimum)
            continue
        if size + n > BATCH_VARIABLES:
            flush()
            size = 0
        batch.append(i)
        size += n
    flush()
    return out


class _Batch:
    """Components stacked as one block-diagonal programme; each block's offset and size."""

    def __init__(self, comps: list[_Component]) -> None:
        self.comps = comps
        sizes = np.array([len(c.columns) for c in comps], dtype=np.int64)
        self.start = np.concatenate([[0], np.cumsum(sizes)])
        self.block = np.repeat(np.arange(len(comps)), sizes)
        self.row_block = np.repeat(np.arange(len(comps)), [len(c.rows) for c in comps])
        self.whole = _Component(
            sparse.block_diag([c.a for c in comps], format="csr"),
            np.concatenate([c.low for c in comps]),
            np.concatenate([c.high for c in comps]),
            np.concatenate([c.columns for c in comps]),
            np.concatenate([c.rows for c in comps]),
            np.concatenate([c.lb for c in comps]),
            np.concatenate([c.ub for c in comps]),
        )

    def one_each(self, mask: np.ndarray, rank: int) -> np.ndarray:
        """Return the ``rank``-th flagged variable of each block (where a block has one)."""
        found = np.flatnonzero(mask)
        if not len(found):
            return found
        blocks = self.block[found]
        first = np.searchsorted(blocks, blocks)  # position of each block's first flagged
        return found[np.arange(len(found)) - first == rank]


class _Infeasible(Exception):
    """A programme of a batch found no solution: the batch is solved component by component."""


class _Bounds:
    """The programmes of a batch (:class:`_Batch`) and the feasible points they found."""

    def __init__(self, batch: _Batch, minimum: int) -> None:
        self.batch = batch
        self.minimum = minimum
        n = len(batch.whole.columns)
        self.n = n
        self.seen_high = np.full(n, -np.inf)
        self.seen_low = np.full(n, np.inf)
        #: 0 in a feasible integer point of its block (see :func:`_integral_zeros`)
        self.zero = np.zeros(n, dtype=bool)

    def optimum(self, c: np.ndarray) -> np.ndarray:
        """Minimise ``c @ x`` over the batch; take the point in (:class:`_Infeasible`: none)."""
        x = self.batch.whole.optimum(c)
        if x is None:
            raise _Infeasible
        np.maximum(self.seen_high, x, out=self.seen_high)
        np.minimum(self.seen_low, x, out=self.seen_low)
        self.zero |= _block_zeros(self.batch, x)
        return x

    def per_block(self, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.batch.block[mask], minlength=len(self.batch.comps))

    def jointly(self, todo: np.ndarray, sign: float, unmoved: Callable[[], np.ndarray]) -> None:
        """Push the ``todo`` counts of each block together while that moves some of them.

        ``sign`` -1 raises them, +1 lowers them; ``unmoved()`` flags those no point has
        moved across the line yet (as :func:`_push_up` and :func:`_bound` do per component).
        """
        while todo.any():
            self.optimum(sign * todo.astype(float))
            left = unmoved() & todo
            active = self.per_block(left) < self.per_block(todo)
            todo = left & active[self.batch.block]

    def each(
        self, pending: np.ndarray, sign: float, skip: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """Optimise each ``pending`` count alone, one per block per programme.

        ``sign`` -1 maximises, +1 minimises; ``skip(chosen)`` flags the counts whose value a
        point found since settles. Returns the optimal values (NaN where not solved).
        """
        values = np.full(self.n, np.nan)
        rank = 0
        while True:
            chosen = self.batch.one_each(pending, rank)
            if not len(chosen):
                return values
            rank += 1
            chosen = chosen[~skip(chosen)]
            if len(chosen):
                c = np.zeros(self.n)
                c[chosen] = sign
                values[chosen] = self.optimum(c)[chosen]


def _solve_batch(
    comps: list[_Component], hiddens: list[np.ndarray], minimum: int
) -> list[dict[int, tuple[int, int]] | None] | None:
    """Bound the hidden counts of several components in block-diagonal programmes.

    The same bounds as :func:`_solve_component` of each (see :func:`_solve_components`);
    ``None`` when a programme finds no solution.
    """
    batch = _Batch(comps)
    bounds = _Bounds(batch, minimum)
    lb, ub = batch.whole.lb, batch.whole.ub
    hidden = np.concatenate(hiddens)
    settled = hidden & (lb >= 1) & (ub < minimum)
    undecided = hidden & (ub >= 1) & ~settled
    seen_high, seen_low = bounds.seen_high, bounds.seen_low
    try:
        # push many counts up at once, block by block while that lifts some
        bounds.jointly(undecided, -1.0, lambda: seen_high < minimum - 1e-6)
        # then each count still below the threshold (one seen at it is free)
        most = bounds.each(
            undecided & (seen_high < minimum - 1e-6), -1.0, lambda j: seen_high[j] >= minimum
        )
        high = np.where(np.isnan(most), np.inf, np.floor(np.nan_to_num(most) + 1e-6))
        candidates = undecided & (high < minimum) & (high >= 1)
        bounds.jointly(candidates, 1.0, lambda: seen_low > 1e-6)
        # one seen at 0 has 0 for its lowest value
        least = bounds.each(candidates & (seen_low > 1e-6), 1.0, lambda j: seen_low[j] <= 1e-6)
        low = np.where(np.isnan(least), 0.0, np.ceil(np.nan_to_num(least) - 1e-6))
    except _Infeasible:
        return None
    return [
        _batch_bounds(
            comp, int(batch.start[b]), settled, candidates, lb, ub, low, high, bounds.zero
        )
        for b, comp in enumerate(comps)
    ]


def _batch_bounds(
    comp: _Component,
    start: int,
    settled: np.ndarray,
    candidates: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    zero: np.ndarray,
) -> dict[int, tuple[int, int]]:
    """Return one block's bounds, as :func:`_solve_component` does (by position in it).

    A candidate whose lowest value over the reals is below 1 is minimised over the integers
    in a small component, alone, unless a feasible integer point found sets it to 0
    (``zero``, see :func:`_integral_zeros`): then 0 is its lowest value.
    """
    end = start + len(comp.columns)
    found: dict[int, tuple[int, int]] = {
        j - start: (int(lb[j]), int(ub[j])) for j in range(start, end) if settled[j]
    }
    small = len(comp.columns) <= MAX_ILP_VARIABLES
    for j in range(start, end):
        if not candidates[j]:
            continue
        value = int(low[j])
        if value < 1 and small and not zero[j]:
            c = np.zeros(len(comp.columns))
            c[j - start] = 1.0
            x = comp.optimum(c, integer=True)
            value = math.ceil(x[j - start] - 1e-6) if x is not None else 0
        found[j - start] = (value, int(high[j]))
    return found
