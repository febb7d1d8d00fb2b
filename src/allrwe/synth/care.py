"""Add units of care to a timeline: regimen courses, TKI periods, allo-HSCT, CAR-T."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from allrwe.synth.concepts import INPATIENT, OUTPATIENT, Concepts
from allrwe.synth.patients import Patients
from allrwe.synth.regimens import REGIMENS, TKI_DAILY_MG, expand_regimen, periodic
from allrwe.synth.rng import Draws
from allrwe.synth.timeline import KIND_ADMIN, KIND_DISPENSE, Timeline

__all__ = ["TKI_KEYS", "add_cart", "add_hsct", "add_regimen", "add_tki", "add_visit"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: TKIs in the order their codes are used
TKI_KEYS = tuple(TKI_DAILY_MG)
#: days between the end of lymphodepletion and the CAR-T infusion, weights for 2..14
_LD_GAP_WEIGHTS = np.array([6, 6, 5, 4, 3, 2, 2, 1, 1, 1, 1, 1, 1], dtype=np.float64)
HSCT_STAY = (-7, 28)
CART_STAY = (-1, 14)


def add_visit(tl: Timeline, owner: IntArray, start: IntArray, end: IntArray, concept: int) -> None:
    """Add visits (inpatient stays or one-day outpatient visits)."""
    tl.add("visit", owner=owner, concept=concept, start=start, end=end)


def add_regimen(
    tl: Timeline,
    concepts: Concepts,
    pts: Patients,
    key: str,
    owner: IntArray,
    day0: IntArray,
    *,
    visit: bool = True,
) -> None:
    """Add courses of regimen ``key`` starting on ``day0`` (with their hospital stay)."""
    if owner.size == 0:
        return
    reg = REGIMENS[key]
    rows = expand_regimen(
        reg, owner, day0, bsa=pts.bsa[owner], weight=pts.weight[owner], age=pts.age[owner]
    )
    ids = np.array([concepts.drug[k] for k in rows.drug], dtype=np.int64)
    tl.add(
        "drug",
        owner=rows.owner,
        concept=ids[rows.drug_index],
        start=rows.start,
        end=rows.end,
        quantity=rows.quantity,
        days_supply=rows.days_supply,
        kind=np.where(rows.oral, KIND_DISPENSE, KIND_ADMIN),
    )
    if not visit:
        return
    if reg.inpatient_days:
        add_visit(tl, owner, day0, day0 + reg.inpatient_days - 1, INPATIENT)
    else:
        add_visit(tl, owner, day0, day0, OUTPATIENT)


def add_tki(
    tl: Timeline, concepts: Concepts, owner: IntArray, tki: IntArray, start: IntArray, end: IntArray
) -> None:
    """Add 30-day TKI dispensings covering [start, end] (inclusive) for each period."""
    keep = end >= start
    o, s, supply = periodic(owner[keep], start[keep], end[keep], 30)
    drug = np.repeat(tki[keep], -(-(end[keep] - start[keep] + 1) // 30))
    daily = np.array([TKI_DAILY_MG[k] for k in TKI_KEYS])[drug]
    ids = np.array([concepts.drug[k] for k in TKI_KEYS], dtype=np.int64)[drug]
    tl.add(
        "drug",
        owner=o,
        concept=ids,
        start=s,
        end=s + supply - 1,
        quantity=daily * supply,
        days_supply=supply,
        kind=KIND_DISPENSE,
    )
    add_visit(tl, o, s, s, OUTPATIENT)


def add_hsct(
    tl: Timeline, concepts: Concepts, pts: Patients, owner: IntArray, day0: IntArray
) -> None:
    """Add allo-HSCTs on ``day0``: conditioning, the procedure and the transplant stay."""
    add_regimen(tl, concepts, pts, "bumel", owner, day0, visit=False)
    tl.add("procedure", owner=owner, concept=concepts.hsct, date=day0)
    add_visit(tl, owner, day0 + HSCT_STAY[0], day0 + HSCT_STAY[1], INPATIENT)


def add_cart(
    tl: Timeline,
    draws: Draws,
    concepts: Concepts,
    pts: Patients,
    owner: IntArray,
    ld_start: IntArray,
    *,
    product_coded: float,
) -> IntArray:
    """Add CAR-T: lymphodepletion from ``ld_start``, infusion 2-14 days after it ends.

    Returns
    -------
    numpy.ndarray
        The infusion dates.
    """
    gap = draws.choice(_LD_GAP_WEIGHTS, owner=owner) + 2
    coded = draws.bernoulli(product_coded, owner=owner)
    ld_days = max(c.days[-1] for c in REGIMENS["lymphodepletion"].components)
    infusion = ld_start + ld_days + gap
    add_regimen(tl, concepts, pts, "lymphodepletion", owner, ld_start, visit=False)
    tl.add("procedure", owner=owner, concept=concepts.cart, date=infusion)
    product = np.where(
        pts.age[owner] <= 25,
        concepts.drug["tisagenlecleucel"],
        concepts.drug["brexucabtagene_autoleucel"],
    )
    tl.add(
        "drug",
        owner=owner[coded],
        concept=product[coded],
        start=infusion[coded],
        end=infusion[coded],
        quantity=1.0,
        days_supply=1,
        kind=KIND_ADMIN,
    )
    add_visit(tl, owner, infusion + CART_STAY[0], infusion + CART_STAY[1], INPATIENT)
    return infusion
