"""Response to the index treatment from marrow, blood-count and MRD measurements.

Definitions (docs/outcomes.md, DOMAIN.md section 3a; thresholds from ``outcomes.response``):

* an **assessment** is a day with a bone-marrow blast measurement after the index date, up to
  ``outcomes.response_assessment_days`` after the last treated day of the index treatment (and
  within follow-up); several blast values on one day count as their maximum;
* ANC and platelets are the records **nearest** to the assessment within
  ``outcomes.lab_window_days`` days (ties: the earlier day, then the lowest value);
* **CR**: blasts ≤ 5 % and ANC > 1.0 and platelets > 100 (10⁹/L); **CRh**: blasts ≤ 5 %,
  ANC > 0.5 and platelets > 50, not CR; **CRi**: blasts ≤ 5 % otherwise (also when a count is
  missing); **NR**: blasts > 5 %. A threshold value itself is not "above" it;
* the **cycle** of an assessment is the last cycle of the index treatment starting on or
  before it (:func:`allrwe.analyses.therapy.assign_cycles` rules);
* **MRD negative**: an MRD value below ``outcomes.mrd_threshold_pct`` (0.01 % = 10⁻⁴) in the same
  assessment period;
* **allogeneic HSCT after index** (``patterns.lines.transplant`` sets): the first record after
  the index date up to the end of follow-up (observation end or ``outcomes.followup_end``);
  it is **before a second cycle** when no second cycle of the index treatment starts on or
  before its day (seed 003: responders after cycle 1 who "underwent allo-HCT"). These are
  descriptive counts among responders, not a comparison of outcomes by transplant (which
  would be immortal-time biased; see :mod:`allrwe.analyses.outcomes.after_index`).

MRD results are "not available" when the CDM holds no MRD record for any person of the
cohort (the ``mrd`` concept set is a local one, docs/cdm-conventions.md), and the transplant
counts when it holds no transplant record at all: never 0 %.

Claims data (no blast records for the cohort): every person gets status ``"not available"``
and no response values; the rates then say "not available", never 0 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes._inputs import OutcomeInputs, day_numbers
from allrwe.analyses.outcomes._read import prepare_outcome_inputs
from allrwe.cohort import Cohort
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import ResponseThresholds, StudySpec

__all__ = [
    "AVAILABLE",
    "NOT_AVAILABLE",
    "NOT_EVALUABLE",
    "RESPONSE_LEVELS",
    "ResponseResult",
    "assess_response",
    "classify_response",
    "response_from_inputs",
]

#: Response categories from the worst to the best.
RESPONSE_LEVELS = ("NR", "CRi", "CRh", "CR")
#: Best response of a person with labs in the CDM but no assessment in the period.
NOT_EVALUABLE = "NE"
#: Status values of the outcome outputs.
AVAILABLE = "available"
NOT_AVAILABLE = "not available"

_RANK = {label: k for k, label in enumerate(RESPONSE_LEVELS)}
_PERSON_KEYS = ["person_id", "group"]


def classify_response(
    blasts: np.ndarray | pd.Series,
    anc: np.ndarray | pd.Series,
    platelets: np.ndarray | pd.Series,
    thresholds: ResponseThresholds | None = None,
) -> np.ndarray:
    """Classify lab triples as ``"CR"``, ``"CRh"``, ``"CRi"`` or ``"NR"``.

    Parameters
    ----------
    blasts : array_like
        Bone-marrow blasts, % of nucleated cells.
    anc, platelets : array_like
        Absolute neutrophil and platelet counts, 10⁹/L; NaN when not measured.
    thresholds : ResponseThresholds, optional
        Default: DOMAIN.md section 3a (5 %, ANC 1.0/0.5, platelets 100/50).

    Returns
    -------
    numpy.ndarray
        One label per triple (object dtype).

    Examples
    --------
    >>> classify_response([5.0, 5.0, 5.0, 5.1], [1.1, 1.0, 0.2, 3.0], [150, 150, 150, 150])
    array(['CR', 'CRh', 'CRi', 'NR'], dtype=object)
    """
    t = ResponseThresholds() if thresholds is None else thresholds
    b = np.asarray(blasts, dtype="float64")
    a = np.asarray(anc, dtype="float64")
    p = np.asarray(platelets, dtype="float64")
    with np.errstate(invalid="ignore"):
        remission = b <= t.marrow_blasts_max_pct
        cr = remission & (a > t.anc_full) & (p > t.platelets_full)
        crh = remission & ~cr & (a > t.anc_partial) & (p > t.platelets_partial)
    labels = np.select([cr, crh, remission], ["CR", "CRh", "CRi"], default="NR")
    return labels.astype(object)


@dataclass(frozen=True)
class ResponseResult:
    """Responses of a cohort.

    Attributes
    ----------
    assessments : pandas.DataFrame
        One row per person, group and assessment day: ``person_id, group, assessment_date,
        days_from_index, cycle, marrow_blasts, anc, anc_date, platelets, platelets_date,
        response``.
    mrd : pandas.DataFrame
        MRD records in the assessment period: ``person_id, group, mrd_date, days_from_index,
        cycle, mrd_value, mrd_negative``.
    persons : pandas.DataFrame
        One row per cohort row (see :func:`response_from_inputs`).
    available : bool
        Whether the CDM holds response labs for the cohort.
    within_cycles : int
        The N of the "within N cycles" columns (``outcomes.response_within_cycles``).
    mrd_available : bool
        Whether the CDM holds an MRD record (any date) for a person of the cohort.
    hsct_available : bool
        Whether the CDM holds an allogeneic HSCT record at all (anyone's).
    """

    assessments: pd.DataFrame
    mrd: pd.DataFrame
    persons: pd.DataFrame
    available: bool
    within_cycles: int
    mrd_available: bool = True
    hsct_available: bool = True


def _periods(inputs: OutcomeInputs) -> pd.DataFrame:
    """Per cohort row: index date and the last day an assessment belongs to the treatment."""
    out = inputs.spec.outcomes
    rows = inputs.cohort.merge(inputs.treatment_end, on=_PERSON_KEYS, how="left")
    idx = day_numbers(rows["index_date"])
    end = day_numbers(rows["index_end"])
    end = np.where(np.isnan(end), idx, end) + out.response_assessment_days
    stop = day_numbers(rows["obs_end"])
    if out.followup_end is not None:
        stop = np.minimum(stop, day_numbers(pd.Series([out.followup_end]))[0])
    return pd.DataFrame(
        {"person_id": rows["person_id"], "group": rows["group"], "index_day": idx,
         "last_day": np.minimum(end, stop)}
    )  # fmt: skip


def _in_period(records: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    rec = records.assign(day=day_numbers(records["date"])).merge(periods, on="person_id")
    return rec[(rec["day"] > rec["index_day"]) & (rec["day"] <= rec["last_day"])]


def _cycle_of(rows: pd.DataFrame, cycles: pd.DataFrame) -> np.ndarray:
    """Last cycle of the row's index treatment starting on or before ``day`` (1 if none)."""
    if rows.empty:
        return np.zeros(0, dtype="int64")
    cyc = cycles.assign(start=day_numbers(cycles["cycle_start"]))[[*_PERSON_KEYS, "cycle", "start"]]
    keyed = rows[[*_PERSON_KEYS, "day"]].reset_index(drop=True).reset_index(names="_row")
    m = keyed.merge(cyc, on=_PERSON_KEYS)
    m = m[m["start"] <= m["day"]]
    last = m.groupby("_row")["cycle"].max()
    return keyed["_row"].map(last).fillna(1).astype("int64").to_numpy()


def _nearest(assess: pd.DataFrame, labs: pd.DataFrame, window: int) -> pd.DataFrame:
    """Value and date of the lab record nearest to each assessment within ``window`` days."""
    keyed = assess[["person_id", "day"]].reset_index(drop=True).reset_index(names="_row")
    lab = labs.assign(lab_day=day_numbers(labs["date"]))[["person_id", "lab_day", "value"]]
    m = keyed.merge(lab, on="person_id")
    m["dist"] = (m["lab_day"] - m["day"]).abs()
    m = m[m["dist"] <= window].sort_values(["_row", "dist", "lab_day", "value"], kind="mergesort")
    first = m.drop_duplicates("_row").set_index("_row")
    return pd.DataFrame(
        {"value": keyed["_row"].map(first["value"]), "day": keyed["_row"].map(first["lab_day"])}
    )


def _to_date(day: pd.Series | np.ndarray) -> pd.Series:
    arr = np.asarray(day, dtype="float64")
    out = pd.Series(pd.NaT, index=range(arr.size), dtype="datetime64[s]")
    ok = ~np.isnan(arr)
    out[ok] = arr[ok].astype("int64").astype("timedelta64[D]") + np.datetime64("1970-01-01")
    return out


def _assessments(inputs: OutcomeInputs, periods: pd.DataFrame) -> pd.DataFrame:
    spec = inputs.spec.outcomes
    labs = inputs.labs
    blasts = _in_period(labs[labs["concept_set"] == "marrow_blasts"], periods)
    a = blasts.groupby([*_PERSON_KEYS, "day", "index_day"], as_index=False).agg(
        marrow_blasts=("value", "max")
    )
    a = a.sort_values([*_PERSON_KEYS, "day"])
    a = a.reset_index(drop=True)
    a["cycle"] = _cycle_of(a, inputs.cycles)
    for key in ("anc", "platelets"):
        near = _nearest(a, labs[labs["concept_set"] == key], spec.lab_window_days)
        a[key] = near["value"].to_numpy(dtype="float64")
        a[f"{key}_date"] = _to_date(near["day"]).to_numpy()
    a["response"] = classify_response(a["marrow_blasts"], a["anc"], a["platelets"], spec.response)
    a["assessment_date"] = _to_date(a["day"]).to_numpy()
    a["days_from_index"] = (a["day"] - a["index_day"]).astype("int64")
    cols = [*_PERSON_KEYS, "assessment_date", "days_from_index", "cycle", "marrow_blasts", "anc",
            "anc_date", "platelets", "platelets_date", "response"]  # fmt: skip
    return a[cols]


def _mrd(inputs: OutcomeInputs, periods: pd.DataFrame) -> pd.DataFrame:
    labs = inputs.labs
    m = _in_period(labs[labs["concept_set"] == "mrd"], periods).reset_index(drop=True)
    m = m.sort_values([*_PERSON_KEYS, "day", "value"], kind="mergesort").reset_index(drop=True)
    m["cycle"] = _cycle_of(m, inputs.cycles)
    return pd.DataFrame(
        {
            "person_id": m["person_id"].astype("int64"),
            "group": m["group"],
            "mrd_date": _to_date(m["day"]).to_numpy(),
            "days_from_index": (m["day"] - m["index_day"]).astype("int64"),
            "cycle": m["cycle"].astype("int64"),
            "mrd_value": m["value"].astype("float64"),
            "mrd_negative": m["value"] < inputs.spec.outcomes.mrd_threshold_pct,
        }
    )


def _hsct_after_index(inputs: OutcomeInputs, periods: pd.DataFrame) -> pd.DataFrame:
    """Per cohort row: the first allo-HSCT after index and whether it precedes a cycle 2.

    Returns ``person_id, group, first_hsct_date, hsct_after_index, hsct_before_second_cycle``
    (one row per cohort row, in cohort order).
    """
    rows = inputs.cohort[_PERSON_KEYS].reset_index(drop=True)
    stop = day_numbers(inputs.cohort["obs_end"])
    if inputs.spec.outcomes.followup_end is not None:
        stop = np.minimum(stop, day_numbers(pd.Series([inputs.spec.outcomes.followup_end]))[0])
    keyed = rows.assign(index_day=periods["index_day"].to_numpy(), stop=stop)
    th = inputs.therapies[inputs.therapies["concept_set"].isin(inputs.transplant_sets)]
    tx = th.assign(day=day_numbers(th["date"]))[["person_id", "day"]]
    m = keyed.reset_index(names="_row").merge(tx, on="person_id")
    m = m[(m["day"] > m["index_day"]) & (m["day"] <= m["stop"])]
    first = m.groupby("_row")["day"].min()
    day = keyed.index.to_series().map(first).to_numpy(dtype="float64")
    cyc = inputs.cycles[inputs.cycles["cycle"] == 2]
    second = rows.merge(
        cyc.assign(second=day_numbers(cyc["cycle_start"]))[[*_PERSON_KEYS, "second"]],
        on=_PERSON_KEYS,
        how="left",
    )["second"].to_numpy(dtype="float64")
    has = ~np.isnan(day)
    return rows.assign(
        first_hsct_date=_to_date(day).to_numpy(),
        hsct_after_index=has,
        hsct_before_second_cycle=has & ~(second <= day),
    )


def _best(a: pd.DataFrame, name: str) -> pd.Series:
    """Best response label per (person_id, group) among rows of ``a``."""
    if a.empty:
        empty = pd.MultiIndex.from_arrays([[], []], names=_PERSON_KEYS)
        return pd.Series(index=empty, dtype="object", name=name)
    rank = a["response"].map(_RANK)
    best = rank.groupby([a["person_id"], a["group"]]).max()
    return best.map(dict(enumerate(RESPONSE_LEVELS))).rename(name)


def _first_date(a: pd.DataFrame, mask: pd.Series, date: str, name: str) -> pd.Series:
    sel = a[mask]
    return sel.groupby(["person_id", "group"])[date].min().rename(name)


def _person_table(
    inputs: OutcomeInputs, a: pd.DataFrame, mrd: pd.DataFrame, n: int
) -> pd.DataFrame:
    base = inputs.cohort.set_index(_PERSON_KEYS)
    rank = a["response"].map(_RANK)
    remission = rank >= _RANK["CRi"]
    best = _best(a, "best_response")
    best_rank = best.map(_RANK)
    at_best = a.join(best_rank.rename("_best"), on=_PERSON_KEYS)
    parts: list[pd.DataFrame | pd.Series] = [
        a.groupby(_PERSON_KEYS).size().rename("n_assessments"),
        best,
        _first_date(a, rank == at_best["_best"], "assessment_date", "best_response_date"),
        _first_date(a, remission, "assessment_date", "first_response_date"),
        _first_date(a, rank == _RANK["CR"], "assessment_date", "first_cr_date"),
        a[remission].groupby(_PERSON_KEYS)["cycle"].min().rename("response_cycle"),
        _best(a[a["cycle"] == 1], "best_response_first_cycle"),
        _best(a[a["cycle"] <= n], "best_response_within_n"),
        mrd.groupby(_PERSON_KEYS).size().rename("n_mrd"),
        _first_date(mrd, mrd["mrd_negative"], "mrd_date", "first_mrd_negative_date"),
        mrd[mrd["mrd_negative"]].groupby(_PERSON_KEYS)["cycle"].min().rename("mrd_negative_cycle"),
    ]
    out = base.join(parts, how="left").reset_index()
    out["n_assessments"] = out["n_assessments"].fillna(0).astype("int64")
    out["n_mrd"] = out["n_mrd"].fillna(0).astype("int64")
    out["best_response"] = out["best_response"].fillna(NOT_EVALUABLE)
    return out


def _flags(out: pd.DataFrame, n: int) -> pd.DataFrame:
    def reached(column: str, levels: tuple[str, ...]) -> pd.Series:
        return out[column].isin(levels)

    out["responder"] = reached("best_response", ("CR", "CRh", "CRi"))
    out["cr"] = reached("best_response", ("CR",))
    out["cr_crh"] = reached("best_response", ("CR", "CRh"))
    out["response_first_cycle"] = reached("best_response_first_cycle", ("CR", "CRh", "CRi"))
    out["response_within_n"] = reached("best_response_within_n", ("CR", "CRh", "CRi"))
    out["cr_within_n"] = reached("best_response_within_n", ("CR",))
    out["cr_crh_within_n"] = reached("best_response_within_n", ("CR", "CRh"))
    out["mrd_evaluable"] = out["n_mrd"] > 0
    out["mrd_negative"] = out["first_mrd_negative_date"].notna()
    out["mrd_negative_within_n"] = (out["mrd_negative_cycle"] <= n).fillna(False).astype(bool)
    return out


_DATE_COLUMNS = ("best_response_date", "first_response_date", "first_cr_date",
                 "first_mrd_negative_date", "first_hsct_date")  # fmt: skip
_FLAG_COLUMNS = ("responder", "cr", "cr_crh", "response_first_cycle", "response_within_n",
                 "cr_within_n", "cr_crh_within_n", "mrd_evaluable", "mrd_negative",
                 "mrd_negative_within_n")  # fmt: skip
_LABEL_COLUMNS = ("best_response", "best_response_first_cycle", "best_response_within_n")


def _not_available(out: pd.DataFrame) -> pd.DataFrame:
    for column in (*_LABEL_COLUMNS, *_FLAG_COLUMNS):
        out[column] = pd.Series([pd.NA] * len(out), dtype="object")
    for column in ("n_assessments", "n_mrd", "response_cycle", "mrd_negative_cycle"):
        out[column] = pd.array([pd.NA] * len(out), dtype="Int64")
    return out


def response_from_inputs(inputs: OutcomeInputs) -> ResponseResult:
    """Assess responses from executed inputs (no database access).

    Parameters
    ----------
    inputs : OutcomeInputs
        :func:`~allrwe.analyses.outcomes.prepare_outcome_inputs` output.

    Returns
    -------
    ResponseResult
        Its ``persons`` frame has the cohort columns plus ``status`` (``"available"`` /
        ``"not available"``), ``n_assessments``, ``best_response`` (``CR``, ``CRh``, ``CRi``,
        ``NR``, or ``NE`` without an assessment), ``best_response_date``,
        ``first_response_date`` (first CR/CRh/CRi), ``first_cr_date``, ``response_cycle``,
        ``best_response_first_cycle``, ``best_response_within_n`` (cycles 1..N), ``n_mrd``,
        ``first_mrd_negative_date``, ``mrd_negative_cycle`` and the flags ``responder``,
        ``cr``, ``cr_crh``, ``response_first_cycle``, ``response_within_n``, ``cr_within_n``,
        ``cr_crh_within_n``, ``mrd_evaluable``, ``mrd_negative``, ``mrd_negative_within_n``;
        and ``first_hsct_date``, ``hsct_after_index``, ``hsct_before_second_cycle`` (the
        module's transplant rule). Without labs every response column is missing (``<NA>``).
    """
    n = inputs.spec.outcomes.response_within_cycles
    periods = _periods(inputs)
    a = _assessments(inputs, periods)
    mrd = _mrd(inputs, periods)
    persons = _person_table(inputs, a, mrd, n)
    hsct = _hsct_after_index(inputs, periods)
    persons = persons.merge(hsct, on=_PERSON_KEYS, how="left", validate="one_to_one")
    for column in _DATE_COLUMNS:
        persons[column] = pd.to_datetime(persons[column]).astype("datetime64[s]")
    persons["response_cycle"] = persons["response_cycle"].astype("Int64")
    persons["mrd_negative_cycle"] = persons["mrd_negative_cycle"].astype("Int64")
    if inputs.labs_available:
        persons = _flags(persons, n)
        persons["status"] = AVAILABLE
    else:
        persons = _not_available(persons)
        persons["status"] = NOT_AVAILABLE
    labs = inputs.labs
    cohort_persons = set(inputs.cohort["person_id"].tolist())
    mrd_rows = labs[labs["concept_set"] == "mrd"]
    mrd_available = bool(mrd_rows["person_id"].isin(cohort_persons).any())
    return ResponseResult(
        a, mrd, persons, inputs.labs_available, n, mrd_available, inputs.transplant_available
    )


def assess_response(
    source: CdmSource,
    vocab: Vocabulary,
    cohort: Cohort,
    spec: StudySpec | None = None,
    *,
    inputs: OutcomeInputs | None = None,
) -> ResponseResult:
    """Classify every marrow assessment and summarise the response of each cohort row.

    Parameters
    ----------
    source : CdmSource
        The CDM the cohort was built on.
    vocab : Vocabulary
        Concept sets in force (``marrow_blasts``, ``anc``, ``platelets``, ``mrd``).
    cohort : Cohort
        The study cohort.
    spec : StudySpec, optional
        Study specification (section ``outcomes``); default the cohort's.
    inputs : OutcomeInputs, optional
        Already executed inputs, to share one round trip with :func:`compute_endpoints`.

    Returns
    -------
    ResponseResult
        Assessments, MRD records and one row per person and group; see
        :func:`response_from_inputs`.
    """
    if inputs is None:
        inputs = prepare_outcome_inputs(source, vocab, cohort, spec)
    return response_from_inputs(inputs)
