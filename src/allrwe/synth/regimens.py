"""Multi-agent regimens as data, and their expansion into drug-exposure rows.

Doses follow DOMAIN.md section 1c (hyper-CVAD A/B, FLAG-IDA) and the product labels (CAR-T
lymphodepletion, blinatumomab premedication). Where DOMAIN.md gives no dose (MEC-like salvage,
POMP maintenance, VDLP induction, BuMel conditioning) the doses are common published schedules,
chosen for plausibility; docs/synthetic-data.md lists them as assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

__all__ = ["REGIMENS", "TKI_DAILY_MG", "Component", "Regimen", "expand_regimen", "periodic"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Component:
    """One drug of a regimen.

    Parameters
    ----------
    drug : str
        Concept-set key of the ingredient.
    days : tuple of int
        Day offsets of the administrations (0 = first day of the course; negative before it).
    dose : float
        Dose per administration, per ``basis``.
    basis : {"m2", "kg", "flat"}
        Per m² of BSA, per kg of weight, or a flat dose.
    per_day : int
        Administrations per day (2 for q12h), each its own row.
    oral_days : int
        0 for an IV administration; otherwise one dispensing covering this many days.
    oral_doses : int
        Doses in the dispensing (defaults to ``oral_days``: one a day).
    dose_age60 : float, optional
        Dose for patients aged 60 or more (hyper-CVAD cytarabine).
    """

    drug: str
    days: tuple[int, ...]
    dose: float
    basis: Literal["m2", "kg", "flat"]
    per_day: int = 1
    oral_days: int = 0
    oral_doses: int = 0
    dose_age60: float | None = None


@dataclass(frozen=True)
class Regimen:
    """A course: components plus the inpatient stay it needs (days from the first day)."""

    name: str
    components: tuple[Component, ...]
    inpatient_days: int
    length_days: int


def _c(drug: str, days: tuple[int, ...], dose: float, basis: str, **kw: int | float) -> Component:
    return Component(drug, days, dose, basis, **kw)  # type: ignore[arg-type]


REGIMENS: dict[str, Regimen] = {
    # DOMAIN.md 1c: cyclophosphamide 300 mg/m2 q12h x6 d1-3, vincristine 2 mg d4 and d11,
    # doxorubicin 50 mg/m2 d4, dexamethasone 40 mg d1-4 and d11-14
    "hcvad_a": Regimen(
        "hyper-CVAD course A",
        (
            _c("cyclophosphamide", (0, 1, 2), 300, "m2", per_day=2),
            _c("vincristine", (3, 10), 2, "flat"),
            _c("doxorubicin", (3,), 50, "m2"),
            _c("dexamethasone", (0, 10), 40, "flat", oral_days=4),
        ),
        inpatient_days=7,
        length_days=21,
    ),
    # DOMAIN.md 1c: methotrexate 1 g/m2 d1, cytarabine 3 g/m2 q12h x4 d2-3 (1 g/m2 if >= 60 y)
    "hcvad_b": Regimen(
        "hyper-CVAD course B",
        (
            _c("methotrexate", (0,), 1000, "m2"),
            _c("cytarabine", (1, 2), 3000, "m2", per_day=2, dose_age60=1000),
        ),
        inpatient_days=5,
        length_days=21,
    ),
    # DOMAIN.md 1c: fludarabine 30 mg/m2 d1-4, cytarabine 2 g/m2 d1-4, idarubicin 12 mg/m2 d2-4
    "flag_ida": Regimen(
        "FLAG-IDA",
        (
            _c("fludarabine", (0, 1, 2, 3), 30, "m2"),
            _c("cytarabine", (0, 1, 2, 3), 2000, "m2"),
            _c("idarubicin", (1, 2, 3), 12, "m2"),
        ),
        inpatient_days=28,
        length_days=28,
    ),
    # MEC-like salvage (assumed schedule): mitoxantrone 8, etoposide 100, cytarabine 1000 mg/m2 d1-5
    "mec": Regimen(
        "MEC",
        (
            _c("mitoxantrone", (0, 1, 2, 3, 4), 8, "m2"),
            _c("etoposide", (0, 1, 2, 3, 4), 100, "m2"),
            _c("cytarabine", (0, 1, 2, 3, 4), 1000, "m2"),
        ),
        inpatient_days=28,
        length_days=28,
    ),
    # low-intensity pre-phase (seed 001: 3-7 days): cyclophosphamide 200 mg/m2 d1-3,
    # vincristine 2 mg d1, dexamethasone 10 mg/m2 d1-5
    "prephase": Regimen(
        "low-intensity pre-phase",
        (
            _c("cyclophosphamide", (0, 1, 2), 200, "m2"),
            _c("vincristine", (0,), 2, "flat"),
            _c("dexamethasone", (0,), 10, "m2", oral_days=5),
        ),
        inpatient_days=5,
        length_days=7,
    ),
    # VDLP induction (assumed schedule): vincristine 2 mg d1/8/15/22, daunorubicin 40 mg/m2 d1-3,
    # pegaspargase 2500 IU/m2 d9, prednisone 60 mg/m2 d1-28
    "vdlp": Regimen(
        "VDLP induction",
        (
            _c("vincristine", (0, 7, 14, 21), 2, "flat"),
            _c("daunorubicin", (0, 1, 2), 40, "m2"),
            _c("pegaspargase", (8,), 2500, "m2"),
            _c("prednisone", (0,), 60, "m2", oral_days=28),
        ),
        inpatient_days=21,
        length_days=35,
    ),
    # consolidation after VDLP (assumed): high-dose methotrexate 3 g/m2 d1,
    # mercaptopurine 60 mg/m2 d1-14
    "hdmtx": Regimen(
        "high-dose methotrexate consolidation",
        (
            _c("methotrexate", (0,), 3000, "m2"),
            _c("mercaptopurine", (0,), 60, "m2", oral_days=14),
        ),
        inpatient_days=4,
        length_days=28,
    ),
    # T-ALL salvage: nelarabine 1500 mg/m2 d1, d3, d5
    "nelarabine": Regimen(
        "nelarabine",
        (_c("nelarabine", (0, 2, 4), 1500, "m2"),),
        inpatient_days=7,
        length_days=21,
    ),
    # POMP maintenance month (assumed doses; DOMAIN.md 1c: doses unconfirmed): mercaptopurine
    # 50 mg/m2 daily, methotrexate 20 mg/m2 weekly, vincristine 2 mg d1, prednisone 200 mg d1-5
    "pomp": Regimen(
        "POMP maintenance month",
        (
            _c("mercaptopurine", (0,), 50, "m2", oral_days=28),
            _c("methotrexate", (0,), 20, "m2", oral_days=28, oral_doses=4),
            _c("vincristine", (0,), 2, "flat"),
            _c("prednisone", (0,), 200, "flat", oral_days=5),
        ),
        inpatient_days=0,
        length_days=28,
    ),
    # allo-HSCT conditioning relative to the transplant day (assumed BuMel): busulfan 3.2 mg/kg
    # d-6..-3, melphalan 140 mg/m2 d-2; conditioning agents only, none of the chemotherapy group
    "bumel": Regimen(
        "busulfan-melphalan conditioning",
        (
            _c("busulfan", (-6, -5, -4, -3), 3.2, "kg"),
            _c("melphalan", (-2,), 140, "m2"),
        ),
        inpatient_days=0,
        length_days=0,
    ),
    # CAR-T lymphodepletion (tisagenlecleucel label, DOMAIN.md 4c): fludarabine 30 mg/m2 x4 days
    # + cyclophosphamide 500 mg/m2 x2 days starting with the first fludarabine dose
    "lymphodepletion": Regimen(
        "fludarabine-cyclophosphamide lymphodepletion",
        (
            _c("fludarabine", (0, 1, 2, 3), 30, "m2"),
            _c("cyclophosphamide", (0, 1), 500, "m2"),
        ),
        inpatient_days=0,
        length_days=4,
    ),
}

#: daily TKI doses for Ph+ ALL (DOMAIN.md 1c: imatinib 600, dasatinib 140; others label-typical)
TKI_DAILY_MG = {
    "imatinib": 600.0,
    "dasatinib": 140.0,
    "nilotinib": 800.0,
    "ponatinib": 45.0,
    "bosutinib": 500.0,
}


@dataclass(frozen=True)
class DrugRows:
    """Expanded drug rows: owner index, ingredient key index, dates, amount, oral flag."""

    owner: IntArray
    drug: list[str]
    drug_index: IntArray
    start: IntArray
    end: IntArray
    quantity: FloatArray
    days_supply: IntArray
    oral: npt.NDArray[np.bool_]


def expand_regimen(
    regimen: Regimen,
    owner: IntArray,
    day0: IntArray,
    *,
    bsa: FloatArray,
    weight: FloatArray,
    age: FloatArray,
) -> DrugRows:
    """Expand courses of one regimen into one row per administration or dispensing.

    Parameters
    ----------
    regimen : Regimen
        The template.
    owner : numpy.ndarray
        Patient index of each course.
    day0 : numpy.ndarray
        Date (days since 1970-01-01) of each course's day 0.
    bsa, weight, age : numpy.ndarray
        Per course: body-surface area (m²), weight (kg) and age (years).

    Returns
    -------
    DrugRows
        ``drug`` lists the ingredient keys that ``drug_index`` points into.
    """
    parts: list[tuple[IntArray, int, IntArray, IntArray, FloatArray, IntArray, bool]] = []
    keys = list(dict.fromkeys(c.drug for c in regimen.components))
    for comp in regimen.components:
        offsets = np.repeat(np.asarray(comp.days, dtype=np.int64), comp.per_day)
        k = offsets.size
        idx = np.repeat(np.arange(owner.size), k)
        start = day0[idx] + np.tile(offsets, owner.size)
        basis = {"m2": bsa, "kg": weight, "flat": np.ones_like(bsa)}[comp.basis][idx]
        dose = np.full(idx.size, comp.dose)
        if comp.dose_age60 is not None:
            dose = np.where(age[idx] >= 60, comp.dose_age60, dose)
        per_admin = np.round(dose * basis, 2)
        if comp.oral_days:
            supply = np.full(idx.size, comp.oral_days, dtype=np.int64)
            quantity = per_admin * (comp.oral_doses or comp.oral_days)
        else:
            supply = np.ones(idx.size, dtype=np.int64)
            quantity = per_admin
        parts.append(
            (
                owner[idx],
                keys.index(comp.drug),
                start,
                start + supply - 1,
                quantity,
                supply,
                bool(comp.oral_days),
            )
        )
    return DrugRows(
        owner=np.concatenate([p[0] for p in parts]),
        drug=keys,
        drug_index=np.concatenate([np.full(p[0].size, p[1], dtype=np.int64) for p in parts]),
        start=np.concatenate([p[2] for p in parts]),
        end=np.concatenate([p[3] for p in parts]),
        quantity=np.concatenate([p[4] for p in parts]),
        days_supply=np.concatenate([p[5] for p in parts]),
        oral=np.concatenate([np.full(p[0].size, p[6]) for p in parts]),
    )


def periodic(
    owner: IntArray, start: IntArray, end: IntArray, period: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Split periods [start, end] (inclusive) into consecutive dispensings of ``period`` days.

    Returns
    -------
    owner, start, days_supply : numpy.ndarray
        One row per dispensing; the last one of a period may be shorter.
    """
    length = np.maximum(end - start + 1, 0)
    n = -(-length // period)
    rep = np.repeat(np.arange(owner.size), n)
    first = np.cumsum(n) - n
    k = np.arange(rep.size) - first[rep]
    s = start[rep] + k * period
    supply = np.minimum(period, end[rep] - s + 1)
    return owner[rep], s, supply
