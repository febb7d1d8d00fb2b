"""Time-to-event endpoints computed from the CDM: OS, EFS, RFS, DOR, time to HSCT, relapse/NRM.

One row per person, group, endpoint and censoring variant (docs/outcomes.md has every
definition). Time is in days, ``end − start`` (an event on the start day has time 0); months are
days / 30.4375. Follow-up ends at the end of the observation period holding the index date, or
at ``outcomes.followup_end`` if earlier; a censoring variant of ``outcomes.censor_variants`` also
ends it at the first of its therapies after index. Events after the end of follow-up do not
count.

* **OS** (all): index → death.
* **EFS** (all): index → relapse, refractory disease or death; no CR/CRh/CRi within
  ``outcomes.efs_no_cr_window_days`` (84) of index (patients not in remission at index) is a
  treatment failure, an event at day 1 in every variant.
* **RFS** (responders): first CR/CRh/CRi → relapse or death.
* **DOR** (responders): first CR/CRh/CRi → relapse, refractory/progressive disease or death.
* **time to HSCT**, **time to CAR-T** (only with ``outcomes.after_index.event: car_t``) and
  **relapse vs non-relapse mortality** are competing-risk endpoints
  (:mod:`allrwe.analyses.outcomes.competing`).

Endpoints that need labs and disease-status records (EFS, RFS, DOR, relapse/NRM) have status
``"not available"`` and no times when the CDM lacks them for the cohort (claims); so has OS
when the CDM has no ``death`` table, and time to HSCT when the CDM holds no record of the
transplant sets at all (for anyone).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes._inputs import OutcomeInputs
from allrwe.analyses.outcomes._read import prepare_outcome_inputs
from allrwe.analyses.outcomes._rows import (
    CARRIED,
    ENDPOINT_COLUMNS,
    censored,
    endpoint_frame,
    first_of,
)
from allrwe.analyses.outcomes._timeline import first_after, timeline
from allrwe.analyses.outcomes.competing import relapse_nrm, time_to_car_t, time_to_hsct
from allrwe.analyses.outcomes.response import (
    NOT_AVAILABLE,
    ResponseResult,
    response_from_inputs,
)
from allrwe.cohort import Cohort
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

__all__ = [
    "COMPETING_ENDPOINTS",
    "ENDPOINTS",
    "ENDPOINT_COLUMNS",
    "KM_ENDPOINTS",
    "compute_endpoints",
    "endpoints_from_inputs",
]

log = logging.getLogger(__name__)

#: Kaplan–Meier endpoints, in output order.
KM_ENDPOINTS = ("os", "efs", "rfs", "dor")
#: Competing-risk endpoints: cause 1 and cause 2 labels.
COMPETING_ENDPOINTS: dict[str, tuple[str, str]] = {
    "time_to_hsct": ("hsct", "death"),
    "time_to_car_t": ("car_t", "death"),
    "relapse_nrm": ("relapse", "death"),
}
ENDPOINTS = (*KM_ENDPOINTS, *COMPETING_ENDPOINTS)

#: Reason of the EFS event of a patient without response in the window.
TREATMENT_FAILURE = "treatment_failure"


def _os(t: pd.DataFrame, variant: str) -> pd.DataFrame:
    death = t["death_day"].to_numpy()
    stop, cause, reason = censored(t, death, np.full(len(t), "death", dtype=object))
    return endpoint_frame(t, "os", variant, t["index_day"].to_numpy(), stop, cause, reason)


def _efs(t: pd.DataFrame, variant: str, window: int) -> pd.DataFrame:
    idx = t["index_day"].to_numpy()
    first = t["base_response_day"].to_numpy()
    in_remission = (t["treatment_setting"] == "consolidation").to_numpy()
    failure = ~in_remission & (np.isnan(first) | (first - idx > window))
    day, label = first_of(
        [t["relapse_day"].to_numpy(), t["refractory_day"].to_numpy(), t["death_day"].to_numpy()],
        ["relapse", "refractory", "death"],
    )
    stop, cause, reason = censored(t, day, label)
    stop = np.where(failure, idx + 1, stop)
    cause = np.where(failure, 1, cause)
    reason = np.where(failure, TREATMENT_FAILURE, reason)
    return endpoint_frame(t, "efs", variant, idx, stop, cause, reason)


def _after_response(
    inputs: OutcomeInputs, t: pd.DataFrame, endpoint: str, variant: str, kinds: tuple[str, ...]
) -> pd.DataFrame:
    r = t[t["response_day"].notna()].reset_index(drop=True)
    start = r["response_day"].to_numpy()
    status = inputs.status
    days = [
        first_after(r, start, r["end_day"].to_numpy(), status[status["concept_set"] == k])[0]
        for k in kinds
    ]
    day, label = first_of([*days, r["death_day"].to_numpy()], [*kinds, "death"])
    stop, cause, reason = censored(r, day, label)
    return endpoint_frame(r, endpoint, variant, start, stop, cause, reason)


def _not_available(inputs: OutcomeInputs, endpoint: str, variant: str) -> pd.DataFrame:
    c = inputs.cohort
    n = len(c)
    out = pd.DataFrame(
        {
            "person_id": c["person_id"].to_numpy(dtype="int64"),
            "group": c["group"].to_numpy(),
            "endpoint": endpoint,
            "censor_variant": variant,
            "status": NOT_AVAILABLE,
            "start_date": pd.Series([pd.NaT] * n, dtype="datetime64[s]"),
            "end_date": pd.Series([pd.NaT] * n, dtype="datetime64[s]"),
            "time_days": pd.array([pd.NA] * n, dtype="Int64"),
            "event": pd.array([pd.NA] * n, dtype="Int64"),
            "cause": pd.array([pd.NA] * n, dtype="Int64"),
            "reason": pd.Series([None] * n, dtype="object"),
        }
    )
    for column in CARRIED:
        out[column] = c[column].to_numpy()
    return out


def _available(inputs: OutcomeInputs, endpoint: str) -> bool:
    if endpoint == "os":
        return inputs.deaths_available
    if endpoint == "time_to_hsct":
        return inputs.transplant_available
    if endpoint == "time_to_car_t":
        return inputs.car_t_available
    return inputs.labs_available and inputs.status_available


def _variant_rows(
    inputs: OutcomeInputs, response: ResponseResult, variant: str
) -> list[pd.DataFrame]:
    t = timeline(inputs, response, variant)
    window = inputs.spec.outcomes.efs_no_cr_window_days
    build = {
        "os": lambda: _os(t, variant),
        "efs": lambda: _efs(t, variant, window),
        "rfs": lambda: _after_response(inputs, t, "rfs", variant, ("relapse",)),
        "dor": lambda: _after_response(inputs, t, "dor", variant, ("relapse", "refractory")),
        "relapse_nrm": lambda: relapse_nrm(inputs, t, variant),
    }
    if variant == "none":
        build["time_to_hsct"] = lambda: time_to_hsct(inputs, t, variant)
        if inputs.car_t_sets:
            build["time_to_car_t"] = lambda: time_to_car_t(inputs, t, variant)
    return [
        make() if _available(inputs, name) else _not_available(inputs, name, variant)
        for name, make in build.items()
    ]


def endpoints_from_inputs(
    inputs: OutcomeInputs, response: ResponseResult | None = None
) -> pd.DataFrame:
    """Compute every endpoint from executed inputs (no database access).

    Parameters
    ----------
    inputs : OutcomeInputs
        :func:`~allrwe.analyses.outcomes.prepare_outcome_inputs` output.
    response : ResponseResult, optional
        Responses of the same inputs; computed when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ENDPOINT_COLUMNS`: ``endpoint`` (one of :data:`ENDPOINTS`),
        ``censor_variant`` (a key of ``outcomes.censor_variants``; time to HSCT only for
        ``"none"``), ``status``, ``start_date``/``end_date``, ``time_days``, ``event`` (1 =
        event, 0 = censored), ``cause`` (0 = censored, 1, 2 = the causes of
        :data:`COMPETING_ENDPOINTS`; equals ``event`` for Kaplan–Meier endpoints) and
        ``reason`` (the event, e.g. ``"death"``, ``"relapse"``, ``"treatment_failure"``, or
        the censoring: ``"observation_end"``, ``"followup_end"`` or the concept-set key of the
        censoring therapy), plus cohort columns for strata.
    """
    response = response_from_inputs(inputs) if response is None else response
    parts: list[pd.DataFrame] = []
    for variant in inputs.spec.outcomes.censor_variants:
        parts.extend(_variant_rows(inputs, response, variant))
    if "none" not in inputs.spec.outcomes.censor_variants:
        parts.extend(p for p in _variant_rows(inputs, response, "none") if _is_time_to(p))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return _not_available(inputs, "os", "none").iloc[0:0][list(ENDPOINT_COLUMNS)]
    out = pd.concat(parts, ignore_index=True)[list(ENDPOINT_COLUMNS)]
    order = {name: k for k, name in enumerate(ENDPOINTS)}
    variants = {name: k for k, name in enumerate(["none", *inputs.spec.outcomes.censor_variants])}
    groups = {name: k for k, name in enumerate(inputs.spec.index_groups)}
    out = out.assign(
        _e=out["endpoint"].map(order),
        _v=out["censor_variant"].map(variants),
        _g=out["group"].map(groups),
    )
    out = out.sort_values(["_e", "_v", "_g", "person_id"], kind="mergesort")
    return out.drop(columns=["_e", "_v", "_g"]).reset_index(drop=True)


def _is_time_to(part: pd.DataFrame) -> bool:
    return bool(len(part)) and part["endpoint"].iloc[0] in ("time_to_hsct", "time_to_car_t")


def compute_endpoints(
    source: CdmSource,
    vocab: Vocabulary,
    cohort: Cohort,
    spec: StudySpec | None = None,
    *,
    inputs: OutcomeInputs | None = None,
    response: ResponseResult | None = None,
) -> pd.DataFrame:
    """Compute OS, EFS, RFS, DOR, time to HSCT and relapse/NRM for a cohort.

    Parameters
    ----------
    source : CdmSource
        The CDM the cohort was built on.
    vocab : Vocabulary
        Concept sets in force.
    cohort : Cohort
        The study cohort.
    spec : StudySpec, optional
        Study specification (section ``outcomes``); default the cohort's.
    inputs : OutcomeInputs, optional
        Already executed inputs (shared with :func:`assess_response`).
    response : ResponseResult, optional
        Already assessed responses.

    Returns
    -------
    pandas.DataFrame
        One row per person, group, endpoint and censoring variant; see
        :func:`endpoints_from_inputs`.
    """
    if inputs is None:
        inputs = prepare_outcome_inputs(source, vocab, cohort, spec)
    return endpoints_from_inputs(inputs, response)
