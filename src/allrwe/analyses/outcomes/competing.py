"""Competing-risk endpoints, coded for :func:`allrwe.analyses.survival.cumulative_incidence`.

* **time to HSCT** (all persons, no censoring variant): index → first allogeneic HSCT
  (``patterns.lines.transplant``) after index, cause 1; death without a prior HSCT competes,
  cause 2; 0 = censored at the end of follow-up. An HSCT on the day of death counts as HSCT.
* **time to CAR-T** (all persons, only with ``outcomes.after_index.event: car_t``): the
  same with the first CAR-T (the ``car_t`` concept sets) after index as cause 1.
* **relapse vs non-relapse mortality** (responders): first CR/CRh/CRi → relapse, cause 1
  (cumulative incidence of relapse); death without a prior relapse, cause 2 (non-relapse
  mortality). A relapse on the day of death counts as relapse.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes._inputs import OutcomeInputs
from allrwe.analyses.outcomes._rows import endpoint_frame
from allrwe.analyses.outcomes._timeline import first_after

__all__ = ["relapse_nrm", "time_to_car_t", "time_to_hsct"]


def _two_causes(
    t: pd.DataFrame, first: np.ndarray, death: np.ndarray, labels: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    has_first = ~np.isnan(first)
    has_death = ~np.isnan(death)
    cause1 = has_first & (~has_death | (first <= death))
    cause2 = has_death & ~cause1
    stop = np.where(cause1, first, np.where(cause2, death, t["end_day"].to_numpy()))
    cause = np.where(cause1, 1, np.where(cause2, 2, 0))
    reason = np.where(cause1, labels[0], np.where(cause2, labels[1], t["end_reason"].to_numpy()))
    return stop, cause, reason.astype(object)


def _time_to(
    inputs: OutcomeInputs, t: pd.DataFrame, variant: str, sets: frozenset[str], cause: str
) -> pd.DataFrame:
    idx = t["index_day"].to_numpy()
    th = inputs.therapies[inputs.therapies["concept_set"].isin(sets)]
    first, _ = first_after(t, idx, t["end_day"].to_numpy(), th)
    stop, causes, reason = _two_causes(t, first, t["death_day"].to_numpy(), (cause, "death"))
    return endpoint_frame(t, f"time_to_{cause}", variant, idx, stop, causes, reason)


def time_to_hsct(inputs: OutcomeInputs, t: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Return time-to-HSCT rows of the per-row timeline ``t`` (variant ``"none"``)."""
    return _time_to(inputs, t, variant, inputs.transplant_sets, "hsct")


def time_to_car_t(inputs: OutcomeInputs, t: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Return time-to-CAR-T rows of the per-row timeline ``t`` (variant ``"none"``)."""
    return _time_to(inputs, t, variant, inputs.car_t_sets, "car_t")


def relapse_nrm(inputs: OutcomeInputs, t: pd.DataFrame, variant: str) -> pd.DataFrame:
    """Return relapse vs non-relapse-mortality rows (responders) of the timeline ``t``."""
    r = t[t["response_day"].notna()].reset_index(drop=True)
    start = r["response_day"].to_numpy()
    status = inputs.status
    relapse, _ = first_after(
        r, start, r["end_day"].to_numpy(), status[status["concept_set"] == "relapse"]
    )
    stop, cause, reason = _two_causes(r, relapse, r["death_day"].to_numpy(), ("relapse", "death"))
    return endpoint_frame(r, "relapse_nrm", variant, start, stop, cause, reason)
