"""Outcomes from the CDM: response from labs, MRD, OS/EFS/RFS/DOR, competing risks, summaries.

The run enters them through :func:`analyse_outcomes` (response rates and endpoints, in the
signature family of :mod:`allrwe.analyses.entry`). Step by step::

    cohort = build_cohort(source, spec, vocab)
    inputs = prepare_outcome_inputs(source, vocab, cohort)      # one engine round trip
    response = assess_response(source, vocab, cohort, inputs=inputs)
    rates = response_rates(response, spec, by=[("setting", "treatment_setting")])
    endpoints = compute_endpoints(source, vocab, cohort, inputs=inputs, response=response)
    records = summarise_survival(endpoints, spec, by=["setting"])
    after = after_index_records(endpoints, spec)  # HSCT after index: landmarks, Cox

Definitions, day/month conventions and the "not available" rule: docs/outcomes.md.
"""

from allrwe.analyses.outcomes._inputs import (
    LAB_KEYS,
    STATUS_KEYS,
    OutcomeInputs,
    outcome_inputs_from_frames,
)
from allrwe.analyses.outcomes._read import index_cycles, prepare_outcome_inputs
from allrwe.analyses.outcomes._rows import ENDPOINT_COLUMNS
from allrwe.analyses.outcomes.after_index import (
    after_index_records,
    after_index_sets,
    event_recorded,
    hsct_recorded,
)
from allrwe.analyses.outcomes.endpoints import (
    COMPETING_ENDPOINTS,
    ENDPOINTS,
    KM_ENDPOINTS,
    TREATMENT_FAILURE,
    compute_endpoints,
    endpoints_from_inputs,
)
from allrwe.analyses.outcomes.entry import OutcomesAnalysis, analyse_outcomes
from allrwe.analyses.outcomes.rates import RATE_DEFINITIONS, clopper_pearson, response_rates
from allrwe.analyses.outcomes.response import (
    AVAILABLE,
    NOT_AVAILABLE,
    NOT_EVALUABLE,
    RESPONSE_LEVELS,
    ResponseResult,
    assess_response,
    classify_response,
    response_from_inputs,
)
from allrwe.analyses.outcomes.response_records import response_records
from allrwe.analyses.outcomes.strata import add_strata, age_band_labels, parse_strata
from allrwe.analyses.outcomes.summary import endpoint_label, summarise_survival

__all__ = [
    "AVAILABLE",
    "COMPETING_ENDPOINTS",
    "ENDPOINTS",
    "ENDPOINT_COLUMNS",
    "KM_ENDPOINTS",
    "LAB_KEYS",
    "NOT_AVAILABLE",
    "NOT_EVALUABLE",
    "RATE_DEFINITIONS",
    "RESPONSE_LEVELS",
    "STATUS_KEYS",
    "TREATMENT_FAILURE",
    "OutcomeInputs",
    "OutcomesAnalysis",
    "ResponseResult",
    "add_strata",
    "after_index_records",
    "after_index_sets",
    "age_band_labels",
    "analyse_outcomes",
    "assess_response",
    "classify_response",
    "clopper_pearson",
    "compute_endpoints",
    "endpoint_label",
    "endpoints_from_inputs",
    "event_recorded",
    "hsct_recorded",
    "index_cycles",
    "outcome_inputs_from_frames",
    "parse_strata",
    "prepare_outcome_inputs",
    "response_from_inputs",
    "response_rates",
    "response_records",
    "summarise_survival",
]
