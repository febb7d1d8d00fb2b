"""Treatment history from diagnosis: prior lines, or the whole course without a novel agent.

For novel-agent patients this is the history before the index date; for the other ALL patients
it is their whole course. Dates are days relative to the diagnosis (day 0). A line is one or
more chemotherapy courses (frontline hyper-CVAD or VDLP, salvage FLAG-IDA or MEC, nelarabine
for T-ALL) or a CAR-T, optionally consolidated by an allo-HSCT, and ends in relapse or
refractory disease unless it is the patient's last and ends in remission. Ph+ patients take a
TKI from the first line on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from allrwe.synth.care import TKI_KEYS, add_cart, add_hsct, add_regimen, add_tki, add_visit
from allrwe.synth.concepts import INPATIENT, Concepts
from allrwe.synth.frames import NA
from allrwe.synth.params import SynthParams
from allrwe.synth.patients import Patients
from allrwe.synth.rng import Draws
from allrwe.synth.timeline import Status, Timeline

__all__ = ["History", "simulate_history"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MAX_LINES = 4
_LN2 = np.log(2.0)
#: bounds of a remission duration (days) for the first and later lines; they keep the
#: longest history below params.MAX_HISTORY_DAYS
_REMISSION_BOUNDS = {1: (60, 900), 2: (45, 540)}


@dataclass
class History:
    """What the history leaves for the rest of the course (days relative to diagnosis)."""

    end: IntArray
    last_relapse: IntArray
    cured: BoolArray
    tki: IntArray


def _tki_codes(weights: dict[str, float]) -> tuple[list[float], IntArray]:
    codes = np.array([TKI_KEYS.index(k) for k in weights], dtype=np.int64)
    return list(weights.values()), codes


def _frontline(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    params: SynthParams,
    act: BoolArray,
    short: BoolArray,
    t: IntArray,
) -> IntArray:
    h = params.history
    hcvad = draws.bernoulli(h.frontline_hcvad_share)
    k = np.where(short, draws.integers(2, 4), draws.integers(*h.hcvad_courses))
    for c in range(8):
        m = act & hcvad & (c < k)
        add_regimen(
            tl, concepts, pts, "hcvad_a" if c % 2 == 0 else "hcvad_b", np.flatnonzero(m), t[m]
        )
        t = np.where(m, t + 21 + draws.integers(0, 7), t)
    m = act & ~hcvad
    add_regimen(tl, concepts, pts, "vdlp", np.flatnonzero(m), t[m])
    t = np.where(m, t + 35 + draws.integers(0, 7), t)
    for c in range(2):
        mc = m & ((c == 0) | ~short)
        add_regimen(tl, concepts, pts, "hdmtx", np.flatnonzero(mc), t[mc])
        t = np.where(mc, t + 28 + draws.integers(0, 7), t)
    return t


def _salvage(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    params: SynthParams,
    act: BoolArray,
    cart: BoolArray,
    t: IntArray,
) -> IntArray:
    flag = draws.bernoulli(0.5)
    k = draws.integers(*params.history.salvage_courses)
    chemo = act & ~cart
    for c in range(params.history.salvage_courses[1]):
        m = chemo & (c < k)
        for key, sel in (
            ("nelarabine", pts.t_lineage),
            ("flag_ida", ~pts.t_lineage & flag),
            ("mec", ~pts.t_lineage & ~flag),
        ):
            mk = m & sel
            add_regimen(tl, concepts, pts, key, np.flatnonzero(mk), t[mk])
        t = np.where(m, t + 28 + draws.integers(0, 7), t)
    ld = t + draws.integers(20, 40)
    owner = np.flatnonzero(cart)
    infusion = add_cart(
        tl,
        draws,
        concepts,
        pts,
        owner,
        ld[owner],
        product_coded=params.recording.cart_product_coded,
    )
    t = t.copy()
    t[owner] = infusion + 28
    return t


def _maintenance(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    params: SynthParams,
    m: BoolArray,
    end: IntArray,
    until: IntArray,
) -> None:
    months = draws.integers(*params.history.maintenance_months)
    start = end + 14
    blocks = np.clip(np.minimum(months, (until - start) // 28), 0, None)
    for b in range(params.history.maintenance_months[1]):
        mb = m & (b < blocks)
        add_regimen(tl, concepts, pts, "pomp", np.flatnonzero(mb), start[mb] + 28 * b)


def _remission_end(draws: Draws, params: SynthParams, j: int, end: IntArray) -> IntArray:
    h = params.history
    median = h.first_remission_median_days if j == 1 else h.later_remission_median_days
    low, high = _REMISSION_BOUNDS[min(j, 2)]
    remission = np.clip(draws.exponential(median / _LN2), low, high).astype(np.int64)
    return end + remission


def simulate_history(
    draws: Draws, pts: Patients, params: SynthParams, concepts: Concepts
) -> tuple[Timeline, History]:
    """Simulate diagnosis and the lines of therapy before the index date (or the whole course).

    Parameters
    ----------
    draws : Draws
        Clinical-domain stream of the patients.
    pts : Patients
        Baseline characteristics.
    params : SynthParams
        Profile parameters.
    concepts : Concepts
        Resolved concept ids.

    Returns
    -------
    Timeline
        Events in days relative to diagnosis.
    History
        ``end`` is the index date for novel-agent patients and the end of the last line for
        the others, relative to diagnosis.
    """
    h = params.history
    n = pts.n
    tl = Timeline()
    cured = ~pts.novel & draws.bernoulli(params.non_novel.cure)
    last_in_cr = np.where(pts.novel, pts.in_cr, cured)
    lines = pts.lines
    nd = pts.novel & (lines == 0)
    first_p, first_codes = _tki_codes(h.tki_first_line)
    later_p, later_codes = _tki_codes(h.tki_later_line)
    tki = np.where(pts.ph, first_codes[draws.choice(first_p)], -1)
    t = draws.integers(2, 10)
    stay = draws.integers(3, 14)
    everyone = np.arange(n)
    tl.add("condition", owner=everyone, concept=pts.dx_concept, date=0, status=Status.DIAGNOSIS)
    add_visit(tl, everyone, np.zeros(n, dtype=np.int64), stay, INPATIENT)

    end = np.full(n, NA, dtype=np.int64)
    last_relapse = np.full(n, NA, dtype=np.int64)
    # newly diagnosed: pre-index frontline (in CR at index), a pre-phase, or nothing
    pre = nd & pts.prephase
    add_regimen(tl, concepts, pts, "prephase", np.flatnonzero(pre), t[pre])
    nd_index = np.where(pre, t + 7 + draws.integers(1, 5), t + draws.integers(1, 7))
    tki_start = t.copy()
    for j in range(1, MAX_LINES + 1):
        act = (lines >= j) | ((j == 1) & nd & pts.in_cr)
        last = act & ((lines == j) | nd)
        line_start = t.copy()
        if j == 1:
            t = _frontline(tl, draws, concepts, pts, params, act, nd, t)
        else:
            t = _salvage(tl, draws, concepts, pts, params, act, act & (pts.cart_line == j), t)
        hsct = act & (pts.hsct_line == j)
        hsct_day = t + draws.integers(30, 75)
        add_hsct(tl, concepts, pts, np.flatnonzero(hsct), hsct_day[hsct])
        t = np.where(hsct, hsct_day + 30, t)
        p_ref = h.primary_refractory if j == 1 else h.salvage_refractory
        relapse = _remission_end(draws, params, j, t)
        refr_u = draws.uniform()
        fin = last & last_in_cr
        refractory = act & ~fin & ~hsct & (pts.cart_line != j) & (refr_u < p_ref)
        relapse = np.where(refractory, t + draws.integers(7, 28), relapse)
        relapsing = act & ~fin
        maint = act & (j == 1) & ~refractory & ~hsct & (relapsing | ~pts.novel)
        _maintenance(
            tl, draws, concepts, pts, params, maint, t, np.where(relapsing, relapse - 1, t + 10_000)
        )
        for status, sel in (
            (Status.REFRACTORY, refractory),
            (Status.RELAPSE, relapsing & ~refractory),
        ):
            o = np.flatnonzero(sel)
            tl.add("condition", owner=o, concept=0, date=relapse[o], status=status)
        next_start = relapse + draws.integers(5, 20)
        to_index = relapse + draws.integers(7, 30)
        fin_index = t + draws.integers(14, 45)
        end = np.where(fin, np.where(pts.novel, fin_index, t), end)
        end = np.where(relapsing & last, np.where(pts.novel, to_index, relapse), end)
        last_relapse = np.where(relapsing, relapse, last_relapse)
        # the line's TKI runs from its start to the next line (or the index date)
        line_tki = np.where(j == 1, tki, later_codes[draws.choice(later_p)])
        tki = np.where(act & pts.ph, line_tki, tki)
        tki_end = np.where(
            last, np.where(pts.novel, end - 1, end + draws.integers(180, 720)), next_start - 1
        )
        o = np.flatnonzero(act & pts.ph)
        add_tki(tl, concepts, o, tki[o], line_start[o], tki_end[o])
        t = np.where(relapsing & ~last, next_start, t)
    plain_nd = nd & ~pts.in_cr
    end = np.where(plain_nd, nd_index, end)
    o = np.flatnonzero(plain_nd & pts.ph)
    add_tki(tl, concepts, o, tki[o], tki_start[o], end[o] - 1)
    return tl, History(end=end, last_relapse=last_relapse, cured=cured, tki=tki)
