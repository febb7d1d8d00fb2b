"""The study cohort: who enters, when, with attrition; and the event helpers analyses build on.

Public API:

* :func:`build_cohort` (``source, spec, vocab -> Cohort``) and the :class:`Cohort` value object;
* event helpers restricted to a cohort's persons: :func:`drug_events`,
  :func:`condition_events`, :func:`procedure_events`, :func:`measurement_values`,
  :func:`observation_values`, :func:`concept_events`, :func:`death_dates`, and
  :func:`any_records` (whether the CDM holds a record of some sets at all) and
  :func:`recorded_sets` (per set: whether the CDM holds a record of it, the rule of "present
  in the CDM");
* :func:`extract_events`: read every concept set's records once per table and keep them in the
  engine for the helpers above;
* lines of therapy: :func:`assign_lines`, :func:`summarise_lines`;
* day windows relative to the index date: :data:`Window`, :func:`window_bounds`.
"""

from allrwe.cohort.build import build_cohort
from allrwe.cohort.events import (
    concept_events,
    condition_events,
    death_dates,
    drug_events,
    expand_keys,
    measurement_values,
    observation_values,
    procedure_events,
    with_unit_factor,
)
from allrwe.cohort.line_inputs import cohort_line_inputs, line_event_keys, line_inputs, line_roles
from allrwe.cohort.line_summary import LINE_SUMMARY_COLUMNS, line_at, summarise_lines
from allrwe.cohort.lines import LineRoles, assign_lines
from allrwe.cohort.model import (
    ATTRITION_COLUMNS,
    COHORT_COLUMNS,
    Cohort,
    LineRecords,
    followup_end_dates,
    small_table,
)
from allrwe.cohort.presence import any_records, extract_events, recorded_sets
from allrwe.cohort.relapse import (
    POST_HCT_LEVELS,
    RELAPSE_CATEGORIES,
    RELAPSE_SITES,
    cr1_days,
    post_hct_relapse,
    relapse_category,
    relapse_site,
)
from allrwe.cohort.status import Window, window_bounds

__all__ = [
    "ATTRITION_COLUMNS",
    "COHORT_COLUMNS",
    "LINE_SUMMARY_COLUMNS",
    "POST_HCT_LEVELS",
    "RELAPSE_CATEGORIES",
    "RELAPSE_SITES",
    "Cohort",
    "LineRecords",
    "LineRoles",
    "Window",
    "any_records",
    "assign_lines",
    "build_cohort",
    "cohort_line_inputs",
    "concept_events",
    "condition_events",
    "cr1_days",
    "death_dates",
    "drug_events",
    "expand_keys",
    "extract_events",
    "followup_end_dates",
    "line_at",
    "line_event_keys",
    "line_inputs",
    "line_roles",
    "measurement_values",
    "observation_values",
    "post_hct_relapse",
    "procedure_events",
    "recorded_sets",
    "relapse_category",
    "relapse_site",
    "small_table",
    "summarise_lines",
    "window_bounds",
    "with_unit_factor",
]
