"""Blinatumomab and inotuzumab cycles: drug records, cycle truth and response assessments.

Blinatumomab (DOMAIN.md 4a): 28 days of continuous infusion recorded as bags of 1, 2, 4 or 7
days, then a 14-day break; ≥45 kg 9 µg/day on days 1-7 of cycle 1 (when not in remission) then
28 µg/day, <45 kg 5 then 15 µg/m²/day capped at 9/28. An interruption of 1-7 days continues the
cycle; the last cycle may stop early. Inotuzumab (4b): 0.8/0.5/0.5 mg/m² on days 1/8/15, day 1
0.5 mg/m² from cycle 2 once in CR/CRi; cycle 1 lasts 21 days (28 if extended), later cycles 28.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from allrwe.synth.care import add_visit
from allrwe.synth.concepts import INPATIENT, OUTPATIENT, Concepts
from allrwe.synth.frames import AnyArray
from allrwe.synth.patients import BLIN, INO, Patients
from allrwe.synth.rng import Draws
from allrwe.synth.timeline import KIND_ADMIN, Timeline

__all__ = ["Course", "CycleRows", "blinatumomab_cycles", "inotuzumab_cycles"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_BIG = 10_000
#: blinatumomab: cycle 1 is inpatient through day 9, cycle 2 through day 2 (DOMAIN.md 4a)
_INPATIENT_THROUGH = {1: 9, 2: 2}
_PREMED_DEX_MG = 20.0
INO_DOSE_FIRST = 0.8
INO_DOSE_LATER = 0.5


@dataclass
class CycleRows:
    """Rows of ``truth_cycles`` collected over cycles (all arrays of equal length)."""

    cols: dict[str, list[AnyArray]] = field(default_factory=dict)

    def add(self, **columns: npt.ArrayLike) -> None:
        """Append one cycle's rows."""
        for k, v in columns.items():
            self.cols.setdefault(k, []).append(np.asarray(v))

    def frame(self) -> dict[str, AnyArray]:
        """Concatenated columns."""
        return {k: np.concatenate(v) for k, v in self.cols.items()}


def blin_daily_doses(pts: Patients, owner: IntArray) -> tuple[FloatArray, FloatArray]:
    """Label daily doses (µg/day) for days 1-7 of a step-dosed cycle and for the rest."""
    heavy = pts.weight[owner] >= 45.0
    bsa = pts.bsa[owner]
    step = np.where(heavy, 9.0, np.minimum(np.round(5.0 * bsa, 2), 9.0))
    main = np.where(heavy, 28.0, np.minimum(np.round(15.0 * bsa, 2), 28.0))
    return step, main


def _segments(d: IntArray, cuts: list[IntArray]) -> tuple[IntArray, IntArray, IntArray]:
    """Split infusion days 1..d at the cut days; return (row, first day, length) per segment."""
    m = d.size
    points = np.stack([np.minimum(c, d) for c in cuts] + [d], axis=1)
    points.sort(axis=1)
    prev = np.concatenate([np.zeros((m, 1), dtype=np.int64), points[:, :-1]], axis=1)
    length = points - prev
    row, k = np.nonzero(length > 0)
    return row, prev[row, k] + 1, length[row, k]


