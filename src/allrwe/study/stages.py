"""The analysis stages of a run, one function each, every one ending in result records.

Each stage function takes the :class:`StudyContext` and returns records (or a status record
when the data cannot support the analysis). They are the only places that call the analyses,
so a change in an analysis's interface touches one function here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allrwe.analyses.baseline import (
    STRATUM_VARIABLES,
    BaselineContext,
    build_variables,
    collect_values,
    summarise_baseline,
)
from allrwe.analyses.outcomes import (
    after_index_records,
    assess_response,
    compute_endpoints,
    prepare_outcome_inputs,
    response_rates,
    response_records,
    summarise_survival,
)
from allrwe.analyses.pathways import PathwayResult
from allrwe.analyses.patterns import (
    PatternInputs,
    TreatmentPatterns,
    prepare_dose_inputs,
    prepare_inputs,
    summarise_patterns,
)
from allrwe.analyses.safety import summarise_safety
from allrwe.cohort import Cohort
from allrwe.errors import AnalysisError, CdmSchemaError
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec
from allrwe.study.adapters import (
    as_records,
    concat_records,
    empty_records,
    pattern_records,
    status_records,
)
from allrwe.study.pathways import compute_group_pathways, pathway_records, pathway_strata

__all__ = [
    "OUTCOME_STRATA",
    "VARIABLE_STRATA",
    "StudyContext",
    "after_index_stage",
    "baseline_stage",
    "outcomes_stage",
    "pathways_stage",
    "patterns_stage",
    "safety_stage",
    "survival_stage",
]

logger = logging.getLogger(__name__)

#: strata the outcome summaries derive from the cohort itself
OUTCOME_STRATA = ("setting", "treatment_setting", "line", "sex", "age_band")

#: strata read per person from the CDM with the rule of their baseline variable
VARIABLE_STRATA = (
    "ph_status",
    "prior_hsct",
    "relapse_category",
    "post_hct_relapse",
    "relapse_site",
    "gvhd_at_index",
)


@dataclass
class StudyContext:
    """What the stages share: the CDM, the spec, the cohort and intermediate results."""

    source: CdmSource
    spec: StudySpec
    vocab: Vocabulary
    cohort: Cohort
    pattern_inputs: PatternInputs | None = None
    patterns: TreatmentPatterns | None = None
    pathways: dict[str, PathwayResult | None] = field(default_factory=dict)
    endpoints: pd.DataFrame | None = None
    strata_frame: pd.DataFrame | None = None
    patient_level: dict[str, pd.DataFrame] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def min_cell_count(self) -> int:
        """int: the threshold below which counts are hidden, from the spec (1: policy none)."""
        return self.spec.hides_below

    @property
    def groups(self) -> list[str]:
        """The index groups, in spec order."""
        return list(self.spec.index_groups)


def guarded(analysis: str, ctx: StudyContext, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """Run ``compute``; a CDM lacking what it needs gives a "not available" status instead.

    Only a missing table or column, or an analysis refusing its input, is turned into a
    status; any other exception is a bug and propagates.
    """
    try:
        return as_records(compute())
    except CdmSchemaError as exc:
        reason = str(exc)
    except AnalysisError as exc:
        logger.warning("%s: %s", analysis, exc)
        reason = "the analysis cannot run on this CDM (see the log of the run)"
    logger.info("%s not available: %s", analysis, reason)
    ctx.unavailable[analysis] = reason
    return status_records(analysis, ctx.groups, reason)


def patterns_stage(ctx: StudyContext) -> pd.DataFrame:
    """Treatment patterns: prior/subsequent therapy, sequences, cycles, duration, lines, dose."""

    def compute() -> pd.DataFrame:
        inputs = prepare_inputs(ctx.source, ctx.vocab, ctx.cohort)
        dose = prepare_dose_inputs(ctx.source, ctx.vocab, ctx.cohort)
        ctx.pattern_inputs = inputs
        ctx.patterns = summarise_patterns(inputs, dose, ctx.vocab)
        ctx.patient_level["index_treatments"] = ctx.patterns.index_treatments
        return pattern_records(ctx.patterns, min_cell_count=ctx.min_cell_count)

    return guarded("patterns", ctx, compute)


def pathways_stage(ctx: StudyContext) -> pd.DataFrame:
    """Treatment pathways (TreatmentPatterns semantics) from the pattern inputs."""
    if ctx.pattern_inputs is None:
        return status_records("pathways", ctx.groups, "treatment patterns are not available")

    def compute() -> pd.DataFrame:
        assert ctx.pattern_inputs is not None
        ctx.pathways = compute_group_pathways(ctx.pattern_inputs)
        patients = [r.patients.assign(group=g) for g, r in ctx.pathways.items() if r is not None]
        if patients:
            ctx.patient_level["pathways"] = pd.concat(patients, ignore_index=True)
        strata = pathway_strata(ctx.pattern_inputs.cohort, ctx.spec)
        return pathway_records(ctx.pathways, min_cell_count=ctx.min_cell_count, strata=strata)

    return guarded("pathways", ctx, compute)


def outcome_strata(spec: StudySpec) -> list[str | tuple[str, ...]]:
    """Return the strata the outcome summaries split by (``group`` is implicit).

    The spec's ``strata`` one by one, then each of its ``crossed_strata`` whose every part
    the outcome summaries know (crossed as ``"setting &&& treatment_setting"``).
    """
    known = (*OUTCOME_STRATA, *VARIABLE_STRATA)
    single: list[str | tuple[str, ...]] = [s for s in dict.fromkeys(spec.strata) if s in known]
    crossed = [tuple(c) for c in spec.crossed_strata if all(s in known for s in c)]
    return single + list(dict.fromkeys(crossed))


def _wanted_variable_strata(spec: StudySpec) -> list[str]:
    names = [*spec.strata, *(s for c in spec.crossed_strata for s in c)]
    return [s for s in dict.fromkeys(names) if s in VARIABLE_STRATA]


def variable_strata(ctx: StudyContext) -> pd.DataFrame | None:
    """Return ``person_id, group`` and the spec's :data:`VARIABLE_STRATA` columns, or None.

    Each is the cohort row's level of the baseline variable of that name (e.g. ``ph_status``:
    ``Ph+``/``Ph-``/``unknown`` from records, or TKI-inferred in claims; see
    docs/baseline-and-safety.md), so outcome strata and Table 1 agree. Computed once a run.
    """
    wanted = _wanted_variable_strata(ctx.spec)
    if not wanted:
        return None
    if ctx.strata_frame is None:
        bctx = BaselineContext(ctx.source, ctx.vocab, ctx.cohort, ctx.spec)
        names = [STRATUM_VARIABLES[s] for s in wanted]
        values = collect_values(bctx, build_variables(bctx, names)).frame
        ctx.strata_frame = values.rename(columns=dict(zip(names, wanted, strict=True)))[
            ["person_id", "group", *wanted]
        ]
    return ctx.strata_frame


def outcomes_stage(ctx: StudyContext) -> pd.DataFrame:
    """Response rates (with Clopper–Pearson CIs) and the time-to-event endpoints."""

    def compute() -> pd.DataFrame:
        # the treatment patterns' inputs and index treatments are reused when that stage ran
        patterns = ctx.patterns
        inputs = prepare_outcome_inputs(
            ctx.source,
            ctx.vocab,
            ctx.cohort,
            pattern_inputs=ctx.pattern_inputs,
            treatments=None if patterns is None else patterns.index_treatments,
        )
        response = assess_response(ctx.source, ctx.vocab, ctx.cohort, inputs=inputs)
        rates = response_rates(
            response, ctx.spec, by=outcome_strata(ctx.spec), strata=variable_strata(ctx)
        )
        ctx.endpoints = compute_endpoints(
            ctx.source, ctx.vocab, ctx.cohort, inputs=inputs, response=response
        )
        ctx.patient_level["response"] = response.persons
        ctx.patient_level["endpoints"] = ctx.endpoints
        return response_records(rates)

    return guarded("response", ctx, compute)


def survival_stage(ctx: StudyContext) -> pd.DataFrame:
    """Kaplan–Meier and cumulative-incidence summaries, curves and risk tables.

    With ``outcomes.after_index`` set, also the outcomes by HSCT after index
    (:func:`after_index_stage`).
    """
    if ctx.endpoints is None:
        return status_records("survival_summary", ctx.groups, "endpoints are not available")
    endpoints = ctx.endpoints

    def compute() -> pd.DataFrame:
        return summarise_survival(
            endpoints,
            ctx.spec,
            by=outcome_strata(ctx.spec),
            strata=variable_strata(ctx),
            min_cell_count=ctx.min_cell_count,
        )

    return concat_records([guarded("survival_summary", ctx, compute), after_index_stage(ctx)])


def after_index_stage(ctx: StudyContext) -> pd.DataFrame:
    """Outcomes by HSCT after index (``outcomes.after_index``): landmarks, Simon–Makuch, Cox."""
    if ctx.spec.outcomes.after_index is None:
        return empty_records()
    if ctx.endpoints is None:
        return status_records("after_index", ctx.groups, "endpoints are not available")
    endpoints = ctx.endpoints
    return guarded("after_index", ctx, lambda: after_index_records(endpoints, ctx.spec))


def baseline_stage(ctx: StudyContext) -> pd.DataFrame:
    """Baseline characteristics (Table 1)."""
    return guarded(
        "baseline", ctx, lambda: summarise_baseline(ctx.source, ctx.vocab, ctx.cohort, ctx.spec)
    )


def safety_stage(ctx: StudyContext) -> pd.DataFrame:
    """Adverse events, AEs of special interest, discontinuation, cycles with a severe AE, deaths."""
    return guarded(
        "safety", ctx, lambda: summarise_safety(ctx.source, ctx.vocab, ctx.cohort, ctx.spec)
    )


def pathway_settings(ctx: StudyContext) -> dict[str, Any]:
    """Return the pathway settings for the methods text, one value per setting.

    A setting that differs between groups (the day defaults follow each group's index drug)
    becomes text naming each group's value, e.g. ``"27 (BLIN), 14 (INO)"``.
    """
    per_group = {g: dict(r.settings) for g, r in ctx.pathways.items() if r is not None}
    if not per_group:
        return {}
    out: dict[str, Any] = {}
    for key in next(iter(per_group.values())):
        values = {g: s.get(key) for g, s in per_group.items()}
        distinct = {repr(v) for v in values.values()}
        first = next(iter(values.values()))
        out[key] = (
            first if len(distinct) == 1 else ", ".join(f"{v} ({g})" for g, v in values.items())
        )
    return out
