"""Therapy patterns: prior and subsequent therapy, destinations, lines, cycles, duration, dose.

Typical use::

    cohort = build_cohort(source, spec, vocab)
    patterns = analyse_therapy(cohort, spec, CdmRows(source, vocab))  # analyses/entry.py
    patterns.prior_therapy  # tidy: group, variable, level, n, denominator, percentage

Every function below :func:`prepare_inputs` works on small pandas frames; the algorithms and their
parameters are described in docs/treatment-patterns.md.
"""

from __future__ import annotations

from allrwe.analyses.therapy._inputs import TherapyInputs, inputs_from_frames, prepare_inputs
from allrwe.analyses.therapy.chemo_course import (
    COURSE_VARIABLE,
    CR_VARIABLE,
    IN_CR,
    course_levels,
    person_courses,
)
from allrwe.analyses.therapy.completion import (
    COMPLETED,
    NO_COMPLETION,
    NOT_COMPLETED,
    index_completion,
)
from allrwe.analyses.therapy.cycles import (
    assign_cycles,
    dose_schedule_cycles,
    infusion_cycles,
    single_cycles,
)
from allrwe.analyses.therapy.destinations import destination_strata, destination_table, sequences
from allrwe.analyses.therapy.dose import (
    DoseInputs,
    bsa,
    dose_adherence,
    dose_records,
    prepare_dose_inputs,
)
from allrwe.analyses.therapy.index import duration_bucket, index_treatments, treatment_duration
from allrwe.analyses.therapy.lines import line_at_index_table, line_regimens, person_lines
from allrwe.analyses.therapy.periods import (
    OTHER_NOVEL_AGENT,
    prior_therapy,
    subsequent_therapy,
    therapy_by_person,
)
from allrwe.analyses.therapy.records import UNRECORDED_CLASS, therapy_records
from allrwe.analyses.therapy.summary import (
    TherapyPatterns,
    analyse_therapy,
    cycle_distribution,
    summarise_therapy,
    summarise_therapy_inputs,
)

__all__ = [
    "COMPLETED",
    "COURSE_VARIABLE",
    "CR_VARIABLE",
    "IN_CR",
    "NOT_COMPLETED",
    "NO_COMPLETION",
    "OTHER_NOVEL_AGENT",
    "UNRECORDED_CLASS",
    "DoseInputs",
    "TherapyInputs",
    "TherapyPatterns",
    "analyse_therapy",
    "assign_cycles",
    "bsa",
    "course_levels",
    "cycle_distribution",
    "destination_strata",
    "destination_table",
    "dose_adherence",
    "dose_records",
    "dose_schedule_cycles",
    "duration_bucket",
    "index_completion",
    "index_treatments",
    "infusion_cycles",
    "inputs_from_frames",
    "line_at_index_table",
    "line_regimens",
    "person_courses",
    "person_lines",
    "prepare_dose_inputs",
    "prepare_inputs",
    "prior_therapy",
    "sequences",
    "single_cycles",
    "subsequent_therapy",
    "summarise_therapy",
    "summarise_therapy_inputs",
    "therapy_by_person",
    "therapy_records",
    "treatment_duration",
]