def _bags(
    seg_start: IntArray, seg_len: IntArray, size: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Cover each segment with bags: full bags of ``size`` days, the rest as 4-, 2-, 1-day bags.

    Returns the segment index, first day and length of each bag, in segment and day order.
    """
    full = seg_len // size
    rest = seg_len % size
    rep = np.repeat(np.arange(seg_len.size), full)
    k = np.arange(rep.size) - (np.cumsum(full) - full)[rep]
    parts = [(rep, seg_start[rep] + k * size[rep], size[rep])]
    offset = seg_start + full * size
    for bit in (4, 2, 1):
        idx = np.flatnonzero((rest & bit) > 0)
        parts.append((idx, offset[idx], np.full(idx.size, bit, dtype=np.int64)))
        offset = offset + np.where((rest & bit) > 0, bit, 0)
    which = np.concatenate([p[0] for p in parts])
    start = np.concatenate([p[1] for p in parts])
    length = np.concatenate([p[2] for p in parts])
    order = np.lexsort((start, which))
    return which[order], start[order], length[order]


@dataclass
class Course:
    """A novel-agent course, per owner: last exposure day, and each cycle's end (-1 if none).

    A blinatumomab cycle ends on its last infusion day, an inotuzumab cycle on its planned last
    day (day 21 or 28), the day of its response assessment.
    """

    last: IntArray
    cycle_ends: list[IntArray]


def blinatumomab_cycles(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    owner: IntArray,
    start: IntArray,
    n_cycles: IntArray,
    *,
    max_cycles: int,
    step_first: BoolArray,
    last_days: IntArray,
    interruption: float,
    delay: float,
    truth: CycleRows,
    is_index: bool,
) -> Course:
    """Emit blinatumomab cycles for ``owner`` patients starting on ``start``.

    Parameters
    ----------
    tl, draws, concepts, pts
        Timeline, clinical stream, concepts and patients of the chunk.
    owner : numpy.ndarray
        Patients treated (sorted), with their first infusion day ``start``.
    n_cycles : numpy.ndarray
        Cycles each patient receives.
    max_cycles : int
        Most cycles anyone can receive; fixed by the parameters (never by the data) so that
        every block consumes its random stream alike in any chunk.
    step_first : numpy.ndarray
        Whether cycle 1 starts with the 7-day step dose.
    last_days : numpy.ndarray
        Infusion days of the last cycle (28 when complete).
    interruption, delay : float
        Per-cycle chance of a 1-7-day interruption, and of starting 1-7 days late.
    truth : CycleRows
        Collects the ``truth_cycles`` rows.
    is_index : bool
        Whether these are index-drug cycles.

    Returns
    -------
    Course
    """
    step, main = blin_daily_doses(pts, owner)
    size_in = np.array([1, 2])[draws.choice([0.5, 0.5], owner=owner)]
    size_out = np.array([2, 4, 7])[draws.choice([0.2, 0.3, 0.5], owner=owner)]
    drug = concepts.drug["blinatumomab"]
    dex = concepts.drug["dexamethasone"]
    s = start.copy()
    last = start.copy()
    ends: list[IntArray] = []
    for c in range(1, max_cycles + 1):
        interrupted_u = draws.uniform(owner=owner)
        x = draws.integers(3, 24, owner=owner)
        gap = draws.integers(1, 7, owner=owner)
        late = np.where(draws.bernoulli(delay, owner=owner), draws.integers(1, 7, owner=owner), 0)
        act = c <= n_cycles
        d = np.where(c == n_cycles, last_days, 28)
        stepped = step_first & (c == 1)
        inter = (interrupted_u < interruption) & (x < d)
        disch = _INPATIENT_THROUGH.get(c, 0)
        cuts = [
            np.where(stepped, 7, _BIG),
            np.full(owner.size, disch if disch else _BIG),
            np.where(inter, x, _BIG),
        ]
        rows = np.flatnonzero(act)
        seg_row, a, length = _segments(d[rows], [cut[rows] for cut in cuts])
        seg_owner_i = rows[seg_row]
        shift = np.where(inter[seg_owner_i] & (a > x[seg_owner_i]), gap[seg_owner_i], 0)
        seg_cal = s[seg_owner_i] + a - 1 + shift
        seg_dose = np.where(stepped[seg_owner_i] & (a <= 7), step[seg_owner_i], main[seg_owner_i])
        seg_size = np.where((c <= 2) & (a <= disch), size_in[seg_owner_i], size_out[seg_owner_i])
        bag_seg, bag_start, bag_len = _bags(seg_cal, length, seg_size)
        bag_i = seg_owner_i[bag_seg]
        tl.add(
            "drug",
            owner=owner[bag_i],
            concept=drug,
            start=bag_start,
            end=bag_start + bag_len - 1,
            quantity=np.round(seg_dose[bag_seg] * bag_len, 2),
            days_supply=bag_len,
            kind=KIND_ADMIN,
        )
        end = s + d - 1 + np.where(inter, gap, 0)
        _premedication(tl, dex, owner, rows, s, stepped, inter, x, gap)
        _blin_visits(tl, owner, rows, s, d, disch, inter, x, gap, bag_i, bag_start)
        n_rec = np.bincount(bag_i, minlength=owner.size)
        truth.add(
            owner=owner[rows],
            drug=np.full(rows.size, BLIN),
            is_index=np.full(rows.size, is_index),
            cycle=np.full(rows.size, c),
            start=s[rows],
            end=end[rows],
            n_records=n_rec[rows],
            infusion_days=d[rows],
            interruption_start=np.where(inter, s + x, -1)[rows],
            interruption_days=np.where(inter, gap, 0)[rows],
            discontinued_early=((c == n_cycles) & (last_days < 28))[rows],
            dose_first=np.where(stepped, step, main)[rows],
            dose_main=main[rows],
        )
        ends.append(np.where(act, end, -1))
        last = np.where(act, end, last)
        brk = 14 if c < 5 else 56
        s = np.where(act, end + 1 + brk + late, s)
    return Course(last, ends)


def _premedication(
    tl: Timeline,
    dex: int,
    owner: IntArray,
    rows: IntArray,
    s: IntArray,
    stepped: BoolArray,
    inter: BoolArray,
    x: IntArray,
    gap: IntArray,
) -> None:
    days = [s[rows]]
    who = [rows]
    m = rows[stepped[rows]]
    days.append(s[m] + 7)
    who.append(m)
    m = rows[inter[rows]]
    days.append(s[m] + x[m] + gap[m])
    who.append(m)
    o = np.concatenate(who)
    day = np.concatenate(days)
    tl.add(
        "drug",
        owner=owner[o],
        concept=dex,
        start=day,
        end=day,
        quantity=_PREMED_DEX_MG,
        days_supply=1,
        kind=KIND_ADMIN,
    )


def _blin_visits(
    tl: Timeline,
    owner: IntArray,
    rows: IntArray,
    s: IntArray,
    d: IntArray,
    disch: int,
    inter: BoolArray,
    x: IntArray,
    gap: IntArray,
    bag_i: IntArray,
    bag_start: IntArray,
) -> None:
    # inpatient through infusion day `disch` of cycles 1-2, outpatient at later bag changes
    through = np.minimum(disch, d)
    ip_end = s + through - 1 + np.where(inter & (through > x), gap, 0)
    if disch:
        add_visit(tl, owner[rows], s[rows], ip_end[rows], INPATIENT)
    outside = bag_start > (ip_end[bag_i] if disch else s[bag_i] - 1)
    add_visit(tl, owner[bag_i[outside]], bag_start[outside], bag_start[outside], OUTPATIENT)


def inotuzumab_cycles(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    owner: IntArray,
    start: IntArray,
    n_cycles: IntArray,
    *,
    max_cycles: int,
    remission_before: IntArray,
    cycle1_days: IntArray,
    last_doses: IntArray,
    delay: float,
    truth: CycleRows,
    is_index: bool,
) -> Course:
    """Emit inotuzumab cycles (doses on days 1, 8 and 15) for ``owner`` patients.

    Parameters
    ----------
    remission_before : numpy.ndarray
        First cycle that starts in CR/CRi (its day-1 dose is 0.5 mg/m²); a large number if
        never. Cycle 1 always gets 0.8 mg/m² on day 1.
    cycle1_days : numpy.ndarray
        Length of cycle 1 (21 or 28 days).
    last_doses : numpy.ndarray
        Doses given in the last cycle (3 when complete).

    Other parameters are as in :func:`blinatumomab_cycles`.

    Returns
    -------
    Course
    """
    drug = concepts.drug["inotuzumab_ozogamicin"]
    bsa = pts.bsa[owner]
    s = start.copy()
    last = start.copy()
    ends: list[IntArray] = []
    for c in range(1, max_cycles + 1):
        late = np.where(draws.bernoulli(delay, owner=owner), draws.integers(1, 7, owner=owner), 0)
        act = c <= n_cycles
        n_doses = np.where(c == n_cycles, last_doses, 3)
        d1 = np.where((c >= 2) & (c >= remission_before), INO_DOSE_LATER, INO_DOSE_FIRST)
        length = cycle1_days if c == 1 else np.full(owner.size, 28)
        rows = np.flatnonzero(act)
        per = []
        for k, (day, dose) in enumerate(((0, d1), (7, INO_DOSE_LATER), (14, INO_DOSE_LATER))):
            m = rows[n_doses[rows] > k]
            dose_arr = np.broadcast_to(np.asarray(dose, dtype=np.float64), owner.shape)
            per.append((m, s[m] + day, np.round(dose_arr[m] * bsa[m], 3)))
        o = np.concatenate([p[0] for p in per])
        day_ = np.concatenate([p[1] for p in per])
        qty = np.concatenate([p[2] for p in per])
        tl.add(
            "drug",
            owner=owner[o],
            concept=drug,
            start=day_,
            end=day_,
            quantity=qty,
            days_supply=1,
            kind=KIND_ADMIN,
        )
        add_visit(tl, owner[o], day_, day_, OUTPATIENT)
        end = s + 7 * (n_doses - 1)
        truth.add(
            owner=owner[rows],
            drug=np.full(rows.size, INO),
            is_index=np.full(rows.size, is_index),
            cycle=np.full(rows.size, c),
            start=s[rows],
            end=end[rows],
            n_records=n_doses[rows],
            infusion_days=n_doses[rows],
            interruption_start=np.full(rows.size, -1),
            interruption_days=np.zeros(rows.size, dtype=np.int64),
            discontinued_early=((c == n_cycles) & (last_doses < 3))[rows],
            dose_first=np.round(np.broadcast_to(d1, owner.shape) * bsa, 3)[rows],
            dose_main=np.round(INO_DOSE_LATER * bsa, 3)[rows],
        )
        ends.append(np.where(act, s + length - 1, -1))
        last = np.where(act, end, last)
        s = np.where(act, s + length + late, s)
    return Course(last, ends)
