"""Building the study cohort from a spec: entry, inclusion steps with attrition, status at index.

The work runs in the database engine; what comes back is attrition counts and cohort-sized rows
(see :func:`build_cohort`, Notes). The steps, in order (docs/study-spec.md):

1. records of each group's concept sets (drug exposures and procedures), or the rows of its
   index cohort (``entry.cohorts``: an existing OHDSI cohort table, :mod:`allrwe.cohort.external`);
2. records in the study period (or: first-ever record in the period, for new users);
3. the first record per person and group = index date and index set;
4. (``allow_multiple_groups: false``) only the group of the person's first index drug;
5. an observation period holds the index date;
6. at least ``min_prior_observation_days`` of observation before index;
7. a diagnosis of ``inclusion.diagnosis`` in its window;
8. age at index in range;
9. each exclusion: no record of its sets (or no entry of its cohort) in its window.

Then, for the persons left: ND vs R/R (``classification``), treatment setting (``setting``)
and line of therapy at index (:mod:`allrwe.cohort.lines`), and the two steps that need them:

10. (``inclusion.settings``) the classification at index is one of those listed;
11. (``inclusion.min_line`` / ``max_line``) the line of therapy at index is in range.
"""

from __future__ import annotations

import warnings

import pandas as pd

from allrwe.cohort.line_inputs import line_inputs, line_roles, lines_at_index
from allrwe.cohort.model import (
    ATTRITION_COLUMNS,
    COHORT_COLUMNS,
    COHORT_SCHEMA,
    Cohort,
    LineRecords,
    small_table,
)
from allrwe.cohort.status import (
    classify,
    status_flags,
)
from allrwe.cohort.steps import count_steps, engine_table, entry_steps, executed, inclusion_steps
from allrwe.errors import StudyWarning
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

__all__ = ["build_cohort"]


def _finish(
    source: CdmSource, spec: StudySpec, vocab: Vocabulary, raw: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, LineRecords]:
    frame = raw.copy()
    for column in ("index_date", "obs_start", "obs_end"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    persons = small_table(frame[["person_id"]].drop_duplicates(), {"person_id": "int64"})
    events, status = line_inputs(source, spec, vocab, persons)
    lines, assigned = lines_at_index(frame, events, status, spec, line_roles(spec, vocab))
    frame["line_at_index"] = pd.array(lines, dtype="Int64").fillna(1)
    frame = classify(frame, spec)
    order = {g: i for i, g in enumerate(spec.index_groups)}
    frame = frame.assign(_g=frame["group"].map(order))
    frame = frame.sort_values(["_g", "person_id"], kind="mergesort").drop(columns="_g")
    frame = frame[list(COHORT_COLUMNS)].reset_index(drop=True)
    frame["age_at_index"] = frame["age_at_index"].astype("Int64")
    frame["gender_concept_id"] = frame["gender_concept_id"].astype("int64")
    frame["line_at_index"] = frame["line_at_index"].astype("int64")
    return frame, assigned, LineRecords(vocab, events, status)


def _restrict_at_index(
    frame: pd.DataFrame, spec: StudySpec
) -> tuple[pd.DataFrame, list[tuple[str, str, pd.DataFrame]]]:
    """Apply ``inclusion.settings`` / ``min_line`` / ``max_line``: the steps known at index."""
    inc = spec.inclusion
    steps: list[tuple[str, str, pd.DataFrame]] = []
    if inc.settings is not None:
        frame = frame[frame["setting"].isin(inc.settings)].reset_index(drop=True)
        steps.append(("setting", f"classification at index in {'/'.join(inc.settings)}", frame))
    if inc.min_line is not None or inc.max_line is not None:
        line = frame["line_at_index"]
        keep = pd.Series(True, index=frame.index)
        if inc.min_line is not None:
            keep &= line >= inc.min_line
        if inc.max_line is not None:
            keep &= line <= inc.max_line
        frame = frame[keep.to_numpy()].reset_index(drop=True)
        low = inc.min_line if inc.min_line is not None else 1
        high = inc.max_line if inc.max_line is not None else "any"
        steps.append(("line", f"line of therapy at index in [{low}, {high}]", frame))
    return frame, steps


def _append_attrition(
    attrition: pd.DataFrame, spec: StudySpec, steps: list[tuple[str, str, pd.DataFrame]]
) -> pd.DataFrame:
    rows = []
    last = attrition.groupby("group", sort=False)["n_persons"].last().to_dict()
    for step, reason, frame in steps:
        grouped = frame.groupby("group")["person_id"]
        sizes, persons = grouped.size(), grouped.nunique()
        for group in spec.index_groups:
            n_per = int(persons.get(group, 0))
            before = int(last.get(group, 0))
            rows.append((group, step, reason, int(sizes.get(group, 0)), n_per, before - n_per))
            last[group] = n_per
    added = pd.DataFrame(rows, columns=list(ATTRITION_COLUMNS))
    out = pd.concat([attrition, added], ignore_index=True)
    order = {g: i for i, g in enumerate(spec.index_groups)}
    out = out.assign(_g=out["group"].map(order)).sort_values("_g", kind="mergesort")
    return out.drop(columns="_g").reset_index(drop=True)[list(ATTRITION_COLUMNS)]


def _empty_cohort(source: CdmSource, spec: StudySpec, attrition: pd.DataFrame) -> Cohort:
    """Warn that the cohort is empty and return it with its attrition (zero counts)."""
    warnings.warn(
        f"the cohort of {spec.name!r} is empty on {source.description}: "
        "see the attrition table for the step that removed everyone",
        StudyWarning,
        stacklevel=3,
    )
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in COHORT_COLUMNS})
    return Cohort.from_frame(
        frame, spec=spec, attrition=attrition, source_description=source.description
    )


