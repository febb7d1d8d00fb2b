"""Complementary suppression: keep suppressed counts from being recovered through margins.

A margin is a set of count cells that add up to a published total (the levels of one
variable in one group, the row or column of a two-way table). The attacker's knowledge is
modelled as: every visible value, every margin equation, each suppressed value being at
least 1 (zeros are never suppressed) and each unrecorded total being known unless it is
itself below the threshold. A suppressed cell is *pinned* when that knowledge fixes its
value.

The protection is in three steps:

1. per margin, to a fixed point: a margin whose unknowns are a single cell, or cells that can
   only all be 1, gets its smallest visible non-zero cell suppressed as well (ties broken by
   record order), preferring cells that can themselves be covered in their other margins;
2. across margins: for every group of margins that share unknown cells, a linear programme
   gives each unknown's lowest and highest possible value; a pinned cell gets a complement
   from its margins (then from the rest of its table), and step 1 runs again;
3. if the greedy steps get stuck (a margin needs a complement and has none left), the whole
   table is protected afresh: every non-zero cell is suppressed, then cells other than the
   small ones are published again, largest first, wherever that keeps every cell unpinned.
   If even that pins a small cell, its zeros are hidden too (each hidden cell is then
   known only to be at least 0) and a warning names the table by its shortest margin key.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from allrwe.errors import ResultsError
from allrwe.results.complementary import choose_complements
from allrwe.results.margin_tables import (
    Margin,
    TableIndex,
    _group_margins,
    margins_by_cell,
    parse_margins,
    table_index,
    tables_holding,
)

if TYPE_CHECKING:
    from scipy.sparse import csr_array

    from allrwe.results.highs import Session, Solution

    #: the matrix of a group's equations: sparse for the programmes (see :func:`_pinned`)
    Matrix: TypeAlias = np.ndarray | csr_array

__all__ = [
    "Margin",
    "PinCheck",
    "TableIndex",
    "hidden_whole_tables",
    "parse_margins",
    "protect_margins",
    "table_index",
    "tables_holding",
]

logger = logging.getLogger(__name__)

# LP bounds are exact integers for one- and two-way tables; allow float round-off only.
_TOLERANCE = 1e-6
# Two feasible points whose values of an unknown differ by more than this (a thousand times
# the LP tolerance) prove that the margins leave it free.
_DISTINCT = 1e-3


class _Stuck(Exception):
    """The greedy steps found no cell to suppress for ``margin``."""

    def __init__(self, margin: Margin) -> None:
        super().__init__(margin.key)
        self.margin = margin


@dataclass
class _State:
    """Values and suppression flags shared by the protection steps."""

    values: np.ndarray
    suppressed: np.ndarray
    margins: dict[str, Margin]
    min_cell_count: int
    weights: np.ndarray | None = None
    primary: np.ndarray = field(init=False)
    #: cells of tables whose zeros are hidden too: the reader knows them only to be >= 0
    may_be_zero: np.ndarray = field(init=False)
    #: groups of margins (keys, hidden cells) found to pin no cell
    clean: set[tuple[tuple[str, ...], tuple[int, ...]]] = field(init=False, default_factory=set)
    cell_margins: dict[int, list[Margin]] = field(init=False, default_factory=dict)
    #: cells two feasible points have shown free: hiding more keeps them free (those points,
    #: with the true values of the newly hidden cells, stay feasible), so the set is emptied
    #: only when a cell is published again
    free: set[int] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        if self.weights is None:
            self.weights = np.nan_to_num(self.values, nan=0.0) + 1.0
        self.primary = self.suppressed.copy()
        self.may_be_zero = np.zeros(len(self.values), dtype=bool)
        self.cell_margins = margins_by_cell(self.margins)

    def total_unknown(self, margin: Margin) -> bool:
        if margin.total is not None:
            return bool(self.suppressed[margin.total])
        return margin.small_unrecorded_total(self.values, self.min_cell_count)

    def at_risk(self, margin: Margin) -> bool:
        if self.may_be_zero[margin.cells()].any():
            return False  # its table is hidden whole, zeros included: nothing more to hide
        unknown = [c for c in margin.members if self.suppressed[c]]
        total_unknown = self.total_unknown(margin)
        if len(unknown) + total_unknown == 1:
            return True
        # Zeros are never suppressed, so each unknown member is >= 1; if they add up to
        # their number, each must be exactly 1 (in a table whose zeros are hidden, each is
        # >= 0, and only a residual of 0 pins them, to 0, which discloses nobody).
        residual = float(self.values[unknown].sum()) if unknown else 0.0
        return bool(unknown) and not total_unknown and residual <= len(unknown)

    def candidates(self, cells: Sequence[int]) -> list[int]:
        # A cell that is the only non-zero one of another margin would be handed straight
        # back by that margin: hiding it protects nothing, so it is never a complement.
        visible = [
            c for c in cells if not self.suppressed[c] and self.values[c] > 0 and self._viable(c)
        ]
        return sorted(visible, key=lambda c: (self._cost(c), self.values[c], c))

    def _cost(self, cell: int) -> float:
        """Weight of hiding ``cell`` and, in each margin it would leave alone, its cover."""
        cost = self._weight(cell)
        for margin in self.cell_margins.get(cell, []):
            others = [c for c in margin.members if c != cell and self.suppressed[c]]
            if others or self.total_unknown(margin):
                continue
            cover = [c for c in margin.cells() if c != cell and self.values[c] > 0]
            cost += min((self._weight(c) for c in cover), default=np.inf)
        return cost

    def _weight(self, cell: int) -> float:
        return float(self.values[cell] + 1.0 if self.weights is None else self.weights[cell])

    def _viable(self, cell: int) -> bool:
        # Suppressing the only non-zero cell of another margin would hand it straight back
        # through that margin's total; prefer cells that can be covered in every margin.
        # A margin whose only other non-zero cells are headline counts (weighted up) could
        # cover it only by hiding a headline: such a cell is no complement either.
        for margin in self.cell_margins.get(cell, []):
            if not any(
                c != cell and self.values[c] > 0 and not self._headline(c) for c in margin.cells()
            ):
                return False
        return True

    def _headline(self, cell: int) -> bool:
        return self._weight(cell) > 2.0 * (float(self.values[cell]) + 1.0)

    def complement(self, margin: Margin) -> int:
        choice = self.candidates(margin.members) or self.candidates(margin.cells())
        if not choice:
            raise _Stuck(margin)
        return choice[0]


class _Risks:
    """:meth:`_State.at_risk` of every margin of a table at once, from a matrix of its cells.

    Built once per table: the members and totals of its margins, and whether each total
    that is no record is small (the values do not change); each test reads the state's
    suppressed cells and hidden zeros as they are then.

    Parameters
    ----------
    state : _State
        The protection's state (its values and threshold).
    margins : sequence of Margin
        The margins of the table.
    """

    def __init__(self, state: _State, margins: Sequence[Margin]) -> None:
        from scipy import sparse  # deferred: only large tables need it

        self.cells = np.array(sorted({c for m in margins for c in m.cells()}), dtype=np.int64)
        local = {c: i for i, c in enumerate(self.cells.tolist())}
        shape = (len(margins), len(self.cells))

        def matrix(rows: list[list[int]]) -> sparse.csr_array:
            columns = [local[c] for row in rows for c in row]
            starts = np.cumsum([0, *(len(row) for row in rows)])
            data = np.ones(len(columns), dtype=np.float64)
            return sparse.csr_array((data, np.array(columns, dtype=np.int64), starts), shape)

        self.members = matrix([m.members for m in margins])
        self.every = matrix([m.cells() for m in margins])
        self.total = np.array(
            [-1 if m.total is None else local[m.total] for m in margins], dtype=np.int64
        )
        self.small_total = np.array(
            [m.total is None and state.total_unknown(m) for m in margins], dtype=bool
        )
        self.values = state.values[self.cells]

    def test(self, state: _State, start: int = 0) -> np.ndarray:
        """Return :meth:`_State.at_risk` of the margins from ``start`` on."""
        hidden = state.suppressed[self.cells]
        members = self.members[start:] if start else self.members
        every = self.every[start:] if start else self.every
        unknown = members @ hidden.astype(np.float64)
        residual = members @ np.where(hidden, self.values, 0.0)
        total = self.total[start:]
        total_unknown = np.where(total >= 0, hidden[np.maximum(total, 0)], self.small_total[start:])
        whole = (every @ state.may_be_zero[self.cells].astype(np.float64)) > 0
        alone = unknown + total_unknown == 1
        all_ones = (unknown > 0) & ~total_unknown & (residual <= unknown)
        return ~whole & (alone | all_ones)


#: tables of at least this many margins test them all at once (:class:`_Risks`)
_RISKS_FROM = 16


def _fixed_point(state: _State, margins: Sequence[Margin], risks: _Risks | None = None) -> int:
    """Apply the per-margin rule until no margin changes; return the number of rounds.

    With ``risks`` (the margins' :class:`_Risks`), each pass finds the next margin at risk
    by one test of all margins after the last change: the margins before it are not at
    risk, as a visit of each in turn finds them.
    """
    rounds = 0
    changed = True
    while changed:
        changed = False
        if risks is None:
            for margin in margins:
                if state.at_risk(margin):
                    state.suppressed[state.complement(margin)] = True
                    changed = True
        else:
            start = 0
            while start < len(margins):
                at = np.flatnonzero(risks.test(state, start))
                if not len(at):
                    break
                start += int(at[0])
                state.suppressed[state.complement(margins[start])] = True
                changed = True
                start += 1
        rounds += changed
    logger.debug("margins settled after %d round(s) of complements", rounds)
    return rounds


def _unknown_groups(
    state: _State, margins: Sequence[Margin], risks: _Risks | None = None
) -> list[list[Margin]]:
    """Group the margins that share an unknown cell; single margins are left out.

    ``risks``: the margins' :class:`_Risks`, which tells the margins with an unknown cell
    at once.
    """
    if risks is None:
        involved = [m for m in margins if any(state.suppressed[c] for c in m.cells())]
    else:
        with_unknown = risks.every @ state.suppressed[risks.cells].astype(np.float64)
        involved = [margins[i] for i in np.flatnonzero(with_unknown > 0).tolist()]
    groups = _group_margins(involved, lambda cell: bool(state.suppressed[cell]))
    return [g for g in groups if len(g) > 1]


def _extra_totals(state: _State, margins: list[Margin]) -> list[Margin]:
    """Margins whose unrecorded total is unknown: each adds an unknown to the system."""
    return [m for m in margins if m.total is None and state.total_unknown(m)]


def _equations(state: _State, margins: list[Margin]) -> tuple[list[int], Matrix, np.ndarray]:
    """Linear system ``A x = b`` of the unknowns of a group of margins (``A`` sparse)."""
    from scipy import sparse  # deferred, as HiGHS in _Programmes

    cells = sorted({c for m in margins for c in m.cells() if state.suppressed[c]})
    extra = {id(m): k for k, m in enumerate(_extra_totals(state, margins))}
    index = {c: i for i, c in enumerate(cells)}
    suppressed, values = state.suppressed, state.values
    rows: list[int] = []
    columns: list[int] = []
    data: list[float] = []
    b = np.zeros(len(margins))
    for row, margin in enumerate(margins):
        entries: dict[int, float] = {}
        for cell in margin.members:
            if suppressed[cell]:
                entries[index[cell]] = 1.0
            else:
                b[row] -= values[cell]
        if margin.total is not None:
            if suppressed[margin.total]:
                column = index[margin.total]
                entries[column] = entries.get(column, 0.0) - 1.0
            else:
                b[row] += values[margin.total]
        elif id(margin) in extra:
            entries[len(cells) + extra[id(margin)]] = -1.0
        else:
            b[row] += float(values[margin.members].sum())
        for column, value in entries.items():
            if value != 0.0:
                rows.append(row)
                columns.append(column)
                data.append(value)
    shape = (len(margins), len(cells) + len(extra))
    a = sparse.csr_array((np.array(data, dtype=np.float64), (rows, columns)), shape=shape)
    a.sort_indices()
    return cells, a, b


def _true_point(
    state: _State,
    margins: list[Margin],
    cells: list[int],
    a: Matrix,
    b: np.ndarray,
    floor: np.ndarray,
) -> np.ndarray | None:
    """Return the unknowns' true values if they solve ``A x = b`` with every unknown >= floor.

    The true values (the hidden cells, and the sums behind unknown unrecorded totals) solve
    the system whenever the suppressed cells are real non-zero counts; the check makes that
    a proof rather than an assumption, and ``None`` is returned when it fails.
    """
    extra = _extra_totals(state, margins)
    point = np.concatenate(
        [state.values[cells], [float(state.values[m.members].sum()) for m in extra]]
    )
    feasible = (
        bool(np.isfinite(point).all())
        and bool((point >= floor - _TOLERANCE).all())
        and bool(np.allclose(a @ point, b, rtol=0.0, atol=_TOLERANCE))
    )
    return point if feasible else None


class _Seen:
    """The lowest and highest value of each unknown over feasible points found so far.

    Two feasible points that differ in an unknown by more than :data:`_DISTINCT` prove that
    the margins do not fix it, so no linear programme is needed to tell.
    """

    def __init__(self, floor: np.ndarray) -> None:
        self.floor = floor
        self.low = np.full(len(floor), np.inf)
        self.high = np.full(len(floor), -np.inf)
        #: the points taken in by :meth:`add`, in order
        self.points: list[np.ndarray] = []

    def add(self, point: np.ndarray | None) -> None:
        """Take in a feasible point (``None``: nothing to take in)."""
        if point is not None:
            self.low = np.minimum(self.low, point)
            self.high = np.maximum(self.high, point)
            self.points.append(point)

    def add_all(self, points: np.ndarray) -> None:
        """Take in the feasible points that are the rows of ``points`` (none: nothing)."""
        if len(points):
            self.low = np.minimum(self.low, points.min(axis=0))
            self.high = np.maximum(self.high, points.max(axis=0))

    def varies(self, i: int) -> bool:
        """Return whether two points found differ in unknown ``i``."""
        return bool(self.high[i] - self.low[i] > _DISTINCT)


class _Programmes:
    """The linear programmes of one group of margins: ``A x = b``, each unknown >= its floor.

    Each programme minimises an objective of its own over the same rows and bounds, in one
    of two sessions (:class:`allrwe.results.highs.Session`): capped (every unknown at most
    :data:`_CAP`, only to make a pushing programme bounded) or not. A session starts each
    programme from the last one's optimal basis, which spares HiGHS its set-up and most of
    its steps; only the optimal values decide, and they are those of a programme solved
    alone (the optimal point may be another, which only changes what later points spare).
    """

    def __init__(self, a: Matrix, b: np.ndarray, floor: np.ndarray) -> None:
        self.a = a
        self.b = b
        self.floor = np.asarray(floor, dtype=np.float64)
        self.size = int(a.shape[1])
        self._sessions: dict[bool, Session] = {}
        #: unknowns fixed at a value (:meth:`fix`): their bounds are that value
        self._fixed = np.zeros(self.size, dtype=bool)
        self._at = np.zeros(self.size)

    def _bounds(self, capped: bool) -> tuple[np.ndarray, np.ndarray]:
        upper = np.full(self.size, _CAP if capped else np.inf)
        lower = np.where(self._fixed, self._at, self.floor)
        return lower, np.where(self._fixed, self._at, upper)

    def fix(self, fixed: np.ndarray, at: np.ndarray) -> None:
        """Fix the unknowns of ``fixed`` at their values ``at``; free the others again.

        A cell published again is an unknown fixed at its value: the programmes are those of
        the system without it (its value moved to the right-hand side), over the same rows.
        """
        self._fixed = np.asarray(fixed, dtype=bool)
        self._at = np.where(self._fixed, at, 0.0)
        for capped, session in self._sessions.items():
            session.bounds(*self._bounds(capped))

    def minimize(self, objective: np.ndarray, *, capped: bool = False) -> Solution:
        """Minimise ``objective @ x`` over the rows and floors (every unknown capped or not)."""
        session = self._sessions.get(capped)
        if session is None:
            # deferred: only tables with several margins need HiGHS
            from allrwe.results.highs import Session

            session = Session(self.a, self.b, self.b, *self._bounds(capped))
            self._sessions[capped] = session
        return session.minimize(objective)


def _lowest(i: int, programmes: _Programmes, seen: _Seen, margins: list[Margin]) -> float:
    """Return the lowest value of unknown ``i``, adding the optimum found to ``seen``.

    A feasible point with the unknown at its floor (1, or 0 where zeros are hidden) already
    shows that the floor is its lowest value; otherwise a linear programme finds it.
    """
    if seen.low[i] <= seen.floor[i]:
        return float(seen.floor[i])
    objective = np.zeros(programmes.size)
    objective[i] = 1.0
    low = programmes.minimize(objective)
    if low.status != 0:
        raise ResultsError(f"{_table_name(margins)} are inconsistent")
    seen.add(low.x)
    return float(low.fun)


def _highest(i: int, programmes: _Programmes, seen: _Seen) -> float | None:
    """Return the highest value of unknown ``i`` (``None``: unbounded or not found)."""
    objective = np.zeros(programmes.size)
    objective[i] = -1.0
    high = programmes.minimize(objective)
    if high.status != 0:
        return None
    seen.add(high.x)
    return float(-high.fun)


#: the upper bound of every unknown in a pushing programme (only to make it bounded: an
#: unknown at the cap is simply free)
_CAP = 1e7


def _push_apart(programmes: _Programmes, seen: _Seen, todo: list[int]) -> None:
    """Raise, then lower, the unknowns no two points have set apart, all at once.

    Each optimum is a feasible point: an unknown it moves is free, and needs no programme
    of its own. Repeated while a pair of programmes frees some; what is left goes to the
    programmes of single unknowns, which alone decide what is pinned.
    """
    undecided = [i for i in todo if not seen.varies(i)]
    while len(undecided) >= 2:
        for sign in (-1.0, 1.0):
            objective = np.zeros(programmes.size)
            objective[undecided] = sign
            found = programmes.minimize(objective, capped=True)
            if found.status == 0:
                seen.add(found.x)
        left = [i for i in undecided if not seen.varies(i)]
        if len(left) == len(undecided):
            return
        undecided = left


def _pinned(
    state: _State, margins: list[Margin], *, first_only: bool = False, whole: bool = False
) -> list[int]:
    """Return the unknown cells whose value the margins fix, by lowest and highest value.

    Linear programmes find the lowest and highest values, but only for unknowns on which the
    feasible points found so far (the true values, and the programmes' optima) all agree:
    points that differ already prove that the margins leave an unknown free. Cells of tables
    hidden whole are left out (nothing more can be hidden for them) unless ``whole``.

    With ``first_only``, the first cell to decide is decided before any pushing apart: a table
    whose pinned cell is not protected yet by the complements hidden so far meets it again
    first (cells before it stay free as more is hidden), and two programmes tell.
    """
    cells, a, b = _equations(state, margins)
    n_extra = a.shape[1] - len(cells)
    floor = np.concatenate([np.where(state.may_be_zero[cells], 0.0, 1.0), np.ones(n_extra)])
    seen = _Seen(floor)
    seen.add(_true_point(state, margins, cells, a, b, floor))
    skip = [c in state.free or (state.may_be_zero[c] and not whole) for c in cells]
    programmes = _Programmes(a, b, floor)
    return _decide(state, margins, cells, programmes, seen, skip, first_only=first_only)


def _decide(
    state: _State,
    margins: list[Margin],
    cells: list[int],
    programmes: _Programmes,
    seen: _Seen,
    skip: list[bool],
    *,
    first_only: bool,
) -> list[int]:
    """Return the cells not skipped whose lowest and highest values agree (see :func:`_pinned`)."""
    if first_only:
        first = next((i for i, s in enumerate(skip) if not s and not seen.varies(i)), None)
        if first is not None and _fixed(first, programmes, seen, margins):
            state.free.update(c for i, c in enumerate(cells) if seen.varies(i))
            return [cells[first]]
    _push_apart(programmes, seen, [i for i, s in enumerate(skip) if not s])
    pinned = []
    for i, cell in enumerate(cells):
        if skip[i] or seen.varies(i):
            continue
        if _fixed(i, programmes, seen, margins):
            pinned.append(cell)
            if first_only:
                break
    state.free.update(c for i, c in enumerate(cells) if seen.varies(i))
    return pinned


def _fixed(i: int, programmes: _Programmes, seen: _Seen, margins: list[Margin]) -> bool:
    """Return whether unknown ``i``'s lowest and highest values agree (optima to ``seen``)."""
    low = _lowest(i, programmes, seen, margins)
    if seen.varies(i):
        return False
    high = _highest(i, programmes, seen)
    return high is not None and high - low < _TOLERANCE


def _first_pinned(
    state: _State, margins: Sequence[Margin], risks: _Risks | None = None
) -> tuple[int, list[Margin]] | None:
    for group in _unknown_groups(state, margins, risks):
        # a group checked before with the same hidden cells has no pinned cell: skip it
        hidden = sorted({c for m in group for c in m.cells() if state.suppressed[c]})
        signature = (tuple(m.key for m in group), tuple(hidden))
        if signature in state.clean:
            continue
        pinned = _pinned(state, group, first_only=True)
        if pinned:
            return pinned[0], group
        state.clean.add(signature)
    return None


def _cross_margin_complement(state: _State, cell: int, group: list[Margin]) -> int:
    near = sorted({c for m in state.cell_margins[cell] for c in m.cells()})
    wide = sorted({c for m in group for c in m.cells()})
    for cells in (near, wide):
        choice = state.candidates(cells)
        if choice:
            logger.debug("cell %d is pinned by several margins; suppressing %d", cell, choice[0])
            return choice[0]
    raise _Stuck(state.cell_margins[cell][0])


def _table_name(margins: Sequence[Margin]) -> str:
    """Name a table of margins for a message: its shortest margin key and how many more.

    A table of Table 1 by crossed strata links over a thousand margins; a message lists
    the one that reads most like the table's own name (the shortest key), not all of them.
    """
    keys = sorted((m.key for m in margins), key=lambda k: (len(k), k))
    if len(keys) == 1:
        return f"margin {keys[0]!r}"
    return f"the margins {keys[0]!r} and {len(keys) - 1} linked to it"


def _record_name(labels: Sequence[str] | None, row: int) -> str:
    """Name a record for an error message: its label, or its position."""
    return labels[row] if labels is not None else f"record {row}"


def _protect_table(state: _State, table: list[Margin], labels: Sequence[str] | None) -> None:
    """Protect one table from scratch: suppress all non-zero cells, then publish back.

    If the margins pin a small count even then, the table's zeros are hidden as well (the
    reader then knows each hidden cell only to be at least 0); a run never stops here.
    """
    cells = sorted({c for m in table for c in m.cells() if state.values[c] > 0})
    state.suppressed[cells] = True
    pinned = _pinned(state, table)
    if any(state.primary[c] for c in pinned):
        cells = sorted({c for m in table for c in m.cells()})
        state.suppressed[cells] = True
        state.may_be_zero[cells] = True
        pinned = _pinned(state, table, whole=True)
        small = [c for c in pinned if state.primary[c]]
        # a step of the protection: the attack and repair that follow hide what still gives
        # a count away, and the run tells which tables its output hides whole
        # (hidden_whole_tables)
        logger.debug(
            "%s: every cell of the table, zeros included, is hidden%s",
            _table_name(table),
            f" (totals published elsewhere still fix {_record_name(labels, small[0])!r})"
            if small
            else "",
        )
        state.suppressed[[c for c in pinned if not state.primary[c]]] = False
        state.free.clear()
        return
    # Cells the margins fix anyway protect nothing; publish them (others' ranges stay the same).
    state.suppressed[pinned] = False
    state.free.clear()
    check = _PublishingBack(state, table)
    for cell in sorted(cells, key=lambda c: (-state._weight(c), -state.values[c], c)):
        if state.primary[cell] or not state.suppressed[cell]:
            continue
        state.suppressed[cell] = False
        state.free.clear()
        if any(state.at_risk(m) for m in state.cell_margins[cell]) or check.pinned(state):
            state.suppressed[cell] = True


class _PublishingBack:
    """The exact check of one table while its hidden cells are published again one by one.

    ``pinned(state)`` tells what ``_pinned(state, table, first_only=True)`` tells, over one
    system for the whole loop: the cells hidden when it starts stay its unknowns, and a
    cell published again is an unknown fixed at its value (:meth:`_Programmes.fix`), so the
    programmes of each state start from the last optimal basis instead of from scratch.

    The optima of earlier states are kept (:meth:`_carry`): one whose fixed unknowns all
    sit at their values is a feasible point of the state checked now, and two that are off
    in the cell tried only, one below its value and one above, mix into one; such points
    prove unknowns free before any programme runs. Which cells are pinned depends on the
    system alone, not on the points that prove others free, so the answer is the one from
    scratch. In the seed001 example on a 20,000-person emr CDM (seed 1) the table published
    back cell by cell took 2,090 programmes before, 938 with the points carried.
    """

    def __init__(self, state: _State, table: list[Margin]) -> None:
        self.table = table
        self.cells, a, b = _equations(state, table)
        n_extra = a.shape[1] - len(self.cells)
        self.extra = n_extra
        cells = self.cells
        self.floor = np.concatenate(
            [np.where(state.may_be_zero[cells], 0.0, 1.0), np.ones(n_extra)]
        )
        self.true = _true_point(state, table, cells, a, b, self.floor)
        self.at = np.concatenate([np.nan_to_num(state.values[cells]), np.zeros(n_extra)])
        self.programmes = _Programmes(a, b, self.floor)
        #: the optima found so far, a row each, and where each sits at ``at``
        self.points = np.empty((0, len(self.floor)))
        self.at_value = np.empty((0, len(self.floor)), dtype=bool)

    def pinned(self, state: _State) -> bool:
        """Whether the margins pin a hidden cell of the table in ``state`` (see above)."""
        cells = self.cells
        shown = np.concatenate([~state.suppressed[cells], np.zeros(self.extra, dtype=bool)])
        self.programmes.fix(shown, self.at)
        seen = _Seen(self.floor)
        seen.add(self.true)
        first = len(seen.points)  # the optima of this state come after the true point
        self._carry(seen, shown)
        skip = [
            bool(shown[i]) or c in state.free or state.may_be_zero[c] for i, c in enumerate(cells)
        ]
        found = _decide(state, self.table, cells, self.programmes, seen, skip, first_only=True)
        if len(seen.points) > first:
            new = np.vstack(seen.points[first:])
            self.points = np.vstack([self.points, new])
            self.at_value = np.vstack([self.at_value, np.abs(new - self.at) <= _TOLERANCE])
            # the latest optima only: the cells tried last are the ones they can spare
            self.points = self.points[-self.KEEP :]
            self.at_value = self.at_value[-self.KEEP :]
        return bool(found)

    #: most optima taken on each side of a cell's value when two are mixed (:meth:`_carry`)
    MIX = 24
    #: most optima kept between states
    KEEP = 4096

    def _carry(self, seen: _Seen, shown: np.ndarray) -> None:
        """Give ``seen`` the feasible points the optima of earlier states yield.

        An optimum with every shown unknown at its value is feasible as it is. Two optima
        off their value in one and the same shown unknown only, one below it and one above,
        mix into a feasible point with that unknown at its value (the system is linear and
        its floors convex): the states differ by the one cell tried.
        """
        if not len(self.points):
            return
        where = np.flatnonzero(shown)
        off = ~self.at_value[:, where]
        n_off = off.sum(axis=1)
        seen.add_all(self.points[n_off == 0])
        single = np.flatnonzero(n_off == 1)
        if not len(single):
            return
        cell = where[off[single].argmax(axis=1)]
        for c in np.unique(cell).tolist():
            rows = single[cell == c]
            gap = self.points[rows, c] - self.at[c]
            below, above = rows[gap < 0][: self.MIX], rows[gap > 0][: self.MIX]
            if not len(below) or not len(above):
                continue
            down = -gap[gap < 0][: self.MIX]
            up = gap[gap > 0][: self.MIX]
            # each pair mixed so that unknown c sits at its value
            w = up[None, :] / (down[:, None] + up[None, :])
            mixed = (
                w[..., None] * self.points[below][:, None, :]
                + (1.0 - w)[..., None] * self.points[above][None, :, :]
            )
            seen.add_all(mixed.reshape(-1, mixed.shape[-1]))


def hidden_whole_tables(
    hidden: np.ndarray, values: np.ndarray, margins: dict[str, Margin]
) -> list[str]:
    """Name the tables whose every cell, zeros included, ``hidden`` hides.

    A table is hidden whole only where its margins would give a small count away from the
    totals even with every non-zero cell hidden (:func:`protect_margins`); later steps may
    publish some of its cells again, so this reads the final flags.

    Parameters
    ----------
    hidden : numpy.ndarray of bool
        The counts hidden in the output.
    values : numpy.ndarray
        The values of all records.
    margins : dict of str to Margin
        From :func:`parse_margins`.

    Returns
    -------
    list of str
        Each such table named by :func:`_table_name`.
    """
    filled = np.nan_to_num(values, nan=0.0)
    out = []
    for table in _group_margins(list(margins.values()), lambda _: True):
        cells = np.array(sorted({c for m in table for c in m.cells()}), dtype=np.int64)
        if hidden[cells].all() and (filled[cells] == 0).any():
            out.append(_table_name(table))
    return out


def protect_margins(
    values: np.ndarray,
    suppressed: np.ndarray,
    margins: dict[str, Margin],
    min_cell_count: int,
    labels: Sequence[str] | None = None,
    weights: np.ndarray | None = None,
    *,
    hidden: np.ndarray | None = None,
) -> np.ndarray:
    """Add complementary suppressions until no suppressed cell can be recovered.

    A mixed-integer programme per table first chooses the complements of least total weight
    (:func:`allrwe.results.complementary.choose_complements`); the exact check then repairs
    what combinations of margins still pin down. A table that cannot be protected otherwise
    is hidden whole, zeros included; this never fails.

    Parameters
    ----------
    values : numpy.ndarray
        Values of all records (only cells named by margins are read).
    suppressed : numpy.ndarray of bool
        Primary suppressions, aligned with ``values``.
    margins : dict of str to Margin
        From :func:`parse_margins`.
    min_cell_count : int
        The threshold (an unrecorded total below it is treated as unknown).
    labels : sequence of str, optional
        A name for each record, for log messages.
    weights : numpy.ndarray, optional
        The cost of hiding each record; default its value plus one.
    hidden : numpy.ndarray of bool, optional
        Cells hidden already (complements of an earlier pass): they stay hidden, but are not
        small counts (a table is hidden whole only to protect a primary suppression).

    Returns
    -------
    numpy.ndarray of bool
        The primary and complementary suppressions (and ``hidden``) together.
    """
    # Labels are read only for an error message; a lazy sequence is not copied.
    names = labels if labels is None or isinstance(labels, Sequence) else list(labels)
    cost = np.nan_to_num(values, nan=0.0) + 1.0 if weights is None else weights
    state = _State(values, suppressed.copy(), margins, min_cell_count, cost)
    linked = _group_margins(list(margins.values()), lambda _: True)
    if hidden is not None:
        state.suppressed |= hidden
        _hidden_zeros(state, linked)
    if state.suppressed.any():
        shapes = [[(m.members, m.total, not state.total_unknown(m)) for m in t] for t in linked]
        state.suppressed = choose_complements(values, state.suppressed, shapes, cost)
    # Tables share no cell: each is settled on its own, in the order a pass over all margins
    # would meet its changes (the steps read and write only the cells of one table).
    for table in linked:
        _settle(state, table, names)
    return state.suppressed


def _hidden_zeros(state: _State, tables: Sequence[Sequence[Margin]]) -> None:
    """Let every hidden count of a table that hides a zero be 0 (``state.may_be_zero``).

    The rule of a table hidden whole (:func:`_protect_table`): once one of its zeros is
    hidden, the reader knows a hidden count of it only to be at least 0. A later pass that
    starts from those hidden cells (``protect_margins(hidden=...)``) keeps the rule; with
    each hidden count at least 1, a hidden zero makes the margins inconsistent.
    """
    filled = np.nan_to_num(state.values, nan=0.0)
    for table in tables:
        cells = np.array(sorted({c for m in table for c in m.cells()}), dtype=np.int64)
        if (state.suppressed[cells] & (filled[cells] == 0)).any():
            state.may_be_zero[cells] = True


def _settle(state: _State, table: list[Margin], names: Sequence[str] | None) -> None:
    """Run the per-margin rule and the exact check on one table until nothing is pinned."""
    risks = _Risks(state, table) if len(table) >= _RISKS_FROM else None
    while True:
        try:
            _fixed_point(state, table, risks)
            found = _first_pinned(state, table, risks)
            if found is None:
                return
            state.suppressed[_cross_margin_complement(state, *found)] = True
        except _Stuck as stuck:
            logger.debug("greedy protection stuck at margin %r; redoing its table", stuck.margin)
            _protect_table(state, table, names)


class PinCheck:
    """Tell whether the margins pin a small hidden count, for states that hide fewer counts.

    The rule is the protection's own (the module docstring): a hidden count is at least 1,
    or at least 0 in a table that hides a zero (a table hidden whole); the margin equations
    pin a hidden count when its lowest and highest values agree (:func:`_pinned`, the same
    programmes). Only small counts (1 to ``min_cell_count - 1``) are decided, and only in the
    groups of margins that share a hidden cell with a margin holding one of the cells
    published again: publishing counts splits groups, and pins nothing elsewhere.

    Parameters
    ----------
    values : numpy.ndarray
        The values of all records.
    margins : dict of str to Margin
        From :func:`parse_margins`.
    min_cell_count : int
        The threshold.
    """

    def __init__(self, values: np.ndarray, margins: dict[str, Margin], min_cell_count: int):
        self.filled = np.nan_to_num(values, nan=0.0)
        self.state = _State(values, np.zeros(len(values), dtype=bool), margins, min_cell_count)
        self.tables = table_index(margins)
        #: the margins holding each cell (:func:`margins_by_cell`), for the caller too
        self.cell_margins = self.state.cell_margins

    def small_pinned(self, hidden: np.ndarray, published: Sequence[int]) -> int | None:
        """Return a small hidden count the margins pin with ``hidden`` hidden, or ``None``.

        ``published``: the cells hidden before and published in this state. Margins that
        are inconsistent with a count of at least 1 in each hidden cell count as pinning.
        """
        state, filled = self.state, self.filled
        k = state.min_cell_count
        tables = self.tables.tables(published)
        state.suppressed = hidden.copy()
        state.may_be_zero = np.zeros(len(hidden), dtype=bool)
        _hidden_zeros(state, tables)
        small = hidden & (filled >= 1) & (filled < k)
        # what is not small is never decided (the skip of _pinned)
        state.free = set(np.flatnonzero(hidden & ~small).tolist())
        near = {m.key for c in published for m in state.cell_margins.get(c, [])}
        around = [
            m
            for table in tables
            for m in table
            if m.key in near or any(hidden[c] for c in m.cells())
        ]
        for group in _group_margins(around, lambda c: bool(hidden[c])):
            if not any(m.key in near for m in group):
                continue
            if not any(small[c] for m in group for c in m.cells()):
                continue
            try:
                pinned = _pinned(state, group, first_only=True, whole=True)
            except ResultsError:
                return int(next(c for m in group for c in m.cells() if small[c]))
            if pinned:
                return int(pinned[0])
        return None
