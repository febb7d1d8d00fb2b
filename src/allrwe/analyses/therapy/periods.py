"""Prior and subsequent therapy of each cohort row, by therapy class.

Definitions (docs/treatment-patterns.md):

* **prior therapy** of a class: a record of the class starting before the index date (within
  ``windows.prior_lookback_days`` when set).
* **subsequent therapy** of a class: a record starting after the index treatment ends (within
  ``windows.subsequent_followup_days`` when set, and not after the observation period), other
  than the group's own index sets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from allrwe.analyses.therapy._inputs import TherapyInputs, days, eras
from allrwe.analyses.therapy._tables import percent
from allrwe.analyses.therapy.index import index_treatments

__all__ = [
    "OTHER_NOVEL_AGENT",
    "prior_therapy",
    "subsequent_therapy",
    "therapy_by_person",
    "unrecorded_rows",
]

#: Level name of "any novel agent other than the group's own".
OTHER_NOVEL_AGENT = "other_novel_agent"


def _era_starts(events: pd.DataFrame, gap: int) -> np.ndarray:
    """Start day of the era (same set, records joined across gaps <= ``gap``) of each event."""
    ev = events.assign(_s=days(events["start_date"]), _e=days(events["end_date"]))
    ev = eras(ev, ["person_id", "concept_set"], "_s", "_e", gap)
    era_start = ev.groupby(["person_id", "concept_set", "_era"])["_s"].transform("min")
    return era_start.reindex(events.index).to_numpy(dtype="int64")


def _repeat_lists(
    codes: np.ndarray, lists: Sequence[Sequence[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Pair each row with every item of its list, in row then item order.

    Parameters
    ----------
    codes : numpy.ndarray
        Per row, the position of its list in ``lists``; ``-1`` for none (no pair).
    lists : sequence of sequence of str
        The lists.

    Returns
    -------
    rows : numpy.ndarray
        The row position of each pair.
    items : numpy.ndarray
        The item of each pair (object array).
    """
    lists = [*lists, ()]  # code -1 picks this empty last list
    sizes = np.array([len(items) for items in lists], dtype="int64")
    flat = np.array([item for items in lists for item in items], dtype=object)
    counts = sizes[codes]
    rows = np.repeat(np.arange(len(codes)), counts)
    within = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    first = np.cumsum(sizes) - sizes
    return rows, flat[first[codes[rows]] + within]


def _class_rows(inputs: TherapyInputs, events: pd.DataFrame) -> pd.DataFrame:
    """Explode events into one row per therapy class.

    Lymphodepleting chemotherapy attached to a line-defining infusion (CAR-T) takes the class
    of that infusion, so a CAR-T's fludarabine is not counted as chemotherapy.
    """
    keys = list(inputs.set_classes)
    lists = [inputs.set_classes[k] for k in keys]
    codes = pd.Categorical(events["concept_set"], categories=keys).codes.astype("int64")
    ld_classes = tuple(
        dict.fromkeys(c for k in inputs.roles.line_defining for c in inputs.set_classes.get(k, ()))
    )
    if ld_classes and "line_defining" in inputs.lines:
        on = ["person_id", "concept_set", "start_date", "end_date"]
        flags = inputs.lines[[*on, "line_defining"]].drop_duplicates(on)
        flagged = events[on].merge(flags, on=on, how="left")["line_defining"]
        attached = (
            flagged.fillna(False).astype(bool).to_numpy()
            & events["concept_set"].isin(inputs.roles.lymphodepletion).to_numpy()
        )
        codes = np.where(attached, len(lists), codes)
        lists.append(ld_classes)
    rows, classes = _repeat_lists(codes, lists)
    return events.iloc[rows].assign(therapy_class=classes)


