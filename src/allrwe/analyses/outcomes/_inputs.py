"""The inputs of the outcome analyses: executed, small frames in pandas.

:class:`OutcomeInputs` holds, for the cohort's persons only, the labs of the response
criteria, the disease-status records, deaths, the therapies that end or censor follow-up, and
the cycles of the index treatment. :func:`~allrwe.analyses.outcomes._read.prepare_outcome_inputs`
reads them from a CDM in one engine round trip; :func:`outcome_inputs_from_frames` builds the
same object from executed (or hand-made) frames.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from allrwe.errors import VocabularyError
from allrwe.spec import StudySpec

__all__ = [
    "CAR_T_KEYS",
    "LAB_KEYS",
    "STATUS_KEYS",
    "OutcomeInputs",
    "car_t_keys",
    "dates_of",
    "day_numbers",
    "outcome_inputs_from_frames",
]

#: Concept-set keys of the response labs: marrow blasts (%), ANC and platelets (10^9/L), MRD (%).
LAB_KEYS = ("marrow_blasts", "anc", "platelets", "mrd")
#: Concept-set keys of the disease-status events.
STATUS_KEYS = ("relapse", "refractory")

_EPOCH = np.datetime64("1970-01-01", "D")
_EMPTY_TYPES = {"person_id": "int64", "cycle": "int64", "value": "float64", "group": "object"}


def day_numbers(values: pd.Series | np.ndarray) -> np.ndarray:
    """Return dates as float day numbers since 1970-01-01 (NaN where missing)."""
    arr = pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")
    out = (arr - _EPOCH).astype("float64")
    out[np.isnat(arr)] = np.nan
    return out


@dataclass(frozen=True)
class OutcomeInputs:
    """Everything the outcome analyses need, executed and small.

    Attributes
    ----------
    cohort : pandas.DataFrame
        The cohort frame (:attr:`allrwe.cohort.Cohort.frame`).
    spec : StudySpec
        The study specification.
    labs : pandas.DataFrame
        ``person_id, concept_set, date, value`` of :data:`LAB_KEYS` records in the set's unit.
    status : pandas.DataFrame
        ``person_id, concept_set, date`` of :data:`STATUS_KEYS` records.
    deaths : pandas.DataFrame
        ``person_id, death_date``: the earliest death record of each person.
    therapies : pandas.DataFrame
        ``person_id, concept_set, date`` of the transplant and censoring therapies.
    cycles : pandas.DataFrame
        ``person_id, group, cycle, cycle_start, cycle_end`` of the index treatment.
    treatment_end : pandas.DataFrame
        ``person_id, group, index_end``: last treated day of the index treatment.
    labs_available : bool
        Whether the CDM holds marrow-blast records for the cohort (EHR); False for claims.
    status_available : bool
        Whether the CDM holds relapse or refractory records for the cohort.
    deaths_available : bool
        Whether the CDM has a ``death`` table.
    variant_sets : dict of str to frozenset of str
        Concept-set keys of each censoring variant of ``outcomes.censor_variants``.
    transplant_sets : frozenset of str
        Concept-set keys of allogeneic HSCT (``patterns.lines.transplant``).
    transplant_available : bool
        Whether the CDM holds a record of those sets at all (anyone's); without one, time to
        HSCT and the outcomes by HSCT after index are "not available", never 0.
    car_t_sets : frozenset of str
        Concept-set keys of CAR-T (:data:`CAR_T_KEYS` expanded), read only when
        ``outcomes.after_index.event`` is ``car_t`` (empty otherwise).
    car_t_available : bool
        Whether the CDM holds a CAR-T record at all (anyone's): time to CAR-T is "not
        available" without one.
    """

    cohort: pd.DataFrame
    spec: StudySpec
    labs: pd.DataFrame
    status: pd.DataFrame
    deaths: pd.DataFrame
    therapies: pd.DataFrame
    cycles: pd.DataFrame
    treatment_end: pd.DataFrame
    labs_available: bool
    status_available: bool
    deaths_available: bool = True
    variant_sets: Mapping[str, frozenset[str]] = field(default_factory=dict)
    transplant_sets: frozenset[str] = frozenset()
    transplant_available: bool = True
    car_t_sets: frozenset[str] = frozenset()
    car_t_available: bool = False


def dates_of(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    out = frame.copy()
    for column in columns:
        out[column] = pd.to_datetime(out[column]).astype("datetime64[s]")
    return out


def _frame(
    data: pd.DataFrame | None, columns: tuple[str, ...], dates: tuple[str, ...]
) -> pd.DataFrame:
    if data is None or data.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=_EMPTY_TYPES.get(c, "object")) for c in columns})
        return dates_of(empty, dates) if dates else empty
    missing = [c for c in columns if c not in data]
    if missing:
        raise VocabularyError(f"outcome input frame lacks column(s) {missing}")
    out = data[list(columns)].reset_index(drop=True)
    out["person_id"] = out["person_id"].astype("int64")
    return dates_of(out, dates)


#: Concept-set key (a group) of CAR-T, the therapy of ``outcomes.after_index.event: car_t``.
CAR_T_KEYS = ("car_t",)


def car_t_keys(spec: StudySpec) -> list[str]:
    """Return the CAR-T keys when ``outcomes.after_index.event`` has ``car_t``, else none."""
    after = spec.outcomes.after_index
    return list(CAR_T_KEYS) if after is not None and "car_t" in after.events else []


#: An observation period ending this long after the cohort's latest record is open-ended.
OPEN_PERIOD_MARGIN_DAYS = 365


def _close_open_periods(frame: pd.DataFrame, dates: list[pd.Series]) -> pd.DataFrame:
    """Censor open-ended observation periods at the data cut-off.

    Some CDMs mark a period that is still open with a far-future end (9999-12-31). Following
    such persons to that date would invent centuries of follow-up, so an end later than the
    cohort's latest record by more than :data:`OPEN_PERIOD_MARGIN_DAYS` is replaced by that
    latest record date (the cut-off the data themselves show).
    """
    present = [d.dropna() for d in dates if len(d)]
    if frame.empty or not present:
        return frame
    cutoff = max(d.max() for d in present if len(d))
    limit = cutoff + pd.Timedelta(days=OPEN_PERIOD_MARGIN_DAYS)
    open_ended = frame["obs_end"] > limit
    if not open_ended.any():
        return frame
    out = frame.copy()
    out.loc[open_ended, "obs_end"] = cutoff
    return out


def outcome_inputs_from_frames(
    cohort: pd.DataFrame,
    spec: StudySpec,
    *,
    labs: pd.DataFrame | None = None,
    status: pd.DataFrame | None = None,
    deaths: pd.DataFrame | None = None,
    therapies: pd.DataFrame | None = None,
    cycles: pd.DataFrame | None = None,
    treatment_end: pd.DataFrame | None = None,
    variant_sets: Mapping[str, frozenset[str]] | None = None,
    transplant_sets: frozenset[str] | None = None,
    deaths_available: bool = True,
    transplant_available: bool = True,
    car_t_sets: frozenset[str] | None = None,
    car_t_available: bool = True,
) -> OutcomeInputs:
    """Build :class:`OutcomeInputs` from executed frames (no database).

    ``labs`` ``None`` means the data source has no labs (claims) and ``status`` ``None`` that
    it has no disease-status records; empty frames mean "available, but none for the cohort",
    which also makes the analyses report "not available".

    Parameters
    ----------
    cohort : pandas.DataFrame
        Cohort rows (:data:`allrwe.cohort.COHORT_COLUMNS`).
    spec : StudySpec
        The study specification.
    labs, status, deaths, therapies, cycles, treatment_end : pandas.DataFrame, optional
        As the attributes of :class:`OutcomeInputs`. Without ``treatment_end`` the index
        treatment ends with its last cycle (or on the index date).
    variant_sets : mapping, optional
        Concept-set keys of each censoring variant; default the variant's keys as given.
    transplant_sets : frozenset of str, optional
        Concept-set keys of allogeneic HSCT; default ``patterns.lines.transplant``.
    deaths_available : bool, default True
        Whether the data source records deaths at all.
    transplant_available : bool, default True
        Whether the data source records allogeneic HSCT at all.
    car_t_sets : frozenset of str, optional
        Concept-set keys of CAR-T; default :data:`CAR_T_KEYS` as given when
        ``outcomes.after_index.event`` is ``car_t``, else none.
    car_t_available : bool, default True
        Whether the data source records CAR-T at all (read with ``car_t_sets`` only).

    Returns
    -------
    OutcomeInputs
    """
    frame = dates_of(cohort.reset_index(drop=True), ("index_date", "obs_start", "obs_end"))
    cyc = _frame(cycles, ("person_id", "group", "cycle", "cycle_start", "cycle_end"),
                 ("cycle_start", "cycle_end"))  # fmt: skip
    if treatment_end is None or treatment_end.empty:
        last = cyc.groupby(["person_id", "group"], as_index=False)["cycle_end"].max()
        ends = frame[["person_id", "group", "index_date"]].merge(
            last, on=["person_id", "group"], how="left"
        )
        ends["index_end"] = ends["cycle_end"].fillna(ends["index_date"])
        treatment_end = ends[["person_id", "group", "index_end"]]
    lab_frame = _frame(labs, ("person_id", "concept_set", "date", "value"), ("date",))
    status_frame = _frame(status, ("person_id", "concept_set", "date"), ("date",))
    persons = set(frame["person_id"].tolist())
    blasts = lab_frame[lab_frame["concept_set"] == "marrow_blasts"]
    labs_ok = labs is not None and bool(blasts["person_id"].isin(persons).any())
    status_ok = status is not None and bool(status_frame["person_id"].isin(persons).any())
    variants = spec.outcomes.censor_variants
    frame = _close_open_periods(
        frame,
        [
            frame["index_date"],
            lab_frame["date"],
            status_frame["date"],
            cyc["cycle_end"],
            pd.to_datetime(treatment_end["index_end"]),
        ]
        + ([pd.to_datetime(deaths["death_date"])] if deaths is not None and len(deaths) else [])
        + ([pd.to_datetime(therapies["date"])] if therapies is not None and len(therapies) else []),
    )
    return OutcomeInputs(
        cohort=frame,
        spec=spec,
        labs=lab_frame.astype({"value": "float64"}),
        status=status_frame,
        deaths=_frame(deaths, ("person_id", "death_date"), ("death_date",)),
        therapies=_frame(therapies, ("person_id", "concept_set", "date"), ("date",)),
        cycles=cyc,
        treatment_end=_frame(treatment_end, ("person_id", "group", "index_end"), ("index_end",)),
        labs_available=labs_ok,
        status_available=status_ok,
        deaths_available=deaths_available,
        variant_sets=dict(variant_sets)
        if variant_sets is not None
        else {v: frozenset(k) for v, k in variants.items()},
        transplant_sets=transplant_sets
        if transplant_sets is not None
        else frozenset(spec.patterns.lines.transplant),
        transplant_available=transplant_available,
        car_t_sets=car_t_sets if car_t_sets is not None else frozenset(car_t_keys(spec)),
        car_t_available=car_t_available and bool(car_t_keys(spec)),
    )
