"""The analysis steps of a run: each a function of typed inputs, returning a typed result.

Every step takes the :class:`RunInputs` (the CDM with the kept rows, the spec, the vocabulary,
the cohort) and the outputs of the steps it builds on, named in its signature, and returns a
:class:`StepResult`: its result records (or a status record when the data cannot support the
analysis), the analyses it found not available, its person-level tables, and its output for
later steps. No step changes another's output. The steps are the only places that call the
analyses, so a change in an analysis's interface touches one function here; their order is
:mod:`allrwe.study.pipeline`'s.

The data flow: therapy → :class:`TherapyOutput` → pathways and outcomes;
outcomes → :class:`OutcomesOutput` (the endpoints) → survival (and after-index);
:class:`VariableStrata` (computed once, on first use) → outcomes and survival.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import pandas as pd

from allrwe.analyses.baseline import (
    STRATUM_VARIABLES,
    BaselineContext,
    analyse_baseline,
    build_variables,
    collect_values,
)
from allrwe.analyses.entry import CdmRows
from allrwe.analyses.outcomes import (
    after_index_records,
    analyse_outcomes,
    event_recorded,
    summarise_survival,
)
from allrwe.analyses.pathways import PathwayResult
from allrwe.analyses.pathways.groups import analyse_pathways
from allrwe.analyses.pathways.records import pathway_records, pathway_strata
from allrwe.analyses.records import as_records, concat_records, empty_records, status_records
from allrwe.analyses.safety import analyse_safety
from allrwe.analyses.therapy import (
    TherapyInputs,
    TherapyPatterns,
    analyse_therapy,
    index_completion,
    therapy_records,
)
from allrwe.cohort import Cohort
from allrwe.errors import AnalysisError, CdmSchemaError
from allrwe.io.cdm import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

__all__ = [
    "OUTCOME_STRATA",
    "VARIABLE_STRATA",
    "OutcomesOutput",
    "PathwaysOutput",
    "RunInputs",
    "StepResult",
    "TherapyOutput",
    "VariableStrata",
    "after_index_step",
    "baseline_step",
    "outcome_strata",
    "outcomes_step",
    "pathway_settings",
    "pathways_step",
    "safety_step",
    "survival_step",
    "therapy_step",
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

T = TypeVar("T")


@dataclass(frozen=True)
class RunInputs:
    """What every analysis step reads: the CDM (with the kept rows), spec, vocabulary, cohort."""

    source: CdmSource
    spec: StudySpec
    vocab: Vocabulary
    cohort: Cohort

    @property
    def rows(self) -> CdmRows:
        """The kept rows and the concept sets, as every analysis entry point takes them."""
        return CdmRows(self.source, self.vocab)

    @property
    def min_cell_count(self) -> int:
        """int: the threshold below which counts are hidden, from the spec (1: policy none)."""
        return self.spec.hides_below

    @property
    def groups(self) -> list[str]:
        """The index groups, in spec order."""
        return list(self.spec.index_groups)


@dataclass(frozen=True)
class StepResult(Generic[T]):
    """What a step returns.

    Attributes
    ----------
    records : pandas.DataFrame
        Its result records (a status record per group when not available).
    output : T
        What later steps read (see each step).
    unavailable : mapping of str to str
        Analyses the data could not support, with the reason, in the order found.
    patient_level : mapping of str to pandas.DataFrame
        Person-level tables (written only when the run is asked to).
    """

    records: pd.DataFrame
    output: T
    unavailable: Mapping[str, str] = field(default_factory=dict)
    patient_level: Mapping[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class TherapyOutput:
    """The therapy step's output: its inputs (None if they could not be read), its summary."""

    inputs: TherapyInputs | None = None
    patterns: TherapyPatterns | None = None


@dataclass(frozen=True)
class PathwaysOutput:
    """The pathways step's output: each group's pathways (None: the group has none)."""

    by_group: Mapping[str, PathwayResult | None] = field(default_factory=dict)


@dataclass(frozen=True)
class OutcomesOutput:
    """The outcomes step's output: the time-to-event endpoints (None if not available)."""

    endpoints: pd.DataFrame | None = None


