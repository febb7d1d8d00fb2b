"""The whole clinical course of a chunk's ALL patients, from diagnosis to the end of follow-up.

Order of the steps (the order of random draws, so never reorder them): baseline, history,
calendar placement, index treatment, what follows it, deaths of the other patients, adverse
events, labs, end of observation, recording.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from allrwe.synth.aes import AE_CONTEXTS, AdverseEvents, draw_adverse_events
from allrwe.synth.concepts import Concepts
from allrwe.synth.frames import NA, AnyArray, epoch_day
from allrwe.synth.history import History, simulate_history
from allrwe.synth.index import CR, IndexResult, draw_labs, simulate_index
from allrwe.synth.novel import CycleRows
from allrwe.synth.outcomes import (
    NOVEL,
    Outcome,
    simulate_non_novel_outcome,
    simulate_outcome,
)
from allrwe.synth.params import SynthParams
from allrwe.synth.patients import INO, Patients, draw_patients
from allrwe.synth.rng import DOMAIN_CLINICAL, DOMAIN_FINDINGS, RNG_BLOCK, Draws
from allrwe.synth.timeline import Status, Timeline

__all__ = ["ClinicalChunk", "simulate_clinical"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class ClinicalChunk:
    """Everything simulated for a chunk's ALL patients."""

    pts: Patients
    tl: Timeline
    hist: History
    idx: IndexResult
    out: Outcome
    cycles: dict[str, AnyArray]
    aes: dict[str, AnyArray]
    death_recorded: BoolArray


def _place(draws: Draws, pts: Patients, params: SynthParams, hist: History) -> None:
    cal = params.calendar
    index = draws.integers(epoch_day(cal.index_start), epoch_day(cal.index_end))
    any_day = draws.integers(epoch_day(cal.database_start) + 30, epoch_day(cal.data_end) - 30)
    pts.index = np.where(pts.novel, index, NA)
    pts.d0 = np.where(pts.novel, index - hist.end, any_day)


def _lab_events(
    tl: Timeline, draws: Draws, concepts: Concepts, pts: Patients, idx: IndexResult
) -> None:
    lab = concepts.lab
    everyone = np.arange(pts.n)

    def add(key: str, owner: IntArray, date: IntArray, value: FloatArray) -> None:
        cid, unit = lab[key]
        tl.add("measurement", owner=owner, concept=cid, date=date, value=value, unit=unit)

    # at diagnosis: marrow blasts >= 50 % in most patients (seed 001: 78 of 88)
    dx_state = np.zeros(pts.n, dtype=np.int64)
    dx = draw_labs(draws, dx_state, everyone)
    high = draws.bernoulli(0.886)
    blasts = np.where(high, 50 + 45 * draws.uniform(), 20 + 29 * draws.uniform())
    dx["marrow_blasts"] = np.round(blasts, 1).astype(np.float64)
    dx["wbc"] = np.round(np.exp(np.log(15.0) + 1.3 * np.clip(draws.normal(), -2.5, 2.5)), 2)
    for key, values in dx.items():
        add(key, everyone, pts.d0, values)
    add("height", everyone, pts.d0, pts.height)
    add("weight", everyone, pts.d0, pts.weight)
    # baseline before the index drug: in remission or active disease
    novel = np.flatnonzero(pts.novel)
    base_day = pts.index[novel] - draws.integers(1, 5, owner=novel)
    base = draw_labs(draws, np.where(pts.in_cr[novel], CR, 0), novel)
    for key, values in base.items():
        add(key, novel, base_day, values)
    mrd_pos = np.round(10 ** draws.uniform(np.log10(0.02), np.log10(5.0), owner=novel), 3)
    cr = pts.in_cr[novel]
    add("mrd", novel[cr], base_day[cr], mrd_pos[cr])
    add("height", novel, pts.index[novel] - 1, pts.height[novel])
    add("weight", novel, pts.index[novel] - 1, pts.weight[novel])
    # each response assessment
    r = {k: np.concatenate(v) for k, v in idx.responses.items()} if idx.responses else {}
    if r:
        for key in ("marrow_blasts", "anc", "platelets", "wbc", "hemoglobin"):
            add(key, r["owner"], r["date"], r[key])
        has = ~np.isnan(r["mrd"])
        add("mrd", r["owner"][has], r["date"][has], r["mrd"][has])


