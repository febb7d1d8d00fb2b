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

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from allrwe.cohort.events import concept_events, expand_keys
from allrwe.cohort.external import cohort_rows, describe
from allrwe.cohort.lines import LineRoles, assign_lines, line_at
from allrwe.cohort.model import (
    ATTRITION_COLUMNS,
    COHORT_COLUMNS,
    COHORT_SCHEMA,
    Cohort,
    LineRecords,
    small_table,
)
from allrwe.cohort.status import (
    Window,
    classify,
    has_event,
    in_window,
    offset_days,
    status_flags,
)
from allrwe.errors import CdmSchemaError, StudySpecError, StudyWarning
from allrwe.io.kept import rows_for_persons
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import CohortRef, StudySpec

__all__ = ["build_cohort", "cohort_line_inputs", "line_event_keys", "line_inputs", "line_roles"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Step:
    """One attrition step: counted in the engine (``table``) or already executed (``frame``)."""

    step: str
    reason: str
    table: ir.Table | None = None
    frame: pd.DataFrame | None = None


#: Ibis types of the columns cohort-sized frames carry back into the engine.
_FRAME_TYPES = {
    "person_id": "int64",
    "group": "string",
    "index_set": "string",
    "index_date": "date",
    "obs_start": "date",
    "obs_end": "date",
    "gender_concept_id": "int64",
    "age_at_index": "int64",
}
_DATES = ("index_date", "obs_start", "obs_end")


def _window_text(window: Window) -> str:
    start, end = window
    return f"[{'-inf' if start is None else start}, {'+inf' if end is None else end}] days"


def _rows(source: CdmSource, expr: ir.Table) -> pd.DataFrame:
    """Execute a cohort-sized expression; dates become ``datetime64[s]``."""
    frame = source.execute(expr)
    for column in _DATES:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    if "person_id" in frame:
        frame["person_id"] = frame["person_id"].astype("int64")
    return frame.reset_index(drop=True)


def _engine(frame: pd.DataFrame) -> ir.Table:
    """Send a cohort-sized frame back to the engine to join it with CDM tables."""
    return small_table(frame, {c: _FRAME_TYPES[c] for c in frame.columns if c in _FRAME_TYPES})


def _entry_records(source: CdmSource, spec: StudySpec, vocab: Vocabulary) -> ir.Table:
    unknown = sorted(set(spec.entry.cohorts) - set(spec.index_groups))
    if unknown:
        raise StudySpecError(
            f"entry.cohorts names group(s) {unknown} that index_groups does not define "
            f"({', '.join(spec.index_groups)})"
        )
    parts = []
    for group, keys in spec.index_groups.items():
        if group in spec.entry.cohorts:  # an index cohort: its start dates, the group's set
            rows = cohort_rows(source, _resolved(spec, spec.entry.cohorts[group]))
            parts.append(
                rows.select(
                    "person_id",
                    group=ibis.literal(group, type="string"),
                    index_set=ibis.literal(keys[0], type="string"),
                    start_date="start_date",
                )
            )
            continue
        ev = concept_events(source, vocab, None, keys, domains=("drug", "procedure"))
        parts.append(
            ev.select(
                "person_id",
                group=ibis.literal(group, type="string"),
                index_set="concept_set",
                start_date="start_date",
            )
        )
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def _first(table: ir.Table) -> ir.Table:
    w = ibis.window(group_by=["person_id", "group"], order_by=["start_date", "index_set"])
    ranked = table.mutate(_rn=ibis.row_number().over(w))
    return ranked.filter(ranked._rn == 0).select(
        "person_id", "group", "index_set", index_date="start_date"
    )


def _entry_steps(source: CdmSource, spec: StudySpec, vocab: Vocabulary) -> list[_Step]:
    records = _entry_records(source, spec, vocab)
    start, end = spec.study_period.start, spec.study_period.end
    period = (ibis.literal(start), ibis.literal(end))
    steps = [_Step("records", "records of the group's index concept sets", table=records)]
    if spec.entry.first_exposure == "ever":
        first = _first(records)
        first = first.filter(first.index_date.between(*period))
        step, reason = "first_ever_in_period", f"first-ever record in {start}..{end}"
        steps.append(_Step(step, reason, frame=_rows(source, first)))
    else:
        kept = records.filter(records.start_date.between(*period))
        reason = f"records in the study period {start}..{end}"
        steps.append(_Step("in_period", reason, table=kept))
        first_rows = _rows(source, _first(kept))
        steps.append(
            _Step("first_per_person", "first record per person = index date", frame=first_rows)
        )
    if not spec.entry.allow_multiple_groups:
        frame = steps[-1].frame
        assert frame is not None
        order = {g: i for i, g in enumerate(spec.index_groups)}
        ranked = frame.assign(_g=frame["group"].map(order))
        ranked = ranked.sort_values(["person_id", "index_date", "_g"], kind="mergesort")
        only = ranked.drop_duplicates("person_id").drop(columns="_g")
        steps.append(
            _Step("first_index_drug", "only the group of the first index drug", frame=only)
        )
    return steps


def _observation_step(source: CdmSource, current: ir.Table) -> ir.Table:
    op = rows_for_persons(source, "observation_period", current)
    needed = ["person_id", "observation_period_start_date", "observation_period_end_date"]
    missing = [c for c in needed if c not in op.columns]
    if missing:
        raise CdmSchemaError(f"table 'observation_period' lacks column(s) {missing}")
    op = op.select(
        op_person=op.person_id.cast("int64"),
        obs_start=op.observation_period_start_date.cast("date"),
        obs_end=op.observation_period_end_date.cast("date"),
    )
    j = current.join(
        op,
        (current.person_id == op.op_person)
        & (op.obs_start <= current.index_date)
        & (op.obs_end >= current.index_date),
    ).drop("op_person")
    # Overlapping periods break the CDM rules; keep the longest so each row stays unique.
    w = ibis.window(group_by=["person_id", "group"], order_by=[ibis.desc("obs_end"), "obs_start"])
    j = j.mutate(_rn=ibis.row_number().over(w))
    return j.filter(j._rn == 0).drop("_rn")


def _with_age(source: CdmSource, current: ir.Table, persons: ir.Table) -> ir.Table:
    """Add ``gender_concept_id`` and ``age_at_index`` to ``current``.

    ``persons`` is a plain table holding the persons of ``current``: checking that the kept
    person rows cover them then does not repeat the query of ``current``.
    """
    person = rows_for_persons(source, "person", persons)
    if "year_of_birth" not in person.columns:
        raise CdmSchemaError("table 'person' lacks column 'year_of_birth'")

    def col(name: str) -> ir.IntegerValue:
        return (person[name] if name in person.columns else ibis.null()).cast("int64")

    p = person.select(
        p_person=person.person_id.cast("int64"),
        gender_concept_id=col("gender_concept_id").fill_null(0),
        _by=col("year_of_birth"),
        # A missing month or day counts as January or the 1st (the OHDSI PatientProfiles rule).
        _bm=col("month_of_birth").fill_null(1),
        _bd=col("day_of_birth").fill_null(1),
    )
    j = current.left_join(p, current.person_id == p.p_person).drop("p_person")
    idx = j.index_date
    before_birthday = (idx.month() < j._bm) | ((idx.month() == j._bm) & (idx.day() < j._bd))
    age = idx.year().cast("int64") - j._by - ibis.ifelse(before_birthday, 1, 0)
    return j.mutate(age_at_index=age).drop("_by", "_bm", "_bd")


def _with_event(
    source: CdmSource,
    vocab: Vocabulary,
    frame: pd.DataFrame,
    keys: list[str],
    window: Window,
    *,
    keep: bool,
) -> pd.DataFrame:
    """Keep (or drop) the rows of ``frame`` with a record of ``keys`` in ``window``."""
    current = _engine(frame)
    hits = has_event(source, vocab, current, keys, window)
    joined = (
        current.semi_join(hits, ["person_id", "group"])
        if keep
        else current.anti_join(hits, ["person_id", "group"])
    )
    out = _rows(source, joined)
    return out[list(frame.columns)]


def _resolved(spec: StudySpec, ref: CohortRef) -> CohortRef:
    """Return the reference with its Circe file resolved against the spec file's folder."""
    if ref.circe is None:
        return ref
    return ref.model_copy(update={"circe": spec.resolve(ref.circe)})


def _without_cohort(
    source: CdmSource, frame: pd.DataFrame, ref: CohortRef, window: Window
) -> pd.DataFrame:
    """Drop the rows of ``frame`` whose person has a cohort row starting in ``window``."""
    current = _engine(frame)
    rows = cohort_rows(source, ref).select(c_person="person_id", c_date="start_date")
    j = current.join(rows, current.person_id == rows.c_person)
    j = j.filter(in_window(offset_days(j.c_date, j.index_date), window))
    hits = j.select("person_id", "group").distinct()
    out = _rows(source, current.anti_join(hits, ["person_id", "group"]))
    return out[list(frame.columns)]


def _inclusion_steps(
    source: CdmSource, spec: StudySpec, vocab: Vocabulary, entry: pd.DataFrame
) -> list[_Step]:
    inc = spec.inclusion
    entered = _engine(entry)
    current = _rows(source, _with_age(source, _observation_step(source, entered), entered))
    reason = "an observation period holds the index date"
    steps = [_Step("observation_period", reason, frame=current)]
    if inc.min_prior_observation_days > 0:
        n = inc.min_prior_observation_days
        prior = (current["index_date"] - current["obs_start"]).dt.days
        current = current[prior >= n].reset_index(drop=True)
        steps.append(_Step("prior_observation", f">= {n} days of prior observation", frame=current))
    if inc.diagnosis is not None:
        diag = inc.diagnosis
        current = _with_event(source, vocab, current, diag.concept_sets, diag.window, keep=True)
        text = f"{'/'.join(diag.concept_sets)} in {_window_text(diag.window)}"
        steps.append(_Step("diagnosis", text, frame=current))
    if inc.age.min is not None or inc.age.max is not None:
        age = current["age_at_index"].astype("float64")
        cond = age.notna()
        if inc.age.min is not None:
            cond &= age >= inc.age.min
        if inc.age.max is not None:
            cond &= age <= inc.age.max
        current = current[cond.to_numpy()].reset_index(drop=True)
        reason = f"age at index in [{inc.age.min}, {inc.age.max}]"
        steps.append(_Step("age", reason, frame=current))
    for j, exc in enumerate(inc.exclusions):
        if exc.cohort is not None:
            current = _without_cohort(source, current, _resolved(spec, exc.cohort), exc.window)
            label = exc.name or f"cohort {describe(exc.cohort)}"
            text = f"no entry of {label} starting in {_window_text(exc.window)}"
            steps.append(_Step(f"exclusion_{j + 1}", text, frame=current))
            continue
        current = _with_event(source, vocab, current, exc.concept_sets, exc.window, keep=False)
        label = exc.name or "/".join(exc.concept_sets)
        text = f"no {label} in {_window_text(exc.window)}"
        steps.append(_Step(f"exclusion_{j + 1}", text, frame=current))
    return steps


def _count_steps(source: CdmSource, spec: StudySpec, steps: list[_Step]) -> pd.DataFrame:
    # The large steps (all records of the index sets) are counted by one aggregate query; the
    # cohort-sized ones are already executed.
    aggs = [
        step.table.group_by("group").agg(
            number=ibis.literal(number, type="int64"),
            n_records=step.table.count(),
            n_persons=step.table.person_id.nunique(),
        )
        for number, step in enumerate(steps)
        if step.table is not None
    ]
    found: dict[tuple[str, int], tuple[int, int]] = {}
    if aggs:
        counts = source.execute(ibis.union(*aggs, distinct=False) if len(aggs) > 1 else aggs[0])
        for g, n, r, p in zip(
            counts["group"], counts["number"], counts["n_records"], counts["n_persons"], strict=True
        ):
            found[(str(g), int(n))] = (int(r), int(p))
    for number, step in enumerate(steps):
        if step.frame is not None:
            grouped = step.frame.groupby("group")["person_id"]
            sizes, persons = grouped.size(), grouped.nunique()
            for g in sizes.index:
                found[(str(g), number)] = (int(sizes[g]), int(persons[g]))
    rows = []
    for number, step in enumerate(steps):
        for group in spec.index_groups:
            n_rec, n_per = found.get((group, number), (0, 0))
            rows.append((group, number, step.step, step.reason, n_rec, n_per))
    out = pd.DataFrame(
        rows, columns=["group", "number", "step", "reason", "n_records", "n_persons"]
    )
    out = out.sort_values(["group", "number"], key=_group_order(spec), kind="mergesort")
    out["n_excluded"] = (-out.groupby("group")["n_persons"].diff()).fillna(0).astype("int64")
    for _, row in out.iterrows():
        log.info(
            "attrition %s step %s (%s): %d persons, %d excluded",
            row["group"],
            row["step"],
            row["reason"],
            row["n_persons"],
            row["n_excluded"],
        )
    return out[list(ATTRITION_COLUMNS)].reset_index(drop=True)


def _group_order(spec: StudySpec) -> Callable[[pd.Series], pd.Series]:
    order = {g: i for i, g in enumerate(spec.index_groups)}

    def key(column: pd.Series) -> pd.Series:
        return column.map(order) if column.name == "group" else column

    return key


def _set_keys(vocab: Vocabulary, keys: Sequence[str]) -> frozenset[str]:
    return frozenset(cs.key for cs in expand_keys(vocab, keys)) if keys else frozenset()


def line_roles(spec: StudySpec, vocab: Vocabulary) -> LineRoles:
    """Resolve the role lists of ``patterns.lines`` (keys or groups) to set keys."""
    lines = spec.patterns.lines
    return LineRoles(
        gap_exempt=_set_keys(vocab, lines.gap_exempt),
        allowed_additions=_set_keys(vocab, lines.allowed_additions),
        line_defining=_set_keys(vocab, lines.line_defining),
        lymphodepletion=_set_keys(vocab, lines.lymphodepletion),
        transplant=_set_keys(vocab, lines.transplant),
        line_defining_label=lines.line_defining[0] if lines.line_defining else "line_defining",
        transplant_label=lines.transplant[0] if lines.transplant else "transplant",
    )


def line_event_keys(spec: StudySpec) -> list[str]:
    """Keys (sets or groups) whose records are the events of the line-of-therapy algorithm.

    Every therapy class, the index groups' sets, lymphodepletion and transplant sets; supportive
    drugs (corticosteroids) are not anticancer events.
    """
    keys: dict[str, None] = {}
    for class_keys in spec.patterns.therapy_classes.values():
        keys.update(dict.fromkeys(class_keys))
    for group_keys in spec.index_groups.values():
        keys.update(dict.fromkeys(group_keys))
    lines = spec.patterns.lines
    keys.update(dict.fromkeys([*lines.lymphodepletion, *lines.transplant, *lines.line_defining]))
    return list(keys)


def line_inputs(
    source: CdmSource, spec: StudySpec, vocab: Vocabulary, persons: ir.Table
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Execute the anticancer events and disease-status records the line rules need.

    Returns
    -------
    events : pandas.DataFrame
        ``person_id, concept_set, start_date, end_date``.
    status : pandas.DataFrame
        ``person_id, date, kind`` (``"remission"`` or ``"rr"``).
    """
    ev = concept_events(
        source, vocab, persons, line_event_keys(spec), domains=("drug", "procedure")
    )
    events = source.execute(ev.select("person_id", "concept_set", "start_date", "end_date"))
    parts = []
    remission = [*spec.setting.remission_evidence, *spec.setting.mrd_evidence]
    for kind, keys in (("remission", remission), ("rr", spec.classification.rr_evidence)):
        if keys:
            st = concept_events(source, vocab, persons, keys)
            parts.append(
                st.select("person_id", date="start_date", kind=ibis.literal(kind, type="string"))
            )
    if parts:
        status = source.execute(parts[0] if len(parts) == 1 else ibis.union(*parts))
    else:
        status = pd.DataFrame(columns=["person_id", "date", "kind"])
    return events, status


def cohort_line_inputs(
    source: CdmSource, vocab: Vocabulary, cohort: Cohort
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return :func:`line_inputs` of the cohort's persons, kept ones when read with ``vocab``."""
    kept = cohort.line_records
    if kept is not None and kept.vocab is vocab:
        return kept.events, kept.status
    return line_inputs(source, cohort.spec, vocab, cohort.persons_table())


def _lines_at_index(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    status: pd.DataFrame,
    spec: StudySpec,
    roles: LineRoles,
) -> tuple[list[int | None], pd.DataFrame]:
    assigned = assign_lines(
        events,
        spec.patterns.lines,
        roles,
        status=status,
    )
    keys = zip(frame["person_id"], frame["index_set"], frame["index_date"], strict=True)
    return line_at(assigned, keys), assigned


def _finish(
    source: CdmSource, spec: StudySpec, vocab: Vocabulary, raw: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, LineRecords]:
    frame = raw.copy()
    for column in ("index_date", "obs_start", "obs_end"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    persons = small_table(frame[["person_id"]].drop_duplicates(), {"person_id": "int64"})
    events, status = line_inputs(source, spec, vocab, persons)
    lines, assigned = _lines_at_index(frame, events, status, spec, line_roles(spec, vocab))
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
    steps = _entry_steps(source, spec, vocab)
    entry = steps[-1].frame
    assert entry is not None
    steps += _inclusion_steps(source, spec, vocab, entry)
    attrition = _count_steps(source, spec, steps)
    last = steps[-1].frame
    assert last is not None
    if last.empty:
        return _empty_cohort(source, spec, attrition)
    raw = _rows(source, status_flags(source, spec, vocab, _engine(last)))
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
