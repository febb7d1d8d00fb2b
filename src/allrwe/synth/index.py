"""The index treatment: cycles of the first novel agent, response after each cycle, MRD.

Response is drawn so that the profile's marginals hold exactly in expectation: the number of
cycles follows ``cycles``; non-response (among patients not in CR at index) is possible only
with at most ``non_responder_max_cycles`` cycles, with the probability rescaled so that its
overall share is ``1 - response``. Lab values written at each assessment classify to the
simulated response under DOMAIN.md 3a, kept clear of every threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from allrwe.synth.concepts import Concepts
from allrwe.synth.frames import NA, AnyArray
from allrwe.synth.novel import CycleRows, blinatumomab_cycles, inotuzumab_cycles
from allrwe.synth.params import INDEX_DRUGS, IndexDrugParams, SynthParams
from allrwe.synth.patients import BLIN, Patients
from allrwe.synth.rng import Draws
from allrwe.synth.timeline import Timeline

__all__ = ["NEVER", "RESPONSES", "IndexResult", "draw_labs", "simulate_index"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: response codes, deepest last: no response, CRi, CRh, CR
RESPONSES = ("NR", "CRi", "CRh", "CR")
NR, CRI, CRH, CR = range(4)
#: a cycle number no course reaches ("never")
NEVER = 1_000


@dataclass
class IndexResult:
    """Per-patient outcome of the index treatment (NA / -1 where not applicable)."""

    n_cycles: IntArray
    end: IntArray
    after: IntArray
    responder: BoolArray
    best: IntArray
    best_date: IntArray
    first_remission: IntArray
    mrd_measured: BoolArray
    mrd_negative_date: IntArray
    early: BoolArray
    responses: dict[str, list[AnyArray]]


def draw_labs(draws: Draws, state: IntArray, owner: IntArray) -> dict[str, FloatArray]:
    """Marrow blasts (%), ANC, platelets, WBC (10⁹/L) and haemoglobin (g/L) for a response.

    Values keep a margin from every threshold of DOMAIN.md 3a (blasts 5 %, ANC 0.5/1.0,
    platelets 50/100), so they classify to ``state`` unambiguously.
    """
    u = [draws.uniform(owner=owner) for _ in range(7)]
    pattern = draws.integers(0, 2, owner=owner)
    remission = state > NR
    blasts = np.where(remission, 0.2 + 3.3 * u[0], 8.0 + 82.0 * u[0])
    anc_full, anc_part, anc_low = 1.3 + 4.7 * u[1], 0.6 + 0.3 * u[1], 0.05 + 0.35 * u[1]
    plt_full, plt_part, plt_low = 120 + 260 * u[2], 60 + 30 * u[2], 5 + 35 * u[2]
    anc = np.select(
        [state == CR, state == CRH, state == CRI],
        [
            anc_full,
            np.where(pattern == 1, anc_full, anc_part),
            np.where(pattern == 0, anc_low, 0.05 + 4.95 * u[3]),
        ],
        0.05 + 2.95 * u[3],
    )
    plt = np.select(
        [state == CR, state == CRH, state == CRI],
        [
            plt_full,
            np.where(pattern == 0, plt_full, plt_part),
            np.where(pattern == 0, 5 + 295 * u[4], plt_low),
        ],
        5 + 195 * u[4],
    )
    wbc = np.where(remission, 2.5 + 6.5 * u[5], np.exp(np.log(8.0) + 2.0 * (u[5] - 0.5)))
    hb = np.where(state == CR, 100 + 50 * u[6], 65 + 55 * u[6])
    return {
        "marrow_blasts": np.round(blasts, 1),
        "anc": np.round(anc, 2),
        "platelets": np.round(plt, 0),
        "wbc": np.round(wbc, 2),
        "hemoglobin": np.round(hb, 0),
    }


def _mrd_cycle(
    draws: Draws,
    ip: IndexDrugParams,
    pts: Patients,
    owner: IntArray,
    n: IntArray,
    resp_cycle: IntArray,
) -> tuple[BoolArray, IntArray]:
    strata = np.where(
        pts.rr[owner],
        np.where(
            pts.in_cr[owner], ip.mrd.negative["RR_consolidation"], ip.mrd.negative["RR_reinduction"]
        ),
        np.where(
            pts.in_cr[owner], ip.mrd.negative["ND_consolidation"], ip.mrd.negative["ND_induction"]
        ),
    )
    measured = draws.bernoulli(ip.mrd.measured, owner=owner)
    negative = draws.bernoulli(strata, owner=owner)
    late = (n >= 3) & draws.bernoulli(ip.mrd.late_if_three_plus, owner=owner)
    late_cycle = draws.integers(3, np.maximum(n, 3), owner=owner)
    early = np.where(draws.bernoulli(ip.mrd.first_cycle, owner=owner) | (n == 1), 1, 2)
    cycle = np.maximum(np.where(late, late_cycle, early), resp_cycle)
    return measured, np.where(negative, cycle, NEVER)


def _plan(
    draws: Draws, ip: IndexDrugParams, pts: Patients, owner: IntArray
) -> tuple[IntArray, BoolArray, IntArray, IntArray, BoolArray]:
    """Cycles, non-response, response cycle and type, early stop of the last cycle."""
    n = draws.choice(ip.cycles, owner=owner) + 1
    k = ip.non_responder_max_cycles
    reach = float(sum(ip.cycles[:k]))
    rr = pts.rr[owner]
    in_cr = pts.in_cr[owner]
    p_resp = np.where(rr, ip.response["RR"], ip.response["ND"])
    p_nr = np.where(in_cr, 0.0, 1.0 - p_resp)
    nr = (n <= k) & draws.bernoulli(np.clip(p_nr / reach, 0, 1), owner=owner)
    split = [ip.response_split[x] for x in ("CRi", "CRh", "CR")]
    kind = draws.choice(split, owner=owner) + 1
    later = draws.integers(2, np.maximum(np.minimum(n, k), 2), owner=owner)
    first = draws.bernoulli(ip.response_first_cycle, owner=owner) | (n == 1)
    resp_cycle = np.where(in_cr, 0, np.where(nr, NEVER, np.where(first, 1, later)))
    kind = np.where(in_cr, CR, kind)
    stop_p = np.where(nr, ip.early_stop["non_responder"], ip.early_stop["responder"])
    early = draws.bernoulli(stop_p, owner=owner)
    return n, nr, resp_cycle, kind, early


def simulate_index(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    params: SynthParams,
    cycles: CycleRows,
) -> IndexResult:
    """Simulate the index treatment of every novel-agent patient.

    Parameters
    ----------
    tl : Timeline
        Receives drug, visit and (for labs) measurement events.
    draws : Draws
        Clinical stream.
    concepts : Concepts
        Concept ids.
    pts : Patients
        Patients with ``index`` dates set.
    params : SynthParams
        Profile parameters.
    cycles : CycleRows
        Receives the ``truth_cycles`` rows.

    Returns
    -------
    IndexResult
    """
    n_all = pts.n
    res = IndexResult(
        n_cycles=np.zeros(n_all, dtype=np.int64),
        end=np.full(n_all, NA, dtype=np.int64),
        after=np.full(n_all, NA, dtype=np.int64),
        responder=np.zeros(n_all, dtype=bool),
        best=np.full(n_all, -1, dtype=np.int64),
        best_date=np.full(n_all, NA, dtype=np.int64),
        first_remission=np.full(n_all, NA, dtype=np.int64),
        mrd_measured=np.zeros(n_all, dtype=bool),
        mrd_negative_date=np.full(n_all, NA, dtype=np.int64),
        early=np.zeros(n_all, dtype=bool),
        responses={},
    )
    for code, key in enumerate(INDEX_DRUGS):
        if key not in params.index_drugs:
            continue
        ip = params.index_drugs[key]
        owner = np.flatnonzero(pts.novel & (pts.drug == code))
        if owner.size == 0:
            continue
        n, nr, resp_cycle, kind, early = _plan(draws, ip, pts, owner)
        measured, mrd_cycle = _mrd_cycle(draws, ip, pts, owner, n, resp_cycle)
        start = pts.index[owner]
        if code == BLIN:
            last_days = np.where(early, draws.integers(2, 27, owner=owner), 28)
            course = blinatumomab_cycles(
                tl,
                draws,
                concepts,
                pts,
                owner,
                start,
                n,
                max_cycles=len(ip.cycles),
                step_first=~pts.in_cr[owner],
                last_days=last_days,
                interruption=ip.interruption,
                delay=ip.cycle_delay,
                truth=cycles,
                is_index=True,
            )
            offsets = [draws.integers(1, 7, owner=owner) for _ in range(len(course.cycle_ends))]
            assess = [e + o for e, o in zip(course.cycle_ends, offsets, strict=True)]
        else:
            extended = (resp_cycle <= 1) & draws.bernoulli(ip.cycle1_extended, owner=owner)
            last_doses = np.where(early, draws.integers(1, 2, owner=owner), 3)
            course = inotuzumab_cycles(
                tl,
                draws,
                concepts,
                pts,
                owner,
                start,
                n,
                max_cycles=len(ip.cycles),
                remission_before=np.where(nr, NEVER, resp_cycle + 1),
                cycle1_days=np.where(extended, 28, 21),
                last_doses=last_doses,
                delay=ip.cycle_delay,
                truth=cycles,
                is_index=True,
            )
            assess = course.cycle_ends
        _assessments(draws, res, owner, code, n, nr, resp_cycle, kind, measured, mrd_cycle, assess)
        res.n_cycles[owner] = n
        res.end[owner] = course.last
        res.after[owner] = np.maximum(course.last, np.max(np.stack(assess), axis=0))
        res.responder[owner] = ~nr
        res.mrd_measured[owner] = measured & ~nr
        res.early[owner] = early
    return res


def _assessments(
    draws: Draws,
    res: IndexResult,
    owner: IntArray,
    code: int,
    n: IntArray,
    nr: BoolArray,
    resp_cycle: IntArray,
    kind: IntArray,
    measured: BoolArray,
    mrd_cycle: IntArray,
    dates: list[IntArray],
) -> None:
    for c, date in enumerate(dates, start=1):
        act = np.flatnonzero(c <= n)
        state = np.where(c >= resp_cycle[act], kind[act], NR)
        state = np.where(nr[act], NR, state)
        o = owner[act]
        labs = draw_labs(draws, state, o)
        neg = c >= mrd_cycle[act]
        zero = draws.bernoulli(0.5, owner=o)
        neg_value = np.where(zero, 0.0, np.round(draws.uniform(0.0005, 0.008, owner=o), 4))
        pos_value = np.round(10 ** draws.uniform(np.log10(0.02), np.log10(5.0), owner=o), 3)
        has_mrd = measured[act] & (state > NR)
        mrd = np.where(has_mrd, np.where(neg, neg_value, pos_value), np.nan)
        d = date[act]
        for k, v in (
            ("owner", o),
            ("drug", np.full(o.size, code)),
            ("cycle", np.full(o.size, c)),
            ("date", d),
            ("response", state),
            ("mrd", mrd),
            *labs.items(),
        ):
            res.responses.setdefault(k, []).append(np.asarray(v))
        first_rem = (state > NR) & (res.first_remission[o] == NA)
        res.first_remission[o] = np.where(first_rem, d, res.first_remission[o])
        better = state > res.best[o]
        res.best_date[o] = np.where(better, d, res.best_date[o])
        res.best[o] = np.maximum(res.best[o], state)
        first_neg = has_mrd & neg & (res.mrd_negative_date[o] == NA)
        res.mrd_negative_date[o] = np.where(first_neg, d, res.mrd_negative_date[o])
