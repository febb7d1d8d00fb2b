"""Survival analysis exact to R ``survival`` 3.5: Kaplan–Meier, log-rank, Cox, competing risks.

Pure functions on NumPy arrays returning frozen dataclasses, plus a thin estimator shell.
See ``docs/survival.md`` for the conventions (confidence-interval types, R defaults, the
median rule).
"""

from allrwe.analyses.survival._confint import CONF_TYPES, ConfType
from allrwe.analyses.survival.compare import LogrankResult, logrank
from allrwe.analyses.survival.competing import CumulativeIncidenceResult, cumulative_incidence
from allrwe.analyses.survival.coxph import ChiSquareTest, CoxResult, cox
from allrwe.analyses.survival.estimator import KaplanMeier
from allrwe.analyses.survival.finegray import FineGrayResult, fine_gray
from allrwe.analyses.survival.gray import GrayTestResult, gray_test
from allrwe.analyses.survival.km import (
    KaplanMeierResult,
    QuantileEstimate,
    RmstEstimate,
    kaplan_meier,
    kaplan_meier_by,
    median_followup,
)
from allrwe.analyses.survival.timevarying import landmark, simon_makuch, split_at_switch

#: days per month (365.25 / 12), the convention for converting day counts to months
DAYS_PER_MONTH = 30.4375

__all__ = [
    "CONF_TYPES",
    "DAYS_PER_MONTH",
    "ChiSquareTest",
    "ConfType",
    "CoxResult",
    "CumulativeIncidenceResult",
    "FineGrayResult",
    "GrayTestResult",
    "KaplanMeier",
    "KaplanMeierResult",
    "LogrankResult",
    "QuantileEstimate",
    "RmstEstimate",
    "cox",
    "cumulative_incidence",
    "fine_gray",
    "gray_test",
    "kaplan_meier",
    "kaplan_meier_by",
    "landmark",
    "logrank",
    "median_followup",
    "simon_makuch",
    "split_at_switch",
]
