"""The cohort's entry and inclusion steps (1–9 of :mod:`allrwe.cohort.build`), counted.

Each step is a query on the previous one's rows: the first two touch every record of the index
sets and are counted by one aggregate query in the engine; from the first record per person
on, each step's rows (one per person and group) are executed and sent back to the engine as a
small table for the next step's joins (:func:`count_steps` gives the attrition).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from allrwe.cohort.events import concept_events
from allrwe.cohort.external import cohort_rows, describe
from allrwe.cohort.model import (
    ATTRITION_COLUMNS,
    small_table,
)
from allrwe.cohort.status import (
    Window,
    has_event,
    in_window,
    offset_days,
)
from allrwe.errors import CdmSchemaError, StudySpecError
from allrwe.io.kept import rows_for_persons
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import CohortRef, StudySpec

__all__ = ["Step", "count_steps", "engine_table", "entry_steps", "executed", "inclusion_steps"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
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


def executed(source: CdmSource, expr: ir.Table) -> pd.DataFrame:
    """Execute a cohort-sized expression; dates become ``datetime64[s]``."""
    frame = source.execute(expr)
    for column in _DATES:
        if column in frame:
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[s]")
    if "person_id" in frame:
        frame["person_id"] = frame["person_id"].astype("int64")
    return frame.reset_index(drop=True)


def engine_table(frame: pd.DataFrame) -> ir.Table:
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


def entry_steps(source: CdmSource, spec: StudySpec, vocab: Vocabulary) -> list[Step]:
    """Return steps 1–3 (and 4): index records, in the period, first per person and group."""
    records = _entry_records(source, spec, vocab)
    start, end = spec.study_period.start, spec.study_period.end
    period = (ibis.literal(start), ibis.literal(end))
    steps = [Step("records", "records of the group's index concept sets", table=records)]
    if spec.entry.first_exposure == "ever":
        first = _first(records)
        first = first.filter(first.index_date.between(*period))
        step, reason = "first_ever_in_period", f"first-ever record in {start}..{end}"
        steps.append(Step(step, reason, frame=executed(source, first)))
    else:
        kept = records.filter(records.start_date.between(*period))
        reason = f"records in the study period {start}..{end}"
        steps.append(Step("in_period", reason, table=kept))
        first_rows = executed(source, _first(kept))
        steps.append(
            Step("first_per_person", "first record per person = index date", frame=first_rows)
        )
    if not spec.entry.allow_multiple_groups:
        frame = steps[-1].frame
        assert frame is not None
        order = {g: i for i, g in enumerate(spec.index_groups)}
        ranked = frame.assign(_g=frame["group"].map(order))
        ranked = ranked.sort_values(["person_id", "index_date", "_g"], kind="mergesort")
        only = ranked.drop_duplicates("person_id").drop(columns="_g")
        steps.append(Step("first_index_drug", "only the group of the first index drug", frame=only))
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
    current = engine_table(frame)
    hits = has_event(source, vocab, current, keys, window)
    joined = (
        current.semi_join(hits, ["person_id", "group"])
        if keep
        else current.anti_join(hits, ["person_id", "group"])
    )
    out = executed(source, joined)
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
    current = engine_table(frame)
    rows = cohort_rows(source, ref).select(c_person="person_id", c_date="start_date")
    j = current.join(rows, current.person_id == rows.c_person)
    j = j.filter(in_window(offset_days(j.c_date, j.index_date), window))
    hits = j.select("person_id", "group").distinct()
    out = executed(source, current.anti_join(hits, ["person_id", "group"]))
    return out[list(frame.columns)]


def inclusion_steps(
    source: CdmSource, spec: StudySpec, vocab: Vocabulary, entry: pd.DataFrame
) -> list[Step]:
    """Return steps 5–9: observation, prior observation, diagnosis, age, exclusions."""
    inc = spec.inclusion
    entered = engine_table(entry)
    current = executed(source, _with_age(source, _observation_step(source, entered), entered))
    reason = "an observation period holds the index date"
    steps = [Step("observation_period", reason, frame=current)]
    if inc.min_prior_observation_days > 0:
        n = inc.min_prior_observation_days
        prior = (current["index_date"] - current["obs_start"]).dt.days
        current = current[prior >= n].reset_index(drop=True)
        steps.append(Step("prior_observation", f">= {n} days of prior observation", frame=current))
    if inc.diagnosis is not None:
        diag = inc.diagnosis
        current = _with_event(source, vocab, current, diag.concept_sets, diag.window, keep=True)
        text = f"{'/'.join(diag.concept_sets)} in {_window_text(diag.window)}"
        steps.append(Step("diagnosis", text, frame=current))
    if inc.age.min is not None or inc.age.max is not None:
        age = current["age_at_index"].astype("float64")
        cond = age.notna()
        if inc.age.min is not None:
            cond &= age >= inc.age.min
        if inc.age.max is not None:
            cond &= age <= inc.age.max
        current = current[cond.to_numpy()].reset_index(drop=True)
        reason = f"age at index in [{inc.age.min}, {inc.age.max}]"
        steps.append(Step("age", reason, frame=current))
    for j, exc in enumerate(inc.exclusions):
        if exc.cohort is not None:
            current = _without_cohort(source, current, _resolved(spec, exc.cohort), exc.window)
            label = exc.name or f"cohort {describe(exc.cohort)}"
            text = f"no entry of {label} starting in {_window_text(exc.window)}"
            steps.append(Step(f"exclusion_{j + 1}", text, frame=current))
            continue
        current = _with_event(source, vocab, current, exc.concept_sets, exc.window, keep=False)
        label = exc.name or "/".join(exc.concept_sets)
        text = f"no {label} in {_window_text(exc.window)}"
        steps.append(Step(f"exclusion_{j + 1}", text, frame=current))
    return steps


def count_steps(source: CdmSource, spec: StudySpec, steps: list[Step]) -> pd.DataFrame:
    """Return the attrition table: records, persons and persons excluded after each step."""
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
