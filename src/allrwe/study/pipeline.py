"""The run as a pipeline of named steps, each with explicit inputs and outputs.

::

    connect ─► check (structure) ─► extract: resolve the sets, keep the rows, check them
            ─► cohort ─► patterns ─► pathways
                               └──► outcomes ─► survival (+ after-index)
                         baseline, safety
            ─► results (suppressed once) ─► report ─► export ─► audit

The data steps before the cohort are :mod:`allrwe.study.prepare`'s; here are
:func:`run_analyses` (the analysis steps of :mod:`allrwe.study.stages`, in this order, each
handed the outputs it builds on) and :func:`results_step`. :func:`allrwe.study.runner.run_study`
only sequences the steps, times them and reports progress. The rule this module owns: with an
empty cohort no analysis step runs (attrition and group sizes are still written), and a step
the data cannot support yields "not available" records instead of stopping the run.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from allrwe.io.vocabulary_resolution import SetResolution
from allrwe.results import ResultSet, suppress
from allrwe.results.links import declare_links
from allrwe.spec import StudySpec
from allrwe.study.progress import StageReporter
from allrwe.study.stages import (
    PathwaysOutput,
    RunInputs,
    StepResult,
    VariableStrata,
    baseline_step,
    outcomes_step,
    pathway_settings,
    pathways_step,
    safety_step,
    survival_step,
    therapy_step,
)

__all__ = ["ANALYSIS_STEPS", "Analyses", "results_step", "run_analyses"]

#: the analysis steps in run order: (progress stage, the analysis a "not available" names)
ANALYSIS_STEPS = (
    ("patterns", "patterns"),
    ("pathways", "pathways"),
    ("outcomes", "response"),
    ("survival", "survival_summary"),
    ("baseline", "baseline"),
    ("safety", "safety"),
)


@dataclass(frozen=True)
class Analyses:
    """What the analysis steps produced, gathered in step order.

    Attributes
    ----------
    records : list of pandas.DataFrame
        Cohort and attrition records, then each step's records.
    unavailable : dict of str to str
        Analyses the data could not support, with the reason.
    patient_level : dict of str to pandas.DataFrame
        Person-level tables, the cohort first.
    pathways : PathwaysOutput
        The pathways of each group (their settings go to the provenance).
    """

    records: list[pd.DataFrame]
    unavailable: dict[str, str] = field(default_factory=dict)
    patient_level: dict[str, pd.DataFrame] = field(default_factory=dict)
    pathways: PathwaysOutput = field(default_factory=PathwaysOutput)

    def settings(self) -> dict[str, Any]:
        """Return the analysis settings the spec does not hold as written, as JSON reads them.

        They go to the provenance; the JSON round trip makes the report drawn by the run and
        the one :func:`allrwe.study.rebuild.rebuild_report` draws from ``provenance.json``
        the same.
        """
        from allrwe.results.provenance import canonical_json

        settings = {"pathways": pathway_settings(self.pathways)}
        return dict(json.loads(canonical_json(settings)))


def run_analyses(run: RunInputs, progress: StageReporter) -> Analyses:
    """Run the analysis steps in :data:`ANALYSIS_STEPS` order, each reported as a stage.

    Each step is handed the outputs it builds on: pathways and outcomes the patterns'
    (:class:`~allrwe.study.stages.TherapyOutput`), survival the outcomes' endpoints, and
    outcomes and survival one :class:`~allrwe.study.stages.VariableStrata`.
    """
    from allrwe.analyses.attrition import attrition_records, cohort_records, link_attrition

    cohort = run.cohort
    gathered = Analyses(
        records=[
            link_attrition(
                cohort_records(cohort.frame, run.groups), attrition_records(cohort.attrition)
            )
        ],
        patient_level={"cohort": cohort.frame},
    )
    if not len(cohort):
        for stage, _ in ANALYSIS_STEPS:
            with progress.stage(stage) as notes:
                notes.append("!empty cohort: only attrition and group sizes are written")
        return gathered
    steps = dict(ANALYSIS_STEPS)
    strata = VariableStrata(run)

    def step(stage: str, result: StepResult[Any], notes: list[str]) -> None:
        gathered.records.append(result.records)
        gathered.unavailable.update(result.unavailable)
        gathered.patient_level.update(result.patient_level)
        reason = result.unavailable.get(steps[stage])
        notes.append(f"!{reason}" if reason is not None else f"{len(result.records)} records")

    with progress.stage("patterns") as notes:
        therapy = therapy_step(run, strata)
        step("patterns", therapy, notes)
    with progress.stage("pathways") as notes:
        pathways = pathways_step(run, therapy.output)
        step("pathways", pathways, notes)
    with progress.stage("outcomes") as notes:
        outcomes = outcomes_step(run, therapy.output, strata)
        step("outcomes", outcomes, notes)
    with progress.stage("survival") as notes:
        step("survival", survival_step(run, outcomes.output, strata), notes)
    with progress.stage("baseline") as notes:
        step("baseline", baseline_step(run), notes)
    with progress.stage("safety") as notes:
        step("safety", safety_step(run), notes)
    return dataclasses.replace(gathered, pathways=pathways.output)


def results_step(
    analyses: Analyses,
    spec: StudySpec,
    *,
    cdm: dict[str, str],
    resolution: dict[str, SetResolution],
    created_at: str | None,
    attack_cache: dict[bytes, Any] | None = None,
) -> ResultSet:
    """Gather the records with their provenance (CDM metadata, sets, settings); suppress once.

    Parameters
    ----------
    analyses : Analyses
        What the analysis steps produced.
    spec : StudySpec
        The spec the run read (its threshold and policy suppress).
    cdm : dict of str to str
        The CDM's description and ``cdm_source`` fields (:func:`allrwe.io.metadata.cdm_metadata`).
    resolution : dict
        How each concept set resolved in the CDM's vocabulary.
    created_at : str or None
        The run's timestamp (None: now).
    attack_cache : dict, optional
        The attacker's solved parts, shared with the run's final attack (see
        :func:`allrwe.results.suppress`).
    """
    from allrwe.analyses.records import empty_records

    frames = [p for p in analyses.records if len(p)] or [empty_records()]
    raw = ResultSet.create(
        declare_links(pd.concat(frames, ignore_index=True)),
        spec=spec,
        cdm_source=cdm["description"],
        created_at=created_at,
    )
    raw = ResultSet(
        raw.records,
        dataclasses.replace(
            raw.provenance,
            concept_sets={k: r.to_dict() for k, r in resolution.items()},
            cdm=cdm,
            settings=analyses.settings(),
        ),
    )
    return suppress(
        raw,
        min_cell_count=spec.min_cell_count,
        policy=spec.suppression.policy,
        attack_cache=attack_cache,
    )