def _relapse_labs(tl: Timeline, draws: Draws, concepts: Concepts) -> None:
    cond = tl.events("condition")
    if not len(cond):
        return
    sel = np.flatnonzero(cond["status"] == Status.RELAPSE)
    owner = cond["owner"][sel]
    order = np.argsort(owner, kind="stable")
    owner, dates = owner[order], cond["date"][sel][order]
    blasts = np.round(draws.uniform(10.0, 90.0, owner=owner), 1)
    cid, unit = concepts.lab["marrow_blasts"]
    tl.add("measurement", owner=owner, concept=cid, date=dates, value=blasts, unit=unit)


def _status_events(tl: Timeline, pts: Patients, idx: IndexResult) -> None:
    r = {k: np.concatenate(v) for k, v in idx.responses.items()} if idx.responses else {}
    if r:
        first = r["cycle"] == 1
        refractory = first & (r["response"] == 0) & ~idx.responder[r["owner"]]
        tl.add(
            "condition",
            owner=r["owner"][refractory],
            concept=0,
            date=r["date"][refractory],
            status=Status.REFRACTORY,
        )
    rem = np.flatnonzero(pts.novel & ~pts.in_cr & (idx.first_remission != NA))
    tl.add(
        "condition", owner=rem, concept=0, date=idx.first_remission[rem], status=Status.REMISSION
    )


def _adverse_events(
    draws: Draws,
    params: SynthParams,
    concepts: Concepts,
    pts: Patients,
    idx: IndexResult,
    out: Outcome,
    cycles: dict[str, AnyArray],
) -> dict[str, AnyArray]:
    terms = list(concepts.ae)
    aes = AdverseEvents()
    for code, context in enumerate(AE_CONTEXTS[:2]):
        owner = np.flatnonzero(pts.novel & (pts.drug == code))
        draw_adverse_events(
            draws,
            params,
            terms,
            aes,
            context,
            owner,
            pts.index[owner],
            idx.end[owner] - pts.index[owner],
        )
    if cycles:
        later = ~cycles["is_index"].astype(bool)
        for code, context in enumerate(AE_CONTEXTS[:2]):
            sel = later & (cycles["drug"] == code) & (cycles["cycle"] == 1)
            owner = cycles["owner"][sel]
            order = np.argsort(owner, kind="stable")
            owner = owner[order]
            start = cycles["start"][sel][order]
            draw_adverse_events(draws, params, terms, aes, context, owner, start, None)
    for context, date in (("car_t", out.cart_date), ("hsct", out.hsct_date)):
        owner = np.flatnonzero(date != NA)
        ino = (pts.drug[owner] == INO) | (out.first_class[owner] == NOVEL)
        factor = np.where(ino, params.vod_after_inotuzumab_factor, 1.0)
        draw_adverse_events(
            draws, params, terms, aes, context, owner, date[owner], None, vod_factor=factor
        )
    return aes.frame()


def _capture(tl: Timeline, draws: Draws, params: SynthParams) -> None:
    rec = params.recording
    for part in tl.parts["condition"]:
        status = part["status"]
        owner = part["owner"]
        order = np.argsort(owner, kind="stable")
        kept_sorted = draws.bernoulli(rec.disease_status_capture, owner=owner[order])
        kept = np.empty_like(kept_sorted)
        kept[order] = kept_sorted
        disease = np.isin(status, (Status.RELAPSE, Status.REFRACTORY, Status.REMISSION))
        part["recorded"] = np.where(disease, kept, True)


