"""The one engine round trip of the outcome analyses.

:func:`prepare_outcome_inputs` executes, for the cohort's persons only, the labs of the response
criteria, the disease-status records, deaths, the therapies that end or censor follow-up, and
the cycles of the index treatment (through :mod:`allrwe.analyses.therapy`), and returns them as
:class:`~allrwe.analyses.outcomes._inputs.OutcomeInputs`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd

from allrwe.analyses.outcomes._inputs import (
    LAB_KEYS,
    STATUS_KEYS,
    OutcomeInputs,
    car_t_keys,
    dates_of,
    day_numbers,
    outcome_inputs_from_frames,
)
from allrwe.analyses.therapy import (
    TherapyInputs,
    assign_cycles,
    index_treatments,
    prepare_inputs,
)
from allrwe.cohort import (
    Cohort,
    concept_events,
    condition_events,
    death_dates,
    expand_keys,
    measurement_values,
    recorded_sets,
    with_unit_factor,
)
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import CycleRule, StudySpec

__all__ = ["index_cycles", "prepare_outcome_inputs"]

log = logging.getLogger(__name__)


def index_cycles(
    treatments: pd.DataFrame, events: pd.DataFrame, cycle_rules: Mapping[str, CycleRule]
) -> pd.DataFrame:
    """Return the cycles of every cohort row's index treatment.

    Parameters
    ----------
    treatments : pandas.DataFrame
        :func:`allrwe.analyses.therapy.index_treatments` output (``person_id, group,
        index_date, index_set, index_end``).
    events : pandas.DataFrame
        ``person_id, concept_set, start_date, end_date`` of drug and procedure records.
    cycle_rules : mapping of str to CycleRule
        Cycle rule of each concept-set key; a set without a rule forms one cycle.

    Returns
    -------
    pandas.DataFrame
        ``person_id, group, cycle, cycle_start, cycle_end``: records of the index set from the
        index date to the end of the index treatment, cut into cycles by the set's rule.
    """
    cols = ["person_id", "group", "cycle", "cycle_start", "cycle_end"]
    keep = treatments[["person_id", "group", "index_date", "index_set", "index_end"]]
    rec = events.merge(
        keep, left_on=["person_id", "concept_set"], right_on=["person_id", "index_set"]
    )
    start, idx, end = (day_numbers(rec[c]) for c in ("start_date", "index_date", "index_end"))
    rec = rec[(start >= idx) & (start <= end)]
    parts = []
    for (group, cset), part in rec.groupby(["group", "index_set"], sort=True):
        rule = cycle_rules.get(str(cset))
        if rule is None:
            cyc = part[["person_id", "start_date", "end_date"]].assign(cycle=1)
        else:
            cyc = assign_cycles(part[["person_id", "start_date", "end_date"]], rule)
        parts.append(cyc.assign(group=str(group)))
    if not parts:
        return dates_of(pd.DataFrame(columns=cols), ("cycle_start", "cycle_end"))
    cyc = pd.concat(parts, ignore_index=True)
    out = cyc.groupby(["person_id", "group", "cycle"], as_index=False).agg(
        cycle_start=("start_date", "min"), cycle_end=("end_date", "max")
    )
    out["cycle"] = out["cycle"].astype("int64")
    return dates_of(out[cols], ("cycle_start", "cycle_end"))


def _keys_of(vocab: Vocabulary, keys: list[str]) -> frozenset[str]:
    return frozenset(cs.key for cs in expand_keys(vocab, keys)) if keys else frozenset()


def _labs(source: CdmSource, vocab: Vocabulary, cohort: Cohort) -> pd.DataFrame | None:
    keys = [k for k in LAB_KEYS if k in vocab]
    if not source.has("measurement") or "marrow_blasts" not in keys:
        return None
    expr = with_unit_factor(measurement_values(source, vocab, cohort, keys), vocab)
    expr = expr.filter(expr.value_as_number.notnull())
    raw = source.execute(
        expr.select("person_id", "concept_set", date="start_date",
                    value=expr.value_as_number * expr.unit_factor, factor="unit_factor")
    )  # fmt: skip
    # values in the set's unit (10^3/uL = 10^9/L, g/dL x 10 = g/L); other units are left out
    ok = raw["factor"].notna()
    if not ok.all():
        log.warning(
            "outcomes: dropped %d lab record(s) in a unit the set does not accept", (~ok).sum()
        )
    return raw.loc[ok, ["person_id", "concept_set", "date", "value"]]


def _therapy_keys(spec: StudySpec) -> list[str]:
    keys = dict.fromkeys([*spec.patterns.lines.transplant, *car_t_keys(spec)])
    for variant in spec.outcomes.censor_variants.values():
        keys.update(dict.fromkeys(variant))
    return list(keys)


def prepare_outcome_inputs(
    source: CdmSource,
    vocab: Vocabulary,
    cohort: Cohort,
    spec: StudySpec | None = None,
    *,
    pattern_inputs: TherapyInputs | None = None,
    treatments: pd.DataFrame | None = None,
) -> OutcomeInputs:
    """Execute, for the cohort's persons, every record the outcome analyses read.

    Parameters
    ----------
    source : CdmSource
        The CDM the cohort was built on.
    vocab : Vocabulary
        Concept sets in force.
    cohort : Cohort
        The study cohort.
    spec : StudySpec, optional
        The study specification; default the cohort's.
    pattern_inputs : TherapyInputs, optional
        :func:`allrwe.analyses.therapy.prepare_inputs` of the same cohort, to reuse (a study
        run has them from its treatment patterns); read again when not given.
    treatments : pandas.DataFrame, optional
        :func:`allrwe.analyses.therapy.index_treatments` of ``pattern_inputs``, to reuse.

    Returns
    -------
    OutcomeInputs
    """
    spec = cohort.spec if spec is None else spec
    labs = _labs(source, vocab, cohort)
    status_keys = [k for k in STATUS_KEYS if k in vocab]
    status = None
    if status_keys and source.has("condition_occurrence"):
        ev = condition_events(source, vocab, cohort, status_keys)
        status = source.execute(ev.select("person_id", "concept_set", date="start_date"))
    deaths = source.execute(death_dates(source, cohort).select("person_id", "death_date"))
    keys = _therapy_keys(spec)
    therapies = None
    if keys:
        ev = concept_events(source, vocab, cohort, keys, domains=("drug", "procedure"))
        therapies = source.execute(ev.select("person_id", "concept_set", date="start_date"))
    cycles, ends = _treatment(source, vocab, cohort, pattern_inputs, treatments)
    return outcome_inputs_from_frames(
        cohort.frame,
        spec,
        labs=labs,
        status=status,
        deaths=deaths,
        therapies=therapies,
        cycles=cycles,
        treatment_end=ends,
        variant_sets={v: _keys_of(vocab, k) for v, k in spec.outcomes.censor_variants.items()},
        transplant_sets=_keys_of(vocab, list(spec.patterns.lines.transplant)),
        deaths_available=source.has("death"),
        transplant_available=_recorded(source, vocab, list(spec.patterns.lines.transplant)),
        car_t_sets=_keys_of(vocab, car_t_keys(spec)),
        car_t_available=_recorded(source, vocab, car_t_keys(spec)),
    )


def _recorded(source: CdmSource, vocab: Vocabulary, keys: list[str]) -> bool:
    """Whether the CDM holds a record (anyone's) of any set of ``keys``."""
    return bool(keys) and any(recorded_sets(source, vocab, keys).values())


def _treatment(
    source: CdmSource,
    vocab: Vocabulary,
    cohort: Cohort,
    inputs: TherapyInputs | None,
    treatments: pd.DataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not len(cohort):
        return pd.DataFrame(), pd.DataFrame()
    if inputs is None:
        inputs = prepare_inputs(source, vocab, cohort)
        treatments = None  # index treatments of other inputs do not apply
    tr = index_treatments(inputs) if treatments is None else treatments
    return index_cycles(tr, inputs.events, inputs.cycle_rules), tr[
        ["person_id", "group", "index_end"]
    ]
