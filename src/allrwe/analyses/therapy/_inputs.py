"""The one engine round trip of the pattern analyses, and the pure-pandas inputs it yields.

:func:`prepare_inputs` executes, for the cohort's persons only, the anticancer events (drug
exposures and procedures of every therapy class and index set) and the disease-status records;
every pattern function then works on the small :class:`TherapyInputs` in pandas.
:func:`inputs_from_frames` builds the same object from hand-made frames (tests, saved data).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from allrwe.cohort import (
    Cohort,
    LineRoles,
    assign_lines,
    cohort_line_inputs,
    expand_keys,
    line_roles,
    recorded_sets,
)
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import CycleRule, StudySpec

__all__ = [
    "TherapyInputs",
    "days",
    "eras",
    "inputs_from_frames",
    "prepare_inputs",
    "unrecorded_classes",
]

_EPOCH = np.datetime64("1970-01-01", "D")


def days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Return dates as int64 day numbers (days since 1970-01-01)."""
    arr = pd.to_datetime(pd.Series(values)).to_numpy().astype("datetime64[D]")
    return (arr - _EPOCH).astype("int64")


def eras(frame: pd.DataFrame, key: list[str], start: str, end: str, gap: int) -> pd.DataFrame:
    """Return ``frame`` sorted with its eras numbered: the one era rule of the pattern analyses.

    Within each ``key``, records sorted by ``start`` then ``end`` (day numbers) join the era of
    the records before them when they start at most ``gap`` days (``patterns.era_gap_days``)
    after the latest end so far; otherwise they open the next era. ``_era`` numbers the eras
    of each key from 0.
    """
    ev = frame.sort_values([*key, start, end], kind="mergesort")
    prev_end = ev.groupby(key)[end].cummax().groupby([ev[k] for k in key]).shift(1)
    breaks = (ev[start] - prev_end > gap).astype("int64")  # the first record: NaN, no break
    return ev.assign(_era=breaks.groupby([ev[k] for k in key]).cumsum())


def to_dates(day_numbers: np.ndarray | pd.Series) -> np.ndarray:
    """Return int day numbers as ``datetime64[s]`` dates."""
    return (np.asarray(day_numbers, dtype="int64").astype("timedelta64[D]") + _EPOCH).astype(
        "datetime64[s]"
    )


@dataclass(frozen=True)
class TherapyInputs:
    """Everything the pattern analyses need, executed and small.

    Attributes
    ----------
    cohort : pandas.DataFrame
        The cohort frame (:attr:`allrwe.cohort.Cohort.frame`).
    events : pandas.DataFrame
        Anticancer events of the cohort's persons: ``person_id, concept_set, start_date,
        end_date`` (all history), one row per distinct record span.
    lines : pandas.DataFrame
        The events with their line of therapy (:func:`allrwe.cohort.assign_lines`).
    spec : StudySpec
        The study specification.
    set_classes : dict of str to tuple of str
        Therapy classes of each concept-set key (``patterns.therapy_classes``, expanded).
    group_sets : dict of str to frozenset of str
        The concept-set keys of each index group.
    cycle_rules : dict of str to CycleRule
        The cycle rule of each concept-set key (``patterns.cycles``, expanded).
    roles : LineRoles
        The line-rule roles of the set keys.
    unrecorded_classes : frozenset of str
        Therapy classes none of whose sets the CDM holds a record of, for anyone (a claims
        extract without transplant codes: ``hsct``); their prior and subsequent therapy and
        destination rows are "not available", never 0 %.
    """

    cohort: pd.DataFrame
    events: pd.DataFrame
    lines: pd.DataFrame
    spec: StudySpec
    set_classes: dict[str, tuple[str, ...]]
    group_sets: dict[str, frozenset[str]]
    cycle_rules: dict[str, CycleRule]
    roles: LineRoles
    unrecorded_classes: frozenset[str] = frozenset()

    @property
    def group_sizes(self) -> dict[str, int]:
        """Persons per group, for every group of the spec (0 when empty)."""
        counts = self.cohort.groupby("group")["person_id"].nunique()
        return {g: int(counts.get(g, 0)) for g in self.spec.index_groups}


