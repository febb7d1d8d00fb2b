"""The outcome analyses' entry point: response rates and the time-to-event endpoints.

One call in the signature family of :mod:`allrwe.analyses.entry` (the cohort, the resolved
spec, the kept rows; what it builds on as keywords).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from allrwe.analyses.entry import CdmRows
from allrwe.analyses.outcomes._read import prepare_outcome_inputs
from allrwe.analyses.outcomes.endpoints import compute_endpoints
from allrwe.analyses.outcomes.rates import response_rates
from allrwe.analyses.outcomes.response import ResponseResult, assess_response
from allrwe.analyses.outcomes.response_records import response_records
from allrwe.analyses.therapy import TherapyInputs
from allrwe.cohort import Cohort
from allrwe.spec import StudySpec

__all__ = ["OutcomesAnalysis", "analyse_outcomes"]


@dataclass(frozen=True)
class OutcomesAnalysis:
    """What :func:`analyse_outcomes` returns.

    Attributes
    ----------
    records : pandas.DataFrame
        The response-rate records (Clopper–Pearson CIs).
    response : ResponseResult
        Each person's response assessment.
    endpoints : pandas.DataFrame
        The time-to-event endpoints, which the survival summaries read.
    """

    records: pd.DataFrame
    response: ResponseResult
    endpoints: pd.DataFrame


def analyse_outcomes(
    cohort: Cohort,
    spec: StudySpec,
    rows: CdmRows,
    *,
    therapy: TherapyInputs | None = None,
    treatments: pd.DataFrame | None = None,
    by: Sequence[str | Sequence[str]] = (),
    strata: pd.DataFrame | None = None,
) -> OutcomesAnalysis:
    """Response rates and the time-to-event endpoints of the cohort.

    Parameters
    ----------
    cohort, spec, rows
        The cohort, the resolved spec it was built with, the kept rows.
    therapy : TherapyInputs, optional
        The therapy-pattern inputs, reused when given.
    treatments : pandas.DataFrame, optional
        The index treatments of ``therapy``, reused when given.
    by : sequence
        The strata the response rates are split by.
    strata : pandas.DataFrame, optional
        Per-person levels of the variable strata in ``by``.
    """
    inputs = prepare_outcome_inputs(
        rows.source, rows.vocab, cohort, pattern_inputs=therapy, treatments=treatments
    )
    response = assess_response(rows.source, rows.vocab, cohort, inputs=inputs)
    rates = response_rates(response, spec, by=by, strata=strata)
    endpoints = compute_endpoints(rows.source, rows.vocab, cohort, inputs=inputs, response=response)
    return OutcomesAnalysis(response_records(rates), response, endpoints)
