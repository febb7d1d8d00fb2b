"""Baseline characteristics of a chunk's ALL patients, drawn together as arrays.

Every draw is made for every patient in a fixed order, whatever the patient's values (masks pick
what applies), so each block's random stream is consumed identically in every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import special

from allrwe.synth.params import INDEX_DRUGS, AgeModel, SynthParams
from allrwe.synth.rng import Draws

__all__ = ["Patients", "draw_patients", "truncated_normal"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

BLIN = INDEX_DRUGS.index("blinatumomab")
INO = INDEX_DRUGS.index("inotuzumab_ozogamicin")
_EMPTY_I: IntArray = np.zeros(0, dtype=np.int64)


def truncated_normal(draws: Draws, model: AgeModel, owner: IntArray | None = None) -> FloatArray:
    """Draw normal numbers truncated to [min, max] by inverting the CDF (one uniform each)."""
    lo = special.ndtr((model.min - model.mean) / model.sd)
    hi = special.ndtr((model.max - model.mean) / model.sd)
    u = draws.uniform(lo, hi, owner=owner)
    z = special.ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    return np.clip(model.mean + model.sd * z, model.min, model.max)


@dataclass
class Patients:
    """Per-patient arrays of a chunk's ALL patients (index ``i`` is the patient's owner id)."""

    pid: IntArray
    male: BoolArray
    age: FloatArray
    height: FloatArray
    weight: FloatArray
    bsa: FloatArray
    t_lineage: BoolArray
    novel: BoolArray
    drug: IntArray
    ph: BoolArray
    lines: IntArray
    rr: BoolArray
    in_cr: BoolArray
    prephase: BoolArray
    genetics: IntArray
    cns: BoolArray
    hsct_line: IntArray
    cart_line: IntArray
    dx_concept: IntArray
    # filled by the course simulation (absolute dates, days since 1970-01-01; NA if none)
    d0: IntArray = field(default_factory=lambda: _EMPTY_I)
    index: IntArray = field(default_factory=lambda: _EMPTY_I)
    obs_start: IntArray = field(default_factory=lambda: _EMPTY_I)
    obs_end: IntArray = field(default_factory=lambda: _EMPTY_I)

    @property
    def n(self) -> int:
        """Number of patients."""
        return int(self.pid.size)


def _body(draws: Draws, age: FloatArray, male: BoolArray) -> tuple[FloatArray, ...]:
    adult_height = np.where(male, 170.0, 158.0)
    child_height = np.minimum(140.0 + 5.0 * (age - 11.0), adult_height)
    mean_height = np.where(age >= 18, adult_height, child_height)
    height = np.round(mean_height + 6.5 * np.clip(draws.normal(), -3, 3), 1).astype(np.float64)
    bmi_model = AgeModel(mean=22.5, sd=3.5, min=15.0, max=38.0)
    bmi = truncated_normal(draws, bmi_model)
    bmi = np.where(age < 16, bmi * 0.85, bmi)
    weight = np.round(bmi * (height / 100.0) ** 2, 1).astype(np.float64)
    # Mosteller, from the rounded values a reader finds in `measurement`
    bsa = np.round(np.sqrt(height * weight / 3600.0), 2).astype(np.float64)
    return height, weight, bsa


def _lines(draws: Draws, params: SynthParams, novel: BoolArray, drug: IntArray) -> IntArray:
    lines = np.zeros(novel.size, dtype=np.int64)
    for code, key in enumerate(INDEX_DRUGS):
        p = params.index_drugs[key].prior_lines if key in params.index_drugs else [1, 0, 0, 0]
        pick = draws.choice(p)
        lines = np.where(novel & (drug == code), pick, lines)
    four = draws.bernoulli(0.3)
    lines = np.where(novel & (lines == 3) & four, 4, lines)
    non_novel = draws.choice(params.non_novel.lines) + 1
    return np.where(novel, lines, non_novel)


def _index_params(params: SynthParams, name: str, drug: IntArray, default: float) -> FloatArray:
    out = np.full(drug.size, default)
    for code, key in enumerate(INDEX_DRUGS):
        if key in params.index_drugs:
            out = np.where(drug == code, getattr(params.index_drugs[key], name), out)
    return out


def _transplant_lines(
    draws: Draws, params: SynthParams, novel: BoolArray, lines: IntArray
) -> tuple[IntArray, IntArray]:
    h = params.history
    cart = novel & (lines >= 2) & draws.bernoulli(h.prior_cart)
    cart_line = np.where(cart, lines, 0)
    hsct = (lines >= 1) & draws.bernoulli(h.prior_hsct)
    # the transplant goes in an earlier line than a CAR-T line
    top = np.where(cart, lines - 1, lines)
    hsct_line = np.where(hsct & (top >= 1), draws.integers(1, np.maximum(top, 1)), 0)
    return hsct_line, cart_line


def draw_patients(
    draws: Draws, pid: IntArray, params: SynthParams, all_standard: IntArray, t_standard: IntArray
) -> Patients:
    """Draw baseline characteristics for the ALL patients ``pid`` (sorted person ids).

    Parameters
    ----------
    draws : Draws
        The clinical-domain stream of these patients.
    pid : numpy.ndarray
        Person ids, sorted.
    params : SynthParams
        Profile parameters.
    all_standard, t_standard : numpy.ndarray
        Standard B-/unspecified-lineage and T-lineage ALL concepts to draw diagnoses from.

    Returns
    -------
    Patients
    """
    pp = params.patients
    novel = draws.bernoulli(pp.novel_agent_share)
    t_lineage = ~novel & draws.bernoulli(pp.t_lineage_share)
    mix = [pp.index_drug_mix.get(k, 0.0) for k in INDEX_DRUGS]
    drug = np.where(novel, draws.choice(mix), -1)
    male = draws.bernoulli(pp.male_share)
    age = truncated_normal(draws, pp.age)
    height, weight, bsa = _body(draws, age, male)
    lines = _lines(draws, params, novel, drug)
    rr = np.where(novel, lines >= 1, False)
    ph_p = np.where(rr, pp.ph_positive["RR"], pp.ph_positive["ND"])
    ph = draws.bernoulli(ph_p) & ~t_lineage
    p_cr = np.where(
        rr,
        _index_params(params, "rr_in_cr", drug, 0.0),
        _index_params(params, "nd_in_cr", drug, 0.0),
    )
    in_cr = novel & draws.bernoulli(p_cr)
    p_pre = _index_params(params, "nd_prephase", drug, 0.0)
    prephase = novel & ~rr & ~in_cr & draws.bernoulli(p_pre)
    gen_keys = list(pp.genetics)
    gen_p = [pp.genetics[k] for k in gen_keys]
    genetics = (
        draws.choice([*gen_p, max(0.0, 1.0 - sum(gen_p))]) if gen_keys else np.full(pid.size, 0)
    )
    genetics = np.where(genetics >= len(gen_keys), -1, genetics)
    if "ph_like" in gen_keys:
        genetics = np.where(ph & (genetics == gen_keys.index("ph_like")), -1, genetics)
    genetics = np.where(t_lineage, -1, genetics)
    cns = draws.bernoulli(pp.cns_involvement)
    hsct_line, cart_line = _transplant_lines(draws, params, novel, lines)
    b_pick = draws.integers(0, all_standard.size - 1)
    t_pick = draws.integers(0, t_standard.size - 1)
    dx = np.where(t_lineage, t_standard[t_pick], all_standard[b_pick])
    return Patients(
        pid=pid,
        male=male,
        age=age,
        height=height,
        weight=weight,
        bsa=bsa,
        t_lineage=t_lineage,
        novel=novel,
        drug=drug,
        ph=ph,
        lines=lines,
        rr=rr,
        in_cr=in_cr,
        prephase=prephase,
        genetics=genetics,
        cns=cns,
        hsct_line=hsct_line,
        cart_line=cart_line,
        dx_concept=dx,
    )
