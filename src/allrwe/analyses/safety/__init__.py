"""Safety: graded adverse events, AEs of special interest, discontinuation, deaths, cycles.

Typical use::

    cohort = build_cohort(source, spec, vocab)
    records = analyse_safety(cohort, spec, CdmRows(source, vocab))  # analyses/entry.py

Windows and definitions are in ``docs/baseline-and-safety.md``; claims data without graded
adverse events get "not available" status records for the graded tables, never zeros.
"""

from allrwe.analyses.safety.events import (
    UNKNOWN_CAUSE,
    cause_labels,
    deaths,
    grades_available,
    term_keys,
    worst_grades,
)
from allrwe.analyses.safety.summary import (
    AE_ANALYSIS,
    AESI_FOLLOWUP_ANALYSIS,
    AESI_TREATMENT_ANALYSIS,
    DEATHS_ANALYSIS,
    DISCONTINUATION_ANALYSIS,
    DLT_ANALYSIS,
    GRADED_ANALYSES,
    analyse_safety,
    summarise_safety,
)
from allrwe.analyses.safety.tables import GradeLevels
from allrwe.analyses.safety.windows import SafetyWindows, cycle_windows, safety_windows

__all__ = [
    "AESI_FOLLOWUP_ANALYSIS",
    "AESI_TREATMENT_ANALYSIS",
    "AE_ANALYSIS",
    "DEATHS_ANALYSIS",
    "DISCONTINUATION_ANALYSIS",
    "DLT_ANALYSIS",
    "GRADED_ANALYSES",
    "UNKNOWN_CAUSE",
    "GradeLevels",
    "SafetyWindows",
    "analyse_safety",
    "cause_labels",
    "cycle_windows",
    "deaths",
    "grades_available",
    "safety_windows",
    "summarise_safety",
    "term_keys",
    "worst_grades",
]