def build_cohort(source: CdmSource, spec: StudySpec, vocab: Vocabulary) -> Cohort:
    """Build the study cohort: entry, inclusion steps with attrition, and status at index.

    Parameters
    ----------
    source : CdmSource
        The CDM.
    spec : StudySpec
        The study specification (its concept-set keys are checked against ``vocab``).
    vocab : Vocabulary
        The concept sets in force.

    Returns
    -------
    Cohort
        One row per person and group; see :class:`~allrwe.cohort.model.Cohort`.

    Raises
    ------
    StudySpecError
        The spec names a concept set ``vocab`` does not know.
    CdmSchemaError
        A table or column the cohort needs is missing.

    Notes
    -----
    Steps run as a pipeline (as in TreatmentPatterns): the first two steps touch every record
    of the index sets and are counted by one aggregate query in the engine; from the first
    record per person on, each step's rows (one per person and group, never more than the
    entry population) are executed and sent back to the engine as a small table for the next
    step's joins, so every query stays small. Attrition counts come from those rows.
    """
    spec.validate_against(vocab)
    steps = entry_steps(source, spec, vocab)
    entry = steps[-1].frame
    assert entry is not None
    steps += inclusion_steps(source, spec, vocab, entry)
    attrition = count_steps(source, spec, steps)
    last = steps[-1].frame
    assert last is not None
    if last.empty:
        return _empty_cohort(source, spec, attrition)
    raw = executed(source, status_flags(source, spec, vocab, engine_table(last)))
    frame, assigned, records = _finish(source, spec, vocab, raw)
    frame, extra = _restrict_at_index(frame, spec)
    if extra:
        attrition = _append_attrition(attrition, spec, extra)
        assigned = assigned[assigned["person_id"].isin(frame["person_id"])].reset_index(drop=True)
        if frame.empty:
            return _empty_cohort(source, spec, attrition)
    return Cohort(
        table=small_table(frame, COHORT_SCHEMA),
        frame=frame,
        attrition=attrition,
        spec=spec,
        source_description=source.description,
        lines=assigned,
        line_records=records,
    )
