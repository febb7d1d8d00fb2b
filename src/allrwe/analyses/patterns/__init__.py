"""Treatment patterns: prior and subsequent therapy, sequences, lines, cycles, duration, dose.

Typical use::

    cohort = build_cohort(source, spec, vocab)
    patterns = summarise_treatment_patterns(source, vocab, cohort)
    patterns.prior_therapy  # tidy: group, variable, level, n, denominator, percentage

Every function below :func:`prepare_inputs` works on small pandas frames; the algorithms and their
parameters are described in docs/treatment-patterns.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import pandas as pd

from allrwe.analyses.patterns._inputs import PatternInputs, inputs_from_frames, prepare_inputs
from allrwe.analyses.patterns._tables import categorical
from allrwe.analyses.patterns.cycles import (
    assign_cycles,
    dose_schedule_cycles,
    infusion_cycles,
    single_cycles,
)
from allrwe.analyses.patterns.dose import (
    DoseInputs,
    bsa,
    dose_adherence,
    dose_records,
    prepare_dose_inputs,
)
from allrwe.analyses.patterns.lines import line_at_index_table, line_regimens, person_lines
from allrwe.analyses.patterns.therapy import (
    OTHER_NOVEL_AGENT,
    destination_strata,
    destination_table,
    duration_bucket,
    index_treatments,
    prior_therapy,
    sequences,
    subsequent_therapy,
    therapy_by_person,
    treatment_duration,
    unrecorded_rows,
)
from allrwe.cohort import Cohort
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary

__all__ = [
    "OTHER_NOVEL_AGENT",
    "DoseInputs",
    "PatternInputs",
    "TreatmentPatterns",
    "assign_cycles",
    "bsa",
    "cycle_distribution",
    "destination_strata",
    "destination_table",
    "dose_adherence",
    "dose_records",
    "dose_schedule_cycles",
    "duration_bucket",
    "index_treatments",
    "infusion_cycles",
    "inputs_from_frames",
    "line_at_index_table",
    "line_regimens",
    "person_lines",
    "prepare_dose_inputs",
    "prepare_inputs",
    "prior_therapy",
    "sequences",
    "single_cycles",
    "subsequent_therapy",
    "summarise_patterns",
    "summarise_treatment_patterns",
    "therapy_by_person",
    "treatment_duration",
]


def cycle_distribution(
    inputs: PatternInputs, *, treatments: pd.DataFrame | None = None, cap: int | None = None
) -> pd.DataFrame:
    """Persons by number of cycles of the index treatment (``1``, ``2``, … with %), per group.

    Parameters
    ----------
    inputs : PatternInputs
        The pattern inputs.
    treatments : pandas.DataFrame, optional
        :func:`index_treatments` output, to reuse.
    cap : int, optional
        Pool counts at or above ``cap`` into ``"<cap>+"``.
    """
    tr = index_treatments(inputs) if treatments is None else treatments
    n = tr["n_cycles"].astype("int64")
    top = int(n.max()) if len(n) else 0
    if cap is not None and top >= cap:
        labels = n.where(n < cap, cap).astype(str).where(n < cap, f"{cap}+")
        levels = [str(i) for i in range(0, cap)] + [f"{cap}+"]
    else:
        labels = n.astype(str)
        levels = [str(i) for i in range(0, top + 1)]
    frame = tr.assign(cycles=labels.to_numpy())
    out = categorical(
        frame, variable="cycles", column="cycles", levels=levels, groups=inputs.spec.index_groups
    )
    # "0 cycles" only appears for index sets without a cycle rule; drop it when nobody has it.
    return out[(out["level"] != "0") | (out["n"] > 0)].reset_index(drop=True)


@dataclass(frozen=True)
class TreatmentPatterns:
    """All treatment-pattern results of one cohort (tidy pandas frames)."""

    index_treatments: pd.DataFrame
    prior_therapy: pd.DataFrame
    subsequent_therapy: pd.DataFrame
    destinations: pd.DataFrame
    sequences: pd.DataFrame
    cycles: pd.DataFrame
    duration_summary: pd.DataFrame
    duration_buckets: pd.DataFrame
    line_at_index: pd.DataFrame
    line_regimens: pd.DataFrame
    doses: pd.DataFrame
    dose_adherence: pd.DataFrame
    unrecorded_classes: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["group", "variable", "level"])
    )

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """Return the result frames by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def summarise_patterns(
    inputs: PatternInputs, dose_inputs: DoseInputs | None, vocab: Vocabulary
) -> TreatmentPatterns:
    """Compute every pattern result from executed inputs (no database access)."""
    tr = index_treatments(inputs)
    therapy = therapy_by_person(inputs, tr)
    summary, buckets = treatment_duration(inputs, treatments=tr)
    doses = (
        dose_records(inputs, dose_inputs, vocab, treatments=tr)
        if dose_inputs is not None
        else dose_records(inputs, DoseInputs(pd.DataFrame(), pd.DataFrame(), pd.DataFrame()), vocab)
    )
    return TreatmentPatterns(
        index_treatments=tr,
        prior_therapy=prior_therapy(inputs, therapy=therapy),
        subsequent_therapy=subsequent_therapy(inputs, therapy=therapy),
        destinations=pd.concat(
            [
                destination_table(inputs, treatments=tr, therapy=therapy).assign(stratum=""),
                destination_strata(inputs, inputs.spec.strata, treatments=tr, therapy=therapy),
            ],
            ignore_index=True,
        ),
        sequences=sequences(inputs, therapy=therapy),
        cycles=cycle_distribution(inputs, treatments=tr),
        duration_summary=summary,
        duration_buckets=buckets,
        line_at_index=line_at_index_table(inputs),
        line_regimens=line_regimens(inputs),
        doses=doses,
        dose_adherence=dose_adherence(doses),
        unrecorded_classes=pd.concat(
            [
                unrecorded_rows(inputs, "prior_therapy"),
                unrecorded_rows(inputs, "subsequent_therapy"),
                unrecorded_rows(inputs, "destination"),
            ],
            ignore_index=True,
        ),
    )


def summarise_treatment_patterns(
    source: CdmSource, vocab: Vocabulary, cohort: Cohort
) -> TreatmentPatterns:
    """Compute every treatment-pattern result of a cohort.

    Parameters
    ----------
    source : CdmSource
        The CDM the cohort was built on.
    vocab : Vocabulary
        The concept sets in force.
    cohort : Cohort
        The study cohort (:func:`allrwe.cohort.build_cohort`).

    Returns
    -------
    TreatmentPatterns
    """
    inputs = prepare_inputs(source, vocab, cohort)
    dose_inputs = prepare_dose_inputs(source, vocab, cohort) if len(cohort) else None
    return summarise_patterns(inputs, dose_inputs, vocab)