def _diagnosis_facts(tl: Timeline, params: SynthParams, pts: Patients) -> None:
    rec = params.recording
    everyone = np.arange(pts.n)
    b_lineage = ~pts.t_lineage
    if rec.ph_status:
        o = everyone[b_lineage]
        tl.add("condition", owner=o, concept=0, date=pts.d0[o], status=Status.PH)
    if rec.genetics:
        o = everyone[pts.genetics >= 0]
        tl.add("condition", owner=o, concept=0, date=pts.d0[o], status=Status.GENETICS)
    if rec.cns:
        o = everyone[pts.cns]
        tl.add("condition", owner=o, concept=0, date=pts.d0[o], status=Status.CNS)


def _chemo_intolerance(
    tl: Timeline, seed: int, pid: IntArray, params: SynthParams, concepts: Concepts, pts: Patients
) -> None:
    """Record "intolerant of intensive chemotherapy" for a share of the index-treated patients.

    Drawn from its own stream (:data:`DOMAIN_FINDINGS`), so the clinical course is unchanged;
    dated a week before the index date, within the baseline window of a Table 1 row.
    """
    p = params.patients.chemo_intolerance
    if p <= 0 or not concepts.chemo_intolerance:
        return
    draws = Draws(seed, DOMAIN_FINDINGS, (pid - 1) // RNG_BLOCK)
    hit = draws.bernoulli(p) & pts.novel
    o = np.flatnonzero(hit)
    day = np.maximum(pts.index[o] - 7, pts.d0[o])
    tl.add("condition", owner=o, concept=0, date=day, status=Status.CHEMO_INTOLERANCE)


def simulate_clinical(
    seed: int, pid: IntArray, params: SynthParams, concepts: Concepts
) -> ClinicalChunk:
    """Simulate the ALL patients ``pid`` (sorted person ids) of one chunk.

    Parameters
    ----------
    seed : int
        The run's seed.
    pid : numpy.ndarray
        Person ids of the chunk's ALL patients, sorted.
    params : SynthParams
        Profile parameters.
    concepts : Concepts
        Concept ids.

    Returns
    -------
    ClinicalChunk
        Events censored at each patient's end of observation.
    """
    draws = Draws(seed, DOMAIN_CLINICAL, (pid - 1) // RNG_BLOCK)
    pts = draw_patients(draws, pid, params, concepts.all_standard, concepts.t_all_standard)
    hist_tl, hist = simulate_history(draws, pts, params, concepts)
    _place(draws, pts, params, hist)
    hist_tl.shift(pts.d0)
    tl = Timeline()
    tl.extend(hist_tl)
    cyc = CycleRows()
    idx = simulate_index(tl, draws, concepts, pts, params, cyc)
    out = simulate_outcome(tl, draws, concepts, pts, params, idx, hist, cyc)
    simulate_non_novel_outcome(draws, pts, params, hist, concepts, out)
    cycles = cyc.frame() if cyc.cols else {}
    aes = _adverse_events(draws, params, concepts, pts, idx, out, cycles)
    _lab_events(tl, draws, concepts, pts, idx)
    _status_events(tl, pts, idx)
    _relapse_labs(tl, draws, concepts)
    _diagnosis_facts(tl, params, pts)
    _chemo_intolerance(tl, seed, pid, params, concepts, pts)
    cal = params.calendar
    lookback = draws.integers(*params.recording.lookback_days)
    pts.obs_start = np.maximum(epoch_day(cal.database_start), pts.d0 - lookback)
    data_end = epoch_day(cal.data_end)
    died = (out.death != NA) & (out.death <= data_end)
    pts.obs_end = np.where(died, out.death, data_end)
    death_recorded = died & draws.bernoulli(params.recording.death_capture)
    out.death = np.where(died, out.death, NA)
    tl.censor(pts.obs_end)
    _capture(tl, draws, params)
    keep = aes["date"] <= pts.obs_end[aes["owner"]] if aes["owner"].size else np.zeros(0, bool)
    aes = {k: v[keep] for k, v in aes.items()}
    return ClinicalChunk(pts, tl, hist, idx, out, cycles, aes, death_recorded)