def _own_sets(inputs: TherapyInputs, frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's concept set is one of the index sets of its row's group."""
    own = np.zeros(len(frame), dtype=bool)
    for group, sets in inputs.group_sets.items():
        own |= ((frame["group"] == group) & frame["concept_set"].isin(sets)).to_numpy()
    return own


def therapy_by_person(
    inputs: TherapyInputs, treatments: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Return, per cohort row, the prior and subsequent events with their class and timing.

    A record is *prior* when it starts before the index date (within the prior lookback). It is
    *subsequent* when it starts after the index treatment ends and belongs to an era of its
    concept set (records joined across gaps of at most ``patterns.era_gap_days``) that also
    starts after the end: a TKI or maintenance drug that simply continues through the index
    treatment is not a subsequent therapy.

    Returns
    -------
    pandas.DataFrame
        ``person_id, group, concept_set, therapy_class, start_date, end_date, period``
        (``"prior"`` or ``"subsequent"``), ``days_from_index``.
    """
    tr = index_treatments(inputs) if treatments is None else treatments
    spec = inputs.spec
    events = inputs.events.assign(era_start=_era_starts(inputs.events, spec.patterns.era_gap_days))
    ev = _class_rows(inputs, events)
    cols = ["person_id", "group", "index_date", "index_end", "obs_end"]
    m = ev.merge(tr[cols], on="person_id")
    start, idx, end = days(m["start_date"]), days(m["index_date"]), days(m["index_end"])
    prior = start < idx
    if spec.windows.prior_lookback_days is not None:
        prior &= start >= idx - spec.windows.prior_lookback_days
    after = (start > end) & (m["era_start"].to_numpy() > end) & ~_own_sets(inputs, m)
    if "obs_end" in m and m["obs_end"].notna().all():
        after &= start <= days(m["obs_end"])
    if spec.windows.subsequent_followup_days is not None:
        after &= start <= end + spec.windows.subsequent_followup_days
    m = m.assign(period=np.where(prior, "prior", np.where(after, "subsequent", "")))
    m = m[m["period"] != ""].copy()
    m["days_from_index"] = days(m["start_date"]) - days(m["index_date"])
    keep = ["person_id", "group", "concept_set", "therapy_class", "start_date", "end_date"]
    return m[[*keep, "period", "days_from_index"]].reset_index(drop=True)


def _class_levels(inputs: TherapyInputs) -> list[str]:
    return [*inputs.spec.patterns.therapy_classes, OTHER_NOVEL_AGENT, "any"]


def _other_novel(inputs: TherapyInputs, group: str) -> set[str]:
    own = inputs.group_sets[group]
    novel = set()
    for cname in inputs.spec.patterns.novel_agent_classes:
        class_sets = {k for k, cl in inputs.set_classes.items() if cname in cl}
        if not class_sets & own:
            novel.add(cname)
    return novel


def _level_classes(level: str, other: set[str]) -> set[str] | None:
    """Therapy classes a level of the period tables counts (``None``: any class)."""
    if level == OTHER_NOVEL_AGENT:
        return other
    return None if level == "any" else {level}


def _has_class(persons: np.ndarray, rows: pd.DataFrame, classes: set[str] | None) -> np.ndarray:
    """Whether each person has a row of ``rows`` of one of ``classes`` (``None``: any)."""
    if classes is not None:
        rows = rows[rows["therapy_class"].isin(classes)]
    return np.isin(persons, rows["person_id"].to_numpy())


def _period_table(
    inputs: TherapyInputs, therapy: pd.DataFrame, period: str, variable: str, by: Sequence[str]
) -> pd.DataFrame:
    sub = therapy[therapy["period"] == period]
    rows = []
    cohort = inputs.cohort
    for group in inputs.spec.index_groups:
        persons = cohort[cohort["group"] == group]
        gsub = sub.loc[sub["group"] == group, ["person_id", "therapy_class"]].drop_duplicates()
        other = _other_novel(inputs, group)
        ids = persons["person_id"].to_numpy()
        for level in _class_levels(inputs):
            if level in inputs.unrecorded_classes:
                continue  # not available (unrecorded_rows), never 0 %
            hit = _has_class(ids, gsub, _level_classes(level, other))
            part = persons[list(by)].assign(hit=hit) if by else None
            if by and part is not None:
                for stratum, grp in part.groupby(list(by), sort=True):
                    key = stratum if isinstance(stratum, tuple) else (stratum,)
                    rows.append((group, *key, variable, level, int(grp["hit"].sum()), len(grp)))
            else:
                rows.append((group, variable, level, int(hit.sum()), len(persons)))
    out = pd.DataFrame(rows, columns=["group", *by, "variable", "level", "n", "denominator"])
    out["percentage"] = percent(out["n"], out["denominator"])
    return out


def unrecorded_rows(inputs: TherapyInputs, variable: str) -> pd.DataFrame:
    """``group, variable, level`` of the classes the CDM holds no record of, per group.

    Their rows of the prior and subsequent therapy and destination tables are left out and
    reported as "not available" instead (docs/cdm-conventions.md: present in the CDM).
    """
    order = [c for c in inputs.spec.patterns.therapy_classes if c in inputs.unrecorded_classes]
    rows = [(g, variable, c) for g in inputs.spec.index_groups for c in order]
    return pd.DataFrame(rows, columns=["group", "variable", "level"])


def prior_therapy(
    inputs: TherapyInputs, *, therapy: pd.DataFrame | None = None, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Persons with prior therapy of each class, per group (seed 000: 81.4 % / 78.4 % chemo).

    Levels are the therapy classes, ``other_novel_agent`` (a novel-agent class other than the
    group's own) and ``any``; the denominator is the group (and ``by`` stratum) size.
    """
    th = therapy_by_person(inputs) if therapy is None else therapy
    return _period_table(inputs, th, "prior", "prior_therapy", by)


def subsequent_therapy(
    inputs: TherapyInputs, *, therapy: pd.DataFrame | None = None, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Persons with subsequent therapy of each class, per group (seed 000: 60.8 % / 58.8 %)."""
    th = therapy_by_person(inputs) if therapy is None else therapy
    return _period_table(inputs, th, "subsequent", "subsequent_therapy", by)
