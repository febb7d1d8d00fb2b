"""All therapy-pattern results of a cohort in one object, and the calls that compute them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import pandas as pd

from allrwe.analyses.entry import CdmRows
from allrwe.analyses.therapy._inputs import TherapyInputs, prepare_inputs
from allrwe.analyses.therapy._tables import categorical
from allrwe.analyses.therapy.chemo_course import cr_by_course_table, prior_chemo_course_table
from allrwe.analyses.therapy.completion import COMPLETED, NOT_COMPLETED, index_completion
from allrwe.analyses.therapy.destinations import destination_strata, destination_table, sequences
from allrwe.analyses.therapy.dose import (
    DoseInputs,
    dose_adherence,
    dose_records,
    prepare_dose_inputs,
)
from allrwe.analyses.therapy.index import index_treatments, treatment_duration
from allrwe.analyses.therapy.lines import line_at_index_table, line_regimens
from allrwe.analyses.therapy.periods import (
    prior_therapy,
    subsequent_therapy,
    therapy_by_person,
    unrecorded_rows,
)
from allrwe.cohort import Cohort
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import CROSSED_THERAPY_BY, StudySpec

__all__ = [
    "TherapyPatterns",
    "analyse_therapy",
    "cycle_distribution",
    "summarise_therapy",
    "summarise_therapy_inputs",
]


def cycle_distribution(
    inputs: TherapyInputs, *, treatments: pd.DataFrame | None = None, cap: int | None = None
) -> pd.DataFrame:
    """Persons by number of cycles of the index treatment (``1``, ``2``, … with %), per group.

    Parameters
    ----------
    inputs : TherapyInputs
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