def guarded(
    analysis: str, run: RunInputs, compute: Callable[[], pd.DataFrame]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Run ``compute``; a CDM lacking what it needs gives a "not available" status instead.

    Only a missing table or column, or an analysis refusing its input, is turned into a
    status; any other exception is a bug and propagates.

    Returns
    -------
    tuple
        The records, and ``{analysis: reason}`` when not available (else empty).
    """
    try:
        return as_records(compute()), {}
    except CdmSchemaError as exc:
        reason = str(exc)
    except AnalysisError as exc:
        logger.warning("%s: %s", analysis, exc)
        reason = "the analysis cannot run on this CDM (see the log of the run)"
    logger.info("%s not available: %s", analysis, reason)
    return status_records(analysis, run.groups, reason), {analysis: reason}


def therapy_step(run: RunInputs, strata: VariableStrata | None = None) -> StepResult[TherapyOutput]:
    """Therapy patterns: prior/subsequent therapy, sequences, cycles, duration, lines, dose.

    Its output holds the pattern inputs as soon as they are read, even when the summary then
    fails, so the pathways and outcomes steps still use them. ``strata`` gives the
    ``patterns.therapy_by`` strata that are baseline variables (``ph_status``), read once a
    run and shared with the outcomes and survival steps.
    """
    found: dict[str, Any] = {}

    def compute() -> pd.DataFrame:
        keep = functools.partial(found.__setitem__, "inputs")
        wanted = [n for n in run.spec.patterns.therapy_by_parts if n in VARIABLE_STRATA]
        levels = strata.frame() if strata is not None and wanted else None
        found["patterns"] = analyse_therapy(
            run.cohort, run.spec, run.rows, on_inputs=keep, strata=levels
        )
        return therapy_records(found["patterns"], min_cell_count=run.min_cell_count)

    records, unavailable = guarded("patterns", run, compute)
    patterns: TherapyPatterns | None = found.get("patterns")
    tables = {} if patterns is None else {"index_treatments": patterns.index_treatments}
    return StepResult(records, TherapyOutput(found.get("inputs"), patterns), unavailable, tables)


def pathways_step(run: RunInputs, therapy: TherapyOutput) -> StepResult[PathwaysOutput]:
    """Treatment pathways (TreatmentPatterns semantics) from the pattern inputs."""
    inputs = therapy.inputs
    if inputs is None:
        reason = "treatment patterns are not available"
        return StepResult(status_records("pathways", run.groups, reason), PathwaysOutput())
    found: dict[str, dict[str, PathwayResult | None]] = {}

    def compute() -> pd.DataFrame:
        found["pathways"] = analyse_pathways(run.cohort, run.spec, run.rows, therapy=inputs)
        done = therapy.patterns.index_treatments if therapy.patterns is not None else None
        if done is None and "completion" in run.spec.pathways.by:
            done = index_completion(inputs)
        strata = pathway_strata(inputs.cohort, run.spec, completion=done)
        return pathway_records(found["pathways"], min_cell_count=run.min_cell_count, strata=strata)

    records, unavailable = guarded("pathways", run, compute)
    by_group = found.get("pathways", {})
    patients = [r.patients.assign(group=g) for g, r in by_group.items() if r is not None]
    tables = {"pathways": pd.concat(patients, ignore_index=True)} if patients else {}
    return StepResult(records, PathwaysOutput(by_group), unavailable, tables)


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
    names: list[str] = [*spec.strata, *(s for c in spec.crossed_strata for s in c)]
    names += spec.patterns.therapy_by_parts
    return [s for s in dict.fromkeys(names) if s in VARIABLE_STRATA]


class VariableStrata:
    """The spec's :data:`VARIABLE_STRATA` per person, computed on first use, then shared.

    Wanted are those the spec names in ``strata``, ``crossed_strata`` or
    ``patterns.therapy_by`` (``ph_status``: prior and subsequent therapy by Ph status).

    Each column is the cohort row's level of the baseline variable of that name (e.g.
    ``ph_status``: ``Ph+``/``Ph-``/``unknown`` from records, or TKI-inferred in claims; see
    docs/baseline-and-safety.md), so outcome strata and Table 1 agree. The outcomes and
    survival steps are handed the same object, so the variables are read once a run.
    """

    def __init__(self, run: RunInputs) -> None:
        self._run = run
        self._frame: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame | None:
        """Return ``person_id, group`` and the wanted strata columns, or None if none."""
        wanted = _wanted_variable_strata(self._run.spec)
        if not wanted:
            return None
        if self._frame is None:
            run = self._run
            bctx = BaselineContext(run.source, run.vocab, run.cohort, run.spec)
            names = [STRATUM_VARIABLES[s] for s in wanted]
            values = collect_values(bctx, build_variables(bctx, names)).frame
            self._frame = values.rename(columns=dict(zip(names, wanted, strict=True)))[
                ["person_id", "group", *wanted]
            ]
        return self._frame


def outcomes_step(
    run: RunInputs, therapy: TherapyOutput, strata: VariableStrata
) -> StepResult[OutcomesOutput]:
    """Response rates (with Clopper–Pearson CIs) and the time-to-event endpoints.

    The pattern inputs and index treatments are reused when the patterns step made them.
    """
    found: dict[str, Any] = {}

    def compute() -> pd.DataFrame:
        summary = therapy.patterns
        result = analyse_outcomes(
            run.cohort,
            run.spec,
            run.rows,
            therapy=therapy.inputs,
            treatments=None if summary is None else summary.index_treatments,
            by=outcome_strata(run.spec),
            strata=strata.frame(),
        )
        found["endpoints"] = result.endpoints
        found["tables"] = {"response": result.response.persons, "endpoints": result.endpoints}
        return result.records

    records, unavailable = guarded("response", run, compute)
    output = OutcomesOutput(found.get("endpoints"))
    return StepResult(records, output, unavailable, found.get("tables", {}))


def survival_step(
    run: RunInputs, outcomes: OutcomesOutput, strata: VariableStrata
) -> StepResult[None]:
    """Kaplan–Meier and cumulative-incidence summaries, curves and risk tables.

    With ``outcomes.after_index`` set, also the outcomes by HSCT after index
    (:func:`after_index_step`).
    """
    endpoints = outcomes.endpoints
    if endpoints is None:
        reason = "endpoints are not available"
        return StepResult(status_records("survival_summary", run.groups, reason), None)

    def compute() -> pd.DataFrame:
        return summarise_survival(
            endpoints,
            run.spec,
            by=outcome_strata(run.spec),
            strata=strata.frame(),
            min_cell_count=run.min_cell_count,
        )

    records, unavailable = guarded("survival_summary", run, compute)
    after = after_index_step(run, outcomes)
    return StepResult(
        concat_records([records, after.records]), None, {**unavailable, **after.unavailable}
    )


def after_index_step(run: RunInputs, outcomes: OutcomesOutput) -> StepResult[None]:
    """Outcomes by events after index (``outcomes.after_index``): landmarks, Simon–Makuch, Cox."""
    if run.spec.outcomes.after_index is None:
        return StepResult(empty_records(), None)
    endpoints = outcomes.endpoints
    if endpoints is None:
        reason = "endpoints are not available"
        return StepResult(status_records("after_index", run.groups, reason), None)
    events = run.spec.outcomes.after_index.events
    recorded = [e for e in events if event_recorded(endpoints, e)]
    therapies = {"hsct": "allogeneic HSCT", "car_t": "CAR-T"}
    missing = {e: f"no record of {therapies[e]} in this CDM" for e in events if e not in recorded}
    if not recorded:
        reason = " and ".join(missing.values())
        records = status_records("after_index", run.groups, reason)
        return StepResult(records, None, {"after_index": reason})
    records, unavailable = guarded(
        "after_index", run, lambda: after_index_records(endpoints, run.spec, recorded)
    )
    # an event without records is not available; the others are reported
    partly = {f"after_index:{event}": reason for event, reason in missing.items()}
    return StepResult(records, None, {**unavailable, **partly})


def baseline_step(run: RunInputs) -> StepResult[None]:
    """Baseline characteristics (Table 1)."""
    records, unavailable = guarded(
        "baseline", run, lambda: analyse_baseline(run.cohort, run.spec, run.rows)
    )
    return StepResult(records, None, unavailable)


def safety_step(run: RunInputs) -> StepResult[None]:
    """Adverse events, AEs of special interest, discontinuation, cycles with a severe AE, deaths."""
    records, unavailable = guarded(
        "safety", run, lambda: analyse_safety(run.cohort, run.spec, run.rows)
    )
    return StepResult(records, None, unavailable)


def pathway_settings(pathways: PathwaysOutput) -> dict[str, Any]:
    """Return the pathway settings for the methods text, one value per setting.

    A setting that differs between groups (the day defaults follow each group's index drug)
    becomes text naming each group's value, e.g. ``"27 (BLIN), 14 (INO)"``.
    """
    per_group = {g: dict(r.settings) for g, r in pathways.by_group.items() if r is not None}
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