def _mappings(
    spec: StudySpec, vocab: Vocabulary
) -> tuple[dict[str, tuple[str, ...]], dict[str, frozenset[str]], dict[str, CycleRule]]:
    set_classes: dict[str, list[str]] = {}
    for cname, keys in spec.patterns.therapy_classes.items():
        for cs in expand_keys(vocab, keys):
            set_classes.setdefault(cs.key, []).append(cname)
    group_sets = {
        g: frozenset(cs.key for cs in expand_keys(vocab, keys))
        for g, keys in spec.index_groups.items()
    }
    rules: dict[str, CycleRule] = {}
    for key, rule in spec.patterns.cycles.items():
        for cs in expand_keys(vocab, key):
            rules.setdefault(cs.key, rule)
    return {k: tuple(v) for k, v in set_classes.items()}, group_sets, rules


def _clean_events(events: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "person_id": events["person_id"].to_numpy(dtype="int64"),
            "concept_set": events["concept_set"].astype(str).to_numpy(),
            "start_date": to_dates(days(events["start_date"])),
            "end_date": to_dates(np.maximum(days(events["end_date"]), days(events["start_date"]))),
        }
    )
    out = out.drop_duplicates().sort_values(["person_id", "start_date", "end_date", "concept_set"])
    return out.reset_index(drop=True)


def inputs_from_frames(
    cohort: pd.DataFrame,
    events: pd.DataFrame,
    spec: StudySpec,
    vocab: Vocabulary,
    *,
    status: pd.DataFrame | None = None,
    lines: pd.DataFrame | None = None,
) -> TherapyInputs:
    """Build :class:`TherapyInputs` from executed frames (no database).

    Parameters
    ----------
    cohort : pandas.DataFrame
        Cohort rows with at least ``person_id, group, index_date, index_set, obs_end``.
    events : pandas.DataFrame
        ``person_id, concept_set, start_date, end_date`` of anticancer events.
    spec : StudySpec
        The study specification.
    vocab : Vocabulary
        Concept sets in force (to expand groups).
    status : pandas.DataFrame, optional
        ``person_id, date, kind`` disease-status records for the line rules.
    lines : pandas.DataFrame, optional
        Precomputed :func:`~allrwe.cohort.assign_lines` output; computed when omitted.
    """
    set_classes, group_sets, rules = _mappings(spec, vocab)
    roles = line_roles(spec, vocab)
    ev = _clean_events(events)
    if lines is None or lines.empty:
        lines = assign_lines(
            ev,
            spec.patterns.lines,
            roles,
            status=status,
        )
    frame = cohort.copy()
    for column in ("index_date", "obs_start", "obs_end"):
        if column in frame:
            frame[column] = to_dates(days(frame[column]))
    return TherapyInputs(
        cohort=frame.reset_index(drop=True),
        events=ev,
        lines=lines,
        spec=spec,
        set_classes=set_classes,
        group_sets=group_sets,
        cycle_rules=rules,
        roles=roles,
    )


def prepare_inputs(source: CdmSource, vocab: Vocabulary, cohort: Cohort) -> TherapyInputs:
    """Execute the anticancer events and status records of the cohort's persons.

    Parameters
    ----------
    source : CdmSource
        The CDM the cohort was built on.
    vocab : Vocabulary
        Concept sets in force.
    cohort : Cohort
        The study cohort.

    Returns
    -------
    TherapyInputs
    """
    events, status = cohort_line_inputs(source, vocab, cohort)
    lines = cohort.lines if not cohort.lines.empty else None
    inputs = inputs_from_frames(
        cohort.frame, events, cohort.spec, vocab, status=status, lines=lines
    )
    return dataclasses.replace(
        inputs, unrecorded_classes=unrecorded_classes(source, vocab, cohort.spec)
    )


def unrecorded_classes(source: CdmSource, vocab: Vocabulary, spec: StudySpec) -> frozenset[str]:
    """Return the therapy classes of ``spec`` none of whose sets the CDM holds a record of."""
    classes = spec.patterns.therapy_classes
    keys = list(dict.fromkeys(k for ks in classes.values() for k in ks))
    if not keys:
        return frozenset()
    recorded = recorded_sets(source, vocab, keys)
    return frozenset(
        name
        for name, ks in classes.items()
        if not any(recorded.get(cs.key, False) for cs in expand_keys(vocab, ks))
    )