def _by_strata(
    table: Callable[..., pd.DataFrame],
    inputs: TherapyInputs,
    therapy: pd.DataFrame,
    strata: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return a period table (prior or subsequent therapy), also within ``patterns.therapy_by``.

    A stratum is a column of the cohort (``setting``) or of ``strata`` (``person_id, group``
    and per-person levels such as ``ph_status``, read once a run by the caller).

    Returns
    -------
    pandas.DataFrame
        The table overall; with ``therapy_by``, also within each stratum, and the columns
        ``stratum`` (``""`` overall, else the stratum's name) and ``subgroup`` (its level,
        ``"unknown"`` when the cohort has none; ``""`` overall).
    """
    overall = table(inputs, therapy=therapy)
    patterns = inputs.spec.patterns
    if not patterns.therapy_by:
        return overall
    cohort = inputs.cohort
    for name in patterns.therapy_by_parts:
        if name not in cohort and strata is not None and name in strata:
            levels_of = strata[["person_id", "group", name]].drop_duplicates(["person_id", "group"])
            cohort = cohort.merge(levels_of, on=["person_id", "group"], how="left")
        values = cohort[name] if name in cohort else pd.Series(None, index=cohort.index)
        levels = values.astype("object").where(values.notna(), "unknown").astype(str)
        cohort = cohort.assign(**{name: levels})
    parts = [overall.assign(stratum="", subgroup="")]
    for name in patterns.therapy_by_names:
        # a crossed entry (``ph_status &&& setting``): its levels joined, ``Ph- &&& RR``
        crossed = name.split(CROSSED_THERAPY_BY)
        levels = cohort[crossed[0]]
        for part in crossed[1:]:
            levels = levels + CROSSED_THERAPY_BY + cohort[part]
        cut = replace(inputs, cohort=cohort.assign(**{name: levels}))
        t = table(cut, therapy=therapy, by=[name])
        parts.append(t.rename(columns={name: "subgroup"}).assign(stratum=name))
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class TherapyPatterns:
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
    completion: pd.DataFrame = field(default_factory=pd.DataFrame)
    prior_chemo_course: pd.DataFrame = field(default_factory=pd.DataFrame)
    cr_by_course: pd.DataFrame = field(default_factory=pd.DataFrame)

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """Return the result frames by name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _with_completion(inputs: TherapyInputs, tr: pd.DataFrame) -> pd.DataFrame:
    """Return the index treatments with ``complete_cycles`` and ``completion`` added.

    Only when ``patterns.completion`` is set (:mod:`allrwe.analyses.therapy.completion`).
    """
    if inputs.spec.patterns.completion is None:
        return tr
    done = index_completion(inputs).drop_duplicates(["person_id", "group"])
    return tr.merge(done, on=["person_id", "group"], how="left")


def completion_table(inputs: TherapyInputs, treatments: pd.DataFrame) -> pd.DataFrame:
    """Persons who completed the index treatment or not, overall and within ``setting``.

    Only the rows whose completion can be derived, of the groups that have any; within
    ``setting`` when ``strata`` names it (the sizes of the destinations' ``setting &&&
    completion`` columns: seed 001's "30 R/R patients completing blinatumomab").

    Returns
    -------
    pandas.DataFrame
        ``group, variable, level, n, denominator, percentage, strata_name, strata_level``;
        empty without ``patterns.completion``.
    """
    if "completion" not in treatments:
        return pd.DataFrame()
    done = treatments[treatments["completion"].notna()]
    groups = [g for g in inputs.spec.index_groups if (done["group"] == g).any()]
    if not groups:
        return pd.DataFrame()
    levels = [COMPLETED, NOT_COMPLETED]

    def count(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        return categorical(frame, variable="completion", column="completion", levels=levels,
                           groups=groups, by=by)  # fmt: skip

    parts = [count(done, []).assign(strata_name="overall", strata_level="overall")]
    if "setting" in inputs.spec.strata and "setting" in done:
        t = count(done.assign(setting=done["setting"].fillna("unknown").astype(str)), ["setting"])
        t = t.assign(strata_name="setting", strata_level=t["setting"].astype(str))
        parts.append(t.drop(columns="setting"))
    return pd.concat(parts, ignore_index=True)


def summarise_therapy_inputs(
    inputs: TherapyInputs,
    dose_inputs: DoseInputs | None,
    vocab: Vocabulary,
    *,
    strata: pd.DataFrame | None = None,
) -> TherapyPatterns:
    """Compute every pattern result from executed inputs (no database access).

    ``strata`` (``person_id, group`` and a column per stratum, e.g. ``ph_status``) holds the
    levels of the ``patterns.therapy_by`` strata that are not cohort columns.
    """
    tr = _with_completion(inputs, index_treatments(inputs))
    therapy = therapy_by_person(inputs, tr)
    summary, buckets = treatment_duration(inputs, treatments=tr)
    courses = inputs.spec.patterns.prior_chemo_course is not None
    doses = (
        dose_records(inputs, dose_inputs, vocab, treatments=tr)
        if dose_inputs is not None
        else dose_records(inputs, DoseInputs(pd.DataFrame(), pd.DataFrame(), pd.DataFrame()), vocab)
    )
    return TherapyPatterns(
        index_treatments=tr,
        prior_therapy=_by_strata(prior_therapy, inputs, therapy, strata),
        subsequent_therapy=_by_strata(subsequent_therapy, inputs, therapy, strata),
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
        completion=completion_table(inputs, tr),
        prior_chemo_course=(
            _by_strata(prior_chemo_course_table, inputs, therapy, strata)
            if courses
            else pd.DataFrame()
        ),
        cr_by_course=(
            _by_strata(cr_by_course_table, inputs, therapy, strata) if courses else pd.DataFrame()
        ),
        unrecorded_classes=pd.concat(
            [
                unrecorded_rows(inputs, "prior_therapy"),
                unrecorded_rows(inputs, "subsequent_therapy"),
                unrecorded_rows(inputs, "destination"),
            ],
            ignore_index=True,
        ),
    )


def summarise_therapy(source: CdmSource, vocab: Vocabulary, cohort: Cohort) -> TherapyPatterns:
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
    TherapyPatterns
    """
    inputs = prepare_inputs(source, vocab, cohort)
    dose_inputs = prepare_dose_inputs(source, vocab, cohort) if len(cohort) else None
    return summarise_therapy_inputs(inputs, dose_inputs, vocab)


def analyse_therapy(
    cohort: Cohort,
    spec: StudySpec,
    rows: CdmRows,
    *,
    on_inputs: Callable[[TherapyInputs], None] | None = None,
    strata: pd.DataFrame | None = None,
) -> TherapyPatterns:
    """Every therapy-pattern result of the cohort (the entry point, :mod:`allrwe.analyses.entry`).

    Parameters
    ----------
    cohort : Cohort
        The study cohort, built with ``spec``.
    spec : StudySpec
        The resolved spec the cohort was built with (its ``patterns`` section, index groups
        and strata); the inputs read it through ``cohort.spec``, which is this object.
    rows : CdmRows
        The kept rows and the concept sets in force.
    on_inputs : callable, optional
        Called with the therapy inputs as soon as they are read, so a caller keeps them for
        the pathways and outcomes even when a later part of the summary fails.
    strata : pandas.DataFrame, optional
        ``person_id, group`` and the per-person levels of the ``patterns.therapy_by`` strata
        that are not cohort columns (``ph_status``: the baseline variable's rule, read once a
        run by the study and shared with the outcome strata); without it such a stratum's
        persons are all ``unknown``.
    """
    inputs = prepare_inputs(rows.source, rows.vocab, cohort)
    if on_inputs is not None:
        on_inputs(inputs)
    dose = prepare_dose_inputs(rows.source, rows.vocab, cohort)
    return summarise_therapy_inputs(inputs, dose, rows.vocab, strata=strata)
