"""Dose, body-surface area and adherence to the label dose of the index drugs.

Rules (docs/treatment-patterns.md, "Dose"):

* **amount** of a record: ``quantity`` in the unit of the label dose (µg for blinatumomab, mg
  for inotuzumab; docs/cdm-conventions.md). When the CDM has ``drug_strength`` and the record's
  drug concept has a row for the set's ingredient, ``quantity`` counts units of the product and
  the amount is ``quantity × amount_value`` (or ``× numerator_value`` for liquids), converted
  from the strength's unit (mg or µg) to the label unit.
  A record coded with an HCPCS drug code (``drug_source_value``, e.g. claims) counts billing
  units of that code instead, whatever its standard concept: J9039 "blinatumomab, 1 microgram"
  (amount = ``quantity`` µg) and J9229 "inotuzumab ozogamicin, 0.1 mg" (amount =
  ``quantity × 0.1`` mg; 18 units are 1.8 mg), :data:`HCPCS_UNITS`.
* **daily dose** = amount / days, days = ``days_supply`` when positive, else
  ``end − start + 1``.
* **BSA** from the latest height and weight on or before the record's start date, each no more
  than ``patterns.dose.anthropometry_window_days`` old: Mosteller √(H·W/3600) by default, DuBois
  0.007184·H^0.725·W^0.425 as an option (DOMAIN.md 4d).
* **label** (DOMAIN.md 4a, 4b): blinatumomab at ≥ 45 kg 9 µg/day on days 1–7 of cycle 1 (not in
  the consolidation setting, which has no step dose) and 28 µg/day otherwise; below 45 kg
  5 and 15 µg/m²/day capped at 9 and 28. Inotuzumab 0.8 mg/m² for the first dose of cycle 1,
  0.8 or 0.5 mg/m² for the first dose of later cycles, 0.5 mg/m² for doses 2 and 3.
  A dose adheres when it lies within ±``patterns.dose.tolerance`` (10 %) of a label value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.analyses.therapy._inputs import TherapyInputs, days
from allrwe.analyses.therapy._tables import percent
from allrwe.analyses.therapy.cycles import assign_cycles
from allrwe.analyses.therapy.index import index_treatments
from allrwe.cohort import Cohort, drug_events, measurement_values
from allrwe.errors import AnalysisError
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import DoseSpec, GapCycles

__all__ = [
    "DOSE_COLUMNS",
    "HCPCS_UNITS",
    "DoseInputs",
    "bsa",
    "dose_adherence",
    "dose_records",
    "prepare_dose_inputs",
]

MG, UG = 8576, 9655
_TO_MG = {MG: 1.0, UG: 1e-3, 8504: 1e3}  # mg, µg, g
#: Columns of the per-dose table, in order.
DOSE_COLUMNS = (
    "group",
    "person_id",
    "concept_set",
    "start_date",
    "end_date",
    "cycle",
    "day_in_cycle",
    "dose_in_cycle",
    "amount",
    "unit",
    "daily_dose",
    "weight_kg",
    "height_cm",
    "bsa_m2",
    "dose_per_m2",
    "label_dose",
    "label_basis",
    "within_tolerance",
)
_HEIGHT_TO_CM = {8582: 1.0, 9546: 100.0, 9330: 2.54}  # cm, m, inch
_WEIGHT_TO_KG = {9529: 1.0, 8504: 1e-3, 8739: 0.45359237}  # kg, g, lb

#: Label unit of each index drug's dose.
LABEL_UNITS: dict[str, int] = {"blinatumomab": UG, "inotuzumab_ozogamicin": MG}
#: HCPCS Level II drug codes whose ``quantity`` is billing units: per code, the amount of one
#: unit and its unit (the code descriptors: J9039 "Injection, blinatumomab, 1 microgram",
#: J9229 "Injection, inotuzumab ozogamicin, 0.1 mg")
HCPCS_UNITS: dict[str, tuple[float, int]] = {"J9039": (1.0, UG), "J9229": (0.1, MG)}


def bsa(height_cm: np.ndarray, weight_kg: np.ndarray, formula: str = "mosteller") -> np.ndarray:
    """Return body-surface area in m².

    Parameters
    ----------
    height_cm, weight_kg : numpy.ndarray
        Height in cm and weight in kg (NaN where unknown).
    formula : {"mosteller", "dubois"}
        Mosteller (1987): √(H·W/3600); DuBois & DuBois (1916): 0.007184·H^0.725·W^0.425.

    Examples
    --------
    >>> round(float(bsa(np.array([175.0]), np.array([70.0]))[0]), 3)
    1.845
    """
    h = np.asarray(height_cm, dtype="float64")
    w = np.asarray(weight_kg, dtype="float64")
    if formula == "mosteller":
        return np.sqrt(h * w / 3600.0)
    if formula == "dubois":
        return 0.007184 * h**0.725 * w**0.425
    raise AnalysisError(f"unknown BSA formula {formula!r}: use 'mosteller' or 'dubois'")


@dataclass(frozen=True)
class DoseInputs:
    """Executed records for the dose analysis.

    Attributes
    ----------
    records : pandas.DataFrame
        Index-drug exposures: ``person_id, concept_set, concept_id, start_date, end_date,
        quantity, days_supply``.
    strength : pandas.DataFrame
        ``drug_strength`` rows of the records' drug concepts (may be empty).
    anthropometry : pandas.DataFrame
        ``person_id, concept_set`` (``height``/``weight``), ``start_date, value_as_number,
        unit_concept_id``.
    """

    records: pd.DataFrame
    strength: pd.DataFrame
    anthropometry: pd.DataFrame


def prepare_dose_inputs(
    source: CdmSource, vocab: Vocabulary, cohort: Cohort, *, keys: list[str] | None = None
) -> DoseInputs:
    """Execute the index-drug exposures, their strengths and heights/weights of the cohort."""
    wanted = keys or sorted({k for ks in cohort.spec.index_groups.values() for k in ks})
    drug_keys = [k for k in wanted if any(cs.domain == "drug" for cs in vocab.members(k))]
    if not drug_keys:
        raise AnalysisError(f"no drug-domain concept set among {wanted} for the dose analysis")
    ev = drug_events(source, vocab, cohort, drug_keys)
    records = source.execute(ev)
    strength = pd.DataFrame()
    if source.has("drug_strength") and not records.empty:
        ds = source.table("drug_strength")
        ids = sorted({int(i) for i in records["concept_id"].dropna()})
        strength = source.execute(ds.filter(ds.drug_concept_id.isin(ids)))
    anthro = measurement_values(source, vocab, cohort, ["height", "weight"])
    anthropometry = source.execute(
        anthro.select(
            "person_id", "concept_set", "start_date", "value_as_number", "unit_concept_id"
        )
    )
    return DoseInputs(records=records, strength=strength, anthropometry=anthropometry)


def _amounts(
    records: pd.DataFrame, strength: pd.DataFrame, vocab_ids: dict[str, set[int]]
) -> pd.Series:
    """Return each record's amount in the label unit of its set (NaN when unknown)."""
    qty = pd.to_numeric(records["quantity"], errors="coerce").astype("float64")
    amount = qty.copy()
    if strength is not None and not strength.empty:
        st = strength.copy()
        st["_per_unit"] = st["amount_value"].where(
            st["amount_value"].notna(), st["numerator_value"]
        )
        st["_unit"] = st["amount_unit_concept_id"].where(
            st["amount_value"].notna(), st["numerator_unit_concept_id"]
        )
        rows = records[["concept_set", "concept_id"]].reset_index()
        m = rows.merge(
            st[["drug_concept_id", "ingredient_concept_id", "_per_unit", "_unit"]],
            left_on="concept_id",
            right_on="drug_concept_id",
        )
        ok = [
            int(ing) in vocab_ids.get(cs, set())
            for cs, ing in zip(m["concept_set"], m["ingredient_concept_id"], strict=True)
        ]
        m = m[np.asarray(ok, dtype=bool) & m["_per_unit"].notna()].drop_duplicates("index")
        if not m.empty:
            label = m["concept_set"].map(LABEL_UNITS).fillna(MG)
            to_mg = m["_unit"].map(_TO_MG).astype("float64")
            from_mg = 1.0 / label.map(_TO_MG).astype("float64")
            value = qty.loc[m["index"]].to_numpy() * m["_per_unit"].to_numpy(dtype="float64")
            amount.loc[m["index"]] = value * to_mg.to_numpy() * from_mg.to_numpy()
    return _hcpcs_amounts(records, qty, amount)


