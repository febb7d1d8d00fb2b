"""Baseline characteristics (Table 1): variables, statistics and standardised differences.

Typical use::

    cohort = build_cohort(source, spec, vocab)
    records = analyse_baseline(cohort, spec, CdmRows(source, vocab))  # analyses/entry.py
    table_one(records)  # one column per group, Overall and the SMDs

Variables are named in ``baseline.variables`` (registry :data:`BASELINE_VARIABLES`); every
variable, window and formula is described in ``docs/baseline-and-safety.md``.
"""

from allrwe.analyses.baseline.demographics import age_band_labels
from allrwe.analyses.baseline.display import RANGE_LABEL, table_one
from allrwe.analyses.baseline.records import NOT_AVAILABLE, OVERALL, PERSONS, RECORD_COLUMNS
from allrwe.analyses.baseline.registry import (
    BASELINE_VARIABLES,
    register_variable,
    resolve_variables,
)
from allrwe.analyses.baseline.statistics import (
    ContinuousSummary,
    kth_range,
    proportions,
    smd_binary,
    smd_categorical,
    smd_continuous,
    summarise_continuous,
)
from allrwe.analyses.baseline.table import ANALYSIS, analyse_baseline, summarise_baseline
from allrwe.analyses.baseline.units import (
    STRATUM_VARIABLES,
    UnitValues,
    build_variables,
    collect_values,
    first_entries,
)
from allrwe.analyses.baseline.variables import (
    VARIABLE_LABELS,
    BaselineContext,
    BaselineVariable,
    VariableBuilder,
)

__all__ = [
    "ANALYSIS",
    "BASELINE_VARIABLES",
    "NOT_AVAILABLE",
    "OVERALL",
    "PERSONS",
    "RANGE_LABEL",
    "RECORD_COLUMNS",
    "STRATUM_VARIABLES",
    "VARIABLE_LABELS",
    "BaselineContext",
    "BaselineVariable",
    "ContinuousSummary",
    "UnitValues",
    "VariableBuilder",
    "age_band_labels",
    "analyse_baseline",
    "build_variables",
    "collect_values",
    "first_entries",
    "kth_range",
    "proportions",
    "register_variable",
    "resolve_variables",
    "smd_binary",
    "smd_categorical",
    "smd_continuous",
    "summarise_baseline",
    "summarise_continuous",
    "table_one",
]
