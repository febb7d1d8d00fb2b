"""The index treatment of each cohort row: its end, duration, cycles and duration buckets.

Definitions (docs/treatment-patterns.md):

* **index treatment**: the records of the group's own concept sets from the index date on that
  form the first *era* (records joined while ``next_start - latest_end <= era_gap_days``), or,
  with ``patterns.index_treatment_end: line``, those in the line of therapy of the index date.
  Its **end** is the latest end date of those records.
* **treatment duration**: ``end - index_date + 1`` days (first to last treated day, both
  counted; a single dose lasts 1 day).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from allrwe.analyses.therapy._inputs import TherapyInputs, days, eras, to_dates
from allrwe.analyses.therapy._tables import categorical, continuous
from allrwe.analyses.therapy.cycles import assign_cycles

__all__ = ["duration_bucket", "index_records", "index_treatments", "treatment_duration"]


def _group_events(inputs: TherapyInputs, group: str) -> pd.DataFrame:
    ev = inputs.events
    return ev[ev["concept_set"].isin(inputs.group_sets[group])]


def _first_era_end(ev: pd.DataFrame, gap: int) -> pd.DataFrame:
    """Per (person_id, group): end of the first era of records sorted by start."""
    ev = eras(ev, ["person_id", "group"], "start", "end", gap)
    first = ev[ev["_era"] == 0]
    return first.groupby(["person_id", "group"], as_index=False).agg(
        index_end=("end", "max"), n_records=("start", "size")
    )


def _index_records(inputs: TherapyInputs) -> pd.DataFrame:
    parts = []
    cohort = inputs.cohort[["person_id", "group", "index_date"]]
    for group in inputs.spec.index_groups:
        ev = _group_events(inputs, group)
        rows = ev.merge(cohort[cohort["group"] == group], on="person_id")
        parts.append(rows[days(rows["start_date"]) >= days(rows["index_date"])])
    if not parts:
        return pd.DataFrame(columns=["person_id", "group", "concept_set", "start", "end"])
    rec = pd.concat(parts, ignore_index=True)
    rec["start"], rec["end"] = days(rec["start_date"]), days(rec["end_date"])
    return rec


def _line_records(inputs: TherapyInputs, rec: pd.DataFrame) -> pd.DataFrame:
    lines = inputs.lines[["person_id", "concept_set", "start_date", "end_date", "line"]].copy()
    lines["start"], lines["end"] = days(lines["start_date"]), days(lines["end_date"])
    lines = lines.drop(columns=["start_date", "end_date"])
    rec = rec.merge(lines, on=["person_id", "concept_set", "start", "end"], how="left")
    at = inputs.cohort[["person_id", "group", "line_at_index"]]
    rec = rec.merge(at, on=["person_id", "group"])
    return rec[rec["line"] == rec["line_at_index"]]


def index_records(inputs: TherapyInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the records of each cohort row's index treatment, and its end.

    Returns
    -------
    records : pandas.DataFrame
        ``person_id, group, concept_set, start_date, end_date, start, end`` (day numbers) of
        the records that make up the index treatment (the first era, or the index line).
    ends : pandas.DataFrame
        ``person_id, group, index_end, n_records`` (``index_end`` a day number).
    """
    rec = _index_records(inputs)
    if inputs.spec.patterns.index_treatment_end == "line" and not rec.empty:
        rec = _line_records(inputs, rec)
        ends = rec.groupby(["person_id", "group"], as_index=False).agg(
            index_end=("end", "max"), n_records=("start", "size")
        )
    elif not rec.empty:
        ends = _first_era_end(rec, inputs.spec.patterns.era_gap_days)
        rec = rec.merge(ends[["person_id", "group", "index_end"]], on=["person_id", "group"])
        rec = rec[rec["start"] <= rec["index_end"]]
    else:
        ends = pd.DataFrame(columns=["person_id", "group", "index_end", "n_records"])
    return rec, ends


def index_treatments(inputs: TherapyInputs) -> pd.DataFrame:
    """Return the index treatment of every cohort row, with its end, duration and cycles.

    Returns
    -------
    pandas.DataFrame
        The cohort columns plus ``index_end`` (date), ``duration_days``, ``n_records`` and
        ``n_cycles`` (by the cycle rule of the index set; 0 when the set has no rule).
    """
    rec, ends = index_records(inputs)
    out = inputs.cohort.merge(ends, on=["person_id", "group"], how="left")
    idx = days(out["index_date"])
    end = out["index_end"].to_numpy(dtype="float64")
    end = np.where(np.isnan(end), idx, end).astype("int64")
    out["index_end"] = to_dates(end)
    out["duration_days"] = end - idx + 1
    out["n_records"] = out["n_records"].fillna(0).astype("int64")
    out["n_cycles"] = _cycles_per_row(inputs, rec, out)
    return out


def _cycles_per_row(inputs: TherapyInputs, rec: pd.DataFrame, out: pd.DataFrame) -> np.ndarray:
    n_cycles = np.zeros(len(out), dtype="int64")
    if rec.empty:
        return n_cycles
    found: list[pd.DataFrame] = []
    for (group, cset), part in rec.groupby(["group", "concept_set"], sort=True):
        rule = inputs.cycle_rules.get(str(cset))
        if rule is None:
            continue
        cyc = assign_cycles(part, rule)
        counted = cyc.groupby("person_id", as_index=False)["cycle"].max()
        found.append(counted.assign(group=group))
    if not found:
        return n_cycles
    per = pd.concat(found).groupby(["person_id", "group"], as_index=False)["cycle"].max()
    merged = out[["person_id", "group"]].merge(per, on=["person_id", "group"], how="left")
    return merged["cycle"].fillna(0).astype("int64").to_numpy()


def _bucket_labels(edges: Sequence[float]) -> list[str]:
    labels, low = [], None
    for e in edges:
        labels.append(f"<={e:g}" if low is None else f"{low + 1:g}-{e:g}")
        low = e
    return [*labels, f">{edges[-1]:g}"]


def duration_bucket(duration_days: pd.Series, edges: Sequence[float]) -> pd.Series:
    """Label each duration with its bucket (``<=14``, ``15-28``, ``>28`` by default)."""
    labels = _bucket_labels(edges)
    idx = np.searchsorted(np.asarray(edges, dtype="float64"), duration_days.to_numpy(), "left")
    return pd.Series(np.asarray(labels, dtype=object)[idx], index=duration_days.index)


def treatment_duration(
    inputs: TherapyInputs, *, treatments: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Duration of the index treatment: summary statistics and buckets per group.

    Returns
    -------
    summary : pandas.DataFrame
        :data:`~allrwe.analyses.therapy._tables.CONTINUOUS_COLUMNS` of ``duration_days``.
    buckets : pandas.DataFrame
        Persons per duration bucket (``variable = "duration_bucket"``).
    """
    tr = index_treatments(inputs) if treatments is None else treatments
    summary = continuous(
        tr, variable="duration_days", column="duration_days", groups=inputs.spec.index_groups
    )
    edges = inputs.spec.patterns.duration_buckets
    tr = tr.assign(duration_bucket=duration_bucket(tr["duration_days"], edges).to_numpy())
    buckets = categorical(
        tr,
        variable="duration_bucket",
        column="duration_bucket",
        levels=_bucket_labels(edges),
        groups=inputs.spec.index_groups,
    )
    return summary, buckets