def _hcpcs_amounts(records: pd.DataFrame, qty: pd.Series, amount: pd.Series) -> pd.Series:
    """Replace the amount of records coded with an HCPCS unit code (:data:`HCPCS_UNITS`).

    The source code is the record's ``drug_source_value`` (spaces and case ignored); its
    ``quantity`` is billing units of the code, told apart from a mass by the code itself.
    """
    if "drug_source_value" not in records.columns:
        return amount
    code = records["drug_source_value"].astype("string").str.strip().str.upper()
    out = amount.copy()
    for hcpcs, (per_unit, unit) in HCPCS_UNITS.items():
        hit = (code == hcpcs).fillna(False).to_numpy(dtype=bool)
        if not hit.any():
            continue
        label = records.loc[hit, "concept_set"].map(LABEL_UNITS).fillna(MG)
        from_mg = 1.0 / label.map(_TO_MG).astype("float64")
        out.loc[hit] = qty.loc[hit] * per_unit * _TO_MG[unit] * from_mg
    return out


def _latest(
    doses: pd.DataFrame, anthro: pd.DataFrame, key: str, factors: dict[int, float], window: int
) -> np.ndarray:
    """Latest value of ``key`` on or before each dose, converted, at most ``window`` days old."""
    out = np.full(len(doses), np.nan)
    if anthro is None or anthro.empty:
        return out
    a = anthro[anthro["concept_set"] == key]
    if a.empty:
        return out
    factor = a["unit_concept_id"].map(factors).fillna(1.0).astype("float64")
    right = (
        pd.DataFrame(
            {
                "person_id": a["person_id"].to_numpy(dtype="int64"),
                "day": days(a["start_date"]),
                "value": a["value_as_number"].astype("float64").to_numpy() * factor.to_numpy(),
            }
        )
        .dropna()
        .sort_values("day")
    )
    left = (
        pd.DataFrame(
            {
                "person_id": doses["person_id"].to_numpy(dtype="int64"),
                "day": days(doses["start_date"]),
            }
        )
        .reset_index()
        .sort_values("day")
    )
    m = pd.merge_asof(left, right, on="day", by="person_id", direction="backward", tolerance=window)
    out[m["index"].to_numpy()] = m["value"].to_numpy()
    return out


