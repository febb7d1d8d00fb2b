"""After the index drug: subsequent therapy, relapse and death; the end of every course.

The first and an optional second therapy after the index drug are drawn from the profile's
``subsequent`` tables and placed after the last index assessment, so a patient always lives to
receive them: the share with a subsequent therapy equals the profile's value (up to the data
cut-off). Death is then placed after the last planned therapy: refractory disease, relapse (of
patients in remission) followed by death, or treatment-related death after HSCT or CAR-T.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from allrwe.synth.care import add_cart, add_hsct, add_regimen, add_tki
from allrwe.synth.concepts import CAUSE_TRM, Concepts
from allrwe.synth.frames import NA
from allrwe.synth.history import History
from allrwe.synth.index import NEVER, IndexResult
from allrwe.synth.novel import CycleRows, blinatumomab_cycles, inotuzumab_cycles
from allrwe.synth.params import INDEX_DRUGS, SETTINGS, SUBSEQUENT_CLASSES, SynthParams
from allrwe.synth.patients import BLIN, INO, Patients
from allrwe.synth.rng import Draws
from allrwe.synth.timeline import Status, Timeline

__all__ = ["Outcome", "simulate_non_novel_outcome", "simulate_outcome"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NONE, HSCT, CART, CHEMO, NOVEL = (SUBSEQUENT_CLASSES.index(k) for k in SUBSEQUENT_CLASSES)
_LN2 = np.log(2.0)
_BIG = np.iinfo(np.int64).max // 4


@dataclass
class Outcome:
    """Per-patient events after the index date (NA where none)."""

    first_class: IntArray
    first_date: IntArray
    second_class: IntArray
    hsct_date: IntArray
    cart_date: IntArray
    relapse: IntArray
    death: IntArray
    cause: IntArray


def _first_tables(params: SynthParams) -> tuple[FloatArray, FloatArray]:
    k = len(SUBSEQUENT_CLASSES)
    first = np.zeros((2 * len(INDEX_DRUGS), k))
    second = np.zeros((2 * len(INDEX_DRUGS), k, k))
    first[:, NONE] = 1.0
    second[:, :, NONE] = 1.0
    for code, key in enumerate(INDEX_DRUGS):
        ip = params.index_drugs.get(key)
        if ip is None:
            continue
        for rr, setting in enumerate(SETTINGS):
            sub = ip.subsequent[setting]
            s = 2 * code + rr
            first[s] = [sub.first[c] for c in SUBSEQUENT_CLASSES]
            for after, options in sub.second_after.items():
                row = np.zeros(k)
                for cls, p in options.items():
                    row[SUBSEQUENT_CLASSES.index(cls)] = p
                row[NONE] = 1.0 - row.sum()
                second[s, SUBSEQUENT_CLASSES.index(after)] = row
    return first, second


def _categorical(u: FloatArray, probs: FloatArray) -> IntArray:
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0 + 1e-12
    return np.minimum((u[:, None] >= cum).sum(axis=1), probs.shape[1] - 1).astype(np.int64)


def _survival(params: SynthParams, pts: Patients, owner: IntArray, name: str) -> FloatArray:
    out = np.zeros(owner.size)
    for code, key in enumerate(INDEX_DRUGS):
        ip = params.index_drugs.get(key)
        if ip is None:
            continue
        for rr, setting in enumerate(SETTINGS):
            sel = (pts.drug[owner] == code) & (pts.rr[owner] == bool(rr))
            sv = ip.survival[setting]
            if "." in name:
                group, item = name.split(".")
                value = getattr(sv, group)[item]
            else:
                value = getattr(sv, name)
            out = np.where(sel, value, out)
    return out


@dataclass
class _Step:
    date: IntArray
    end: IntArray


def _chemotherapy(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    owner: IntArray,
    m: BoolArray,
    in_rem: BoolArray,
    start: IntArray,
    stop: IntArray,
) -> IntArray:
    """Consolidation (hyper-CVAD or POMP until ``stop``) in remission, FLAG-IDA/MEC otherwise."""
    consolidate = draws.bernoulli(0.5, owner=owner)
    k = draws.integers(2, 4, owner=owner)
    months = draws.integers(3, 18, owner=owner)
    flag = draws.bernoulli(0.5, owner=owner)
    k_salvage = draws.integers(1, 2, owner=owner)
    t = start.copy()
    hc = m & in_rem & consolidate
    for c in range(4):
        mc = hc & (c < k)
        add_regimen(tl, concepts, pts, "hcvad_a" if c % 2 == 0 else "hcvad_b", owner[mc], t[mc])
        t = np.where(mc, t + 24, t)
    mm = m & in_rem & ~consolidate
    months = np.clip(np.minimum(months, (stop - start) // 28), 1, None)
    for b in range(18):
        mb = mm & (b < months)
        add_regimen(tl, concepts, pts, "pomp", owner[mb], start[mb] + 28 * b)
    t = np.where(mm, start + 28 * months, t)
    ms = m & ~in_rem
    for c in range(2):
        mc = ms & (c < k_salvage)
        for key, sel in (("flag_ida", flag), ("mec", ~flag)):
            add_regimen(tl, concepts, pts, key, owner[mc & sel], t[mc & sel])
        t = np.where(mc, t + 31, t)
    return t


def _other_novel(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    owner: IntArray,
    m: BoolArray,
    in_rem: BoolArray,
    start: IntArray,
    cycles: CycleRows,
) -> IntArray:
    """Give the other novel agent: inotuzumab after blinatumomab, or the reverse."""
    n_ino = draws.integers(1, 3, owner=owner)
    n_blin = draws.integers(1, 2, owner=owner)
    end = start.copy()
    to_blin = m & (pts.drug[owner] == INO)
    sel = np.flatnonzero(to_blin)
    course = blinatumomab_cycles(
        tl,
        draws,
        concepts,
        pts,
        owner[sel],
        start[sel],
        n_blin[sel],
        max_cycles=2,
        step_first=~in_rem[sel],
        last_days=np.full(sel.size, 28),
        interruption=0.0,
        delay=0.3,
        truth=cycles,
        is_index=False,
    )
    end[sel] = course.last
    to_ino = m & (pts.drug[owner] == BLIN)
    sel = np.flatnonzero(to_ino)
    course = inotuzumab_cycles(
        tl,
        draws,
        concepts,
        pts,
        owner[sel],
        start[sel],
        n_ino[sel],
        max_cycles=3,
        remission_before=np.where(in_rem[sel], 1, NEVER),
        cycle1_days=np.full(sel.size, 21),
        last_doses=np.full(sel.size, 3),
        delay=0.3,
        truth=cycles,
        is_index=False,
    )
    end[sel] = course.last
    return end + 14


def _steps(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    params: SynthParams,
    owner: IntArray,
    classes: list[IntArray],
    after: IntArray,
    in_rem: BoolArray,
    stop: IntArray,
    cycles: CycleRows,
) -> tuple[list[_Step], IntArray, BoolArray]:
    prev = after.copy()
    steps = []
    for cls in classes:
        gaps = {
            k: draws.integers(lo, hi, owner=owner)
            for k, (lo, hi) in (
                (HSCT, (30, 90)),
                (CART, (30, 60)),
                (CHEMO, (7, 30)),
                (NOVEL, (7, 45)),
            )
        }
        success_u = draws.uniform(owner=owner)
        date = np.full(owner.size, NA, dtype=np.int64)
        end = prev.copy()
        m = cls == HSCT
        day0 = prev + gaps[HSCT]
        add_hsct(tl, concepts, pts, owner[m], day0[m])
        date = np.where(m, day0, date)
        end = np.where(m, day0 + 28, end)
        m = cls == CART
        infusion = add_cart(
            tl,
            draws,
            concepts,
            pts,
            owner[m],
            (prev + gaps[CART])[m],
            product_coded=params.recording.cart_product_coded,
        )
        date[m] = infusion
        end[m] = infusion + 28
        m = cls == CHEMO
        chemo_end = _chemotherapy(
            tl, draws, concepts, pts, owner, m, in_rem, prev + gaps[CHEMO], stop
        )
        date = np.where(m, prev + gaps[CHEMO], date)
        end = np.where(m, chemo_end, end)
        m = cls == NOVEL
        novel_end = _other_novel(
            tl, draws, concepts, pts, owner, m, in_rem, prev + gaps[NOVEL], cycles
        )
        date = np.where(m, prev + gaps[NOVEL], date)
        end = np.where(m, novel_end, end)
        p_success = np.zeros(owner.size)
        for c, name in (
            (HSCT, "hsct"),
            (CART, "car_t"),
            (CHEMO, "chemotherapy"),
            (NOVEL, "other_novel"),
        ):
            p_success = np.where(
                cls == c, _survival(params, pts, owner, f"salvage_success.{name}"), p_success
            )
        in_rem = in_rem | ((cls != NONE) & (success_u < p_success))
        prev = np.where(cls != NONE, end, prev)
        steps.append(_Step(date, end))
    return steps, prev, in_rem


def simulate_outcome(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    params: SynthParams,
    idx: IndexResult,
    hist: History,
    cycles: CycleRows,
) -> Outcome:
    """Simulate what follows the index treatment for every novel-agent patient.

    Returns
    -------
    Outcome
        Arrays over all patients of the chunk (NA or -1 for patients without an index drug).
    """
    n = pts.n
    owner = np.flatnonzero(pts.novel)
    strata = 2 * pts.drug[owner] + pts.rr[owner].astype(np.int64)
    t1, t2 = _first_tables(params)
    first = _categorical(draws.uniform(owner=owner), t1[strata])
    second = _categorical(draws.uniform(owner=owner), t2[strata, first])
    second = np.where(first == NONE, NONE, second)
    after = idx.after[owner]
    in_rem0 = idx.responder[owner]
    had_hsct = (first == HSCT) | (second == HSCT)
    had_cart = (first == CART) | (second == CART)
    factor = np.where(had_hsct, _survival(params, pts, owner, "hsct_relapse_factor"), 1.0)
    factor *= np.where(had_cart, _survival(params, pts, owner, "cart_relapse_factor"), 1.0)
    p_rel = np.clip(_survival(params, pts, owner, "relapse") * factor, 0, 1)
    rel_t = np.maximum(
        30,
        draws.exponential(_survival(params, pts, owner, "relapse_median_days") / _LN2, owner=owner),
    ).astype(np.int64)
    will_relapse = draws.bernoulli(p_rel, owner=owner)
    # responders' relapse clock starts when the index treatment ends; maintenance stops there
    relapse = np.where(in_rem0 & will_relapse, after + rel_t, _BIG)
    steps, prev, in_rem = _steps(
        tl, draws, concepts, pts, params, owner, [first, second], after, in_rem0, relapse, cycles
    )
    # patients brought into remission by a later therapy relapse from its end
    relapse = np.where(~in_rem0 & in_rem & will_relapse, prev + rel_t, relapse)
    # treatment-related death after a transplant or CAR-T that ends the plan
    last_class = np.where(second != NONE, second, first)
    last_date = np.where(second != NONE, steps[1].date, steps[0].date)
    last_tx = np.where(last_class == HSCT, last_date, NA)
    last_car = np.where(last_class == CART, last_date, NA)
    trm_h = (last_tx != NA) & draws.bernoulli(
        _survival(params, pts, owner, "treatment_related_death.hsct"), owner=owner
    )
    trm_c = (last_car != NA) & draws.bernoulli(
        _survival(params, pts, owner, "treatment_related_death.car_t"), owner=owner
    )
    trm = np.full(owner.size, _BIG)
    trm = np.where(trm_c, last_car + draws.integers(5, 60, owner=owner), trm)
    trm = np.where(trm_h, np.minimum(trm, last_tx + draws.integers(20, 300, owner=owner)), trm)
    relapse = np.where(relapse < trm, relapse, _BIG)
    relapsed = relapse < _BIG
    salvage = relapsed & (first != NONE) & draws.bernoulli(0.5, owner=owner)
    # nothing planned may follow death: a relapse during the plan defers what follows it
    salvage_day = np.maximum(relapse + draws.integers(7, 21, owner=owner), prev + 7)
    flag = draws.bernoulli(0.5, owner=owner)
    for key, sel in (("flag_ida", salvage & flag), ("mec", salvage & ~flag)):
        add_regimen(tl, concepts, pts, key, owner[sel], salvage_day[sel])
    after_relapse = np.where(salvage, salvage_day + 28, np.maximum(relapse, prev))
    dies_rel = relapsed & draws.bernoulli(
        _survival(params, pts, owner, "death_after_relapse"), owner=owner
    )
    rel_death = after_relapse + np.maximum(
        14,
        draws.exponential(
            _survival(params, pts, owner, "death_after_relapse_median_days") / _LN2, owner=owner
        ),
    ).astype(np.int64)
    ref_death = prev + np.maximum(
        7,
        draws.exponential(
            _survival(params, pts, owner, "refractory_death_median_days") / _LN2, owner=owner
        ),
    ).astype(np.int64)
    disease_death = np.where(~in_rem, ref_death, np.where(dies_rel, rel_death, _BIG))
    death = np.minimum(trm, disease_death)
    cause = np.where(trm <= disease_death, CAUSE_TRM, concepts.all_standard[0])
    o = owner[relapsed]
    tl.add("condition", owner=o, concept=0, date=relapse[relapsed], status=Status.RELAPSE)
    # Ph+ patients continue their TKI alongside and after the index drug
    ph = pts.ph[owner] & (hist.tki[owner] >= 0)
    tki_end = np.minimum(after + draws.integers(180, 720, owner=owner), relapse - 1)
    add_tki(tl, concepts, owner[ph], hist.tki[owner][ph], pts.index[owner][ph], tki_end[ph])

    def spread(values: IntArray, fill: int) -> IntArray:
        out = np.full(n, fill, dtype=np.int64)
        out[owner] = values
        return out

    first_date = np.where(first == NONE, NA, steps[0].date)
    hsct = np.where(first == HSCT, steps[0].date, np.where(second == HSCT, steps[1].date, NA))
    cart = np.where(first == CART, steps[0].date, np.where(second == CART, steps[1].date, NA))
    return Outcome(
        first_class=spread(first, -1),
        first_date=spread(first_date, NA),
        second_class=spread(second, -1),
        hsct_date=spread(hsct, NA),
        cart_date=spread(cart, NA),
        relapse=spread(np.where(relapsed, relapse, NA), NA),
        death=spread(np.where(death < _BIG, death, NA), NA),
        cause=spread(np.where(death < _BIG, cause, 0), 0),
    )


def simulate_non_novel_outcome(
    draws: Draws,
    pts: Patients,
    params: SynthParams,
    hist: History,
    concepts: Concepts,
    out: Outcome,
) -> None:
    """Death of ALL patients without a novel agent: after the last relapse unless cured."""
    owner = np.flatnonzero(~pts.novel)
    t = draws.exponential(params.non_novel.death_median_days / _LN2, owner=owner)
    last = hist.last_relapse[owner] + pts.d0[owner]
    dies = ~hist.cured[owner] & (hist.last_relapse[owner] != NA)
    death = np.where(dies, last + np.maximum(14, t).astype(np.int64), NA)
    out.death[owner] = death
    out.cause[owner] = np.where(dies, concepts.all_standard[0], 0)