def _expected_blinatumomab(
    d: pd.DataFrame, cfg: DoseSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    step = (d["cycle"] == 1) & (d["day_in_cycle"] <= 7)
    step &= d.get("treatment_setting", pd.Series("", index=d.index)) != "consolidation"
    fixed = np.where(step, 9.0, 28.0)
    per_m2 = np.minimum(np.where(step, 5.0, 15.0) * d["bsa_m2"].to_numpy(), fixed)
    heavy = d["weight_kg"].to_numpy() >= cfg.weight_threshold_kg
    light = d["weight_kg"].to_numpy() < cfg.weight_threshold_kg
    expected = np.where(heavy, fixed, np.where(light, per_m2, np.nan))
    basis = np.where(heavy, "fixed", np.where(light, "per m2", ""))
    observed = d["daily_dose"].to_numpy()
    return expected, np.where(np.isnan(expected), np.nan, observed), basis


def dose_records(
    inputs: TherapyInputs,
    dose_inputs: DoseInputs,
    vocab: Vocabulary,
    *,
    treatments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return one row per index-drug administration of the index treatment, with its dose.

    Returns
    -------
    pandas.DataFrame
        ``group, person_id, concept_set, start_date, end_date, cycle, day_in_cycle,
        dose_in_cycle, amount, unit, daily_dose, weight_kg, height_cm, bsa_m2, dose_per_m2,
        label_dose, label_basis, within_tolerance`` (``<NA>`` when the label dose cannot be
        assessed: other drugs, or no weight/height).
    """
    cfg = inputs.spec.patterns.dose
    tr = index_treatments(inputs) if treatments is None else treatments
    rec = dose_inputs.records.copy()
    if rec.empty:  # no exposure record (or no dose inputs at all): no dose row
        return _empty_doses()
    ids = {k: set(vocab.concept_set(k).concept_ids) for k in rec["concept_set"].unique()}
    rec["amount"] = _amounts(rec, dose_inputs.strength, ids)
    supply = pd.to_numeric(rec["days_supply"], errors="coerce")
    span = days(rec["end_date"]) - days(rec["start_date"]) + 1
    rec["n_days"] = np.where(supply > 0, supply, np.maximum(span, 1))
    parts = []
    for group in inputs.spec.index_groups:
        rows = tr[tr["group"] == group]
        sub = rec[rec["concept_set"].isin(inputs.group_sets[group])]
        sub = sub.merge(rows[["person_id", "index_date", "index_end", "treatment_setting"]])
        start = days(sub["start_date"])
        sub = sub[(start >= days(sub["index_date"])) & (start <= days(sub["index_end"]))]
        for cset, part in sub.groupby("concept_set", sort=True):
            rule = inputs.cycle_rules.get(str(cset), GapCycles())
            part = part.assign(quantity=part["amount"], _daily=part["amount"] / part["n_days"])
            cyc = assign_cycles(part, rule)
            daily = (
                part.groupby(["person_id", "start_date"])["_daily"].sum(min_count=1).reset_index()
            )
            cyc = cyc.merge(daily, on=["person_id", "start_date"], how="left")
            cyc = cyc.merge(rows[["person_id", "treatment_setting"]], on="person_id")
            parts.append(cyc.assign(group=group, concept_set=cset))
    if not parts:
        return _empty_doses()
    d = pd.concat(parts, ignore_index=True).rename(
        columns={"quantity": "amount", "_daily": "daily_dose"}
    )
    d["unit"] = d["concept_set"].map(LABEL_UNITS).map({MG: "mg", UG: "ug"}).fillna("mg")
    window = cfg.anthropometry_window_days
    d["weight_kg"] = _latest(d, dose_inputs.anthropometry, "weight", _WEIGHT_TO_KG, window)
    d["height_cm"] = _latest(d, dose_inputs.anthropometry, "height", _HEIGHT_TO_CM, window)
    d["bsa_m2"] = bsa(d["height_cm"].to_numpy(), d["weight_kg"].to_numpy(), cfg.bsa_formula)
    d["dose_per_m2"] = d["amount"] / d["bsa_m2"]
    return _with_label(d, cfg)


def _with_label(d: pd.DataFrame, cfg: DoseSpec) -> pd.DataFrame:
    label = np.full(len(d), np.nan)
    alt = np.full(len(d), np.nan)
    basis = np.full(len(d), "", dtype=object)
    observed = np.full(len(d), np.nan)
    blin = (d["concept_set"] == "blinatumomab").to_numpy()
    if blin.any():
        exp, obs, bas = _expected_blinatumomab(d[blin], cfg)
        label[blin], observed[blin], basis[blin] = exp, obs, bas
    ino = (d["concept_set"] == "inotuzumab_ozogamicin").to_numpy()
    if ino.any():
        sub = d[ino]
        first = (sub["dose_in_cycle"] == 1).to_numpy()
        label[ino] = np.where(first, 0.8, 0.5)
        alt[ino] = np.where(first & (sub["cycle"] > 1).to_numpy(), 0.5, np.nan)
        observed[ino] = sub["dose_per_m2"].to_numpy()
        basis[ino] = "per m2"
    tol = cfg.tolerance
    with np.errstate(invalid="ignore"):
        ok = np.abs(observed - label) <= tol * label
        ok_alt = np.abs(observed - alt) <= tol * alt
    assessable = ~np.isnan(observed) & ~np.isnan(label)
    within = pd.array(np.where(assessable, ok | ok_alt, False), dtype="boolean")
    within[~assessable] = pd.NA
    d["label_dose"] = label
    d["label_basis"] = basis
    d["within_tolerance"] = within
    cols = list(DOSE_COLUMNS)
    return d[cols].sort_values(["group", "person_id", "start_date"]).reset_index(drop=True)


def _empty_doses() -> pd.DataFrame:
    return pd.DataFrame(columns=list(DOSE_COLUMNS))


def dose_adherence(doses: pd.DataFrame) -> pd.DataFrame:
    """Share of assessable doses within tolerance of the label, per group and drug.

    Returns
    -------
    pandas.DataFrame
        ``group, concept_set, n_doses, n_assessable, n_within, percentage`` (of assessable
        doses), ``n_persons``.
    """
    if doses.empty:
        return pd.DataFrame(
            columns=[
                "group",
                "concept_set",
                "n_doses",
                "n_assessable",
                "n_within",
                "percentage",
                "n_persons",
            ]
        )
    g = doses.assign(
        _assessable=doses["within_tolerance"].notna(),
        _within=doses["within_tolerance"].fillna(False).astype(bool),
    ).groupby(["group", "concept_set"], sort=False)
    out = g.agg(
        n_doses=("person_id", "size"),
        n_assessable=("_assessable", "sum"),
        n_within=("_within", "sum"),
        n_persons=("person_id", "nunique"),
    ).reset_index()
    out["percentage"] = percent(out["n_within"], out["n_assessable"])
    cols = ["group", "concept_set", "n_doses", "n_assessable", "n_within", "percentage"]
    return out[[*cols, "n_persons"]]
