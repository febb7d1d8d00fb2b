"""Index treatment, prior and subsequent therapy, destinations and sequences between agents.

Definitions (docs/treatment-patterns.md):

* **index treatment**: the records of the group's own concept sets from the index date on that
  form the first *era* (records joined while ``next_start - latest_end <= era_gap_days``), or,
  with ``patterns.index_treatment_end: line``, those in the line of therapy of the index date.
  Its **end** is the latest end date of those records.
* **treatment duration**: ``end - index_date + 1`` days (first to last treated day, both
  counted; a single dose lasts 1 day).
* **prior therapy** of a class: a record of the class starting before the index date (within
  ``windows.prior_lookback_days`` when set).
* **subsequent therapy** of a class: a record starting after the index treatment ends (within
  ``windows.subsequent_followup_days`` when set, and not after the observation period), other
  than the group's own index sets.
* **destination**: the class of the first subsequent record (ties broken by the order of
  ``patterns.therapy_classes``), or ``"none"``.
* **sequence A→B**: a person of group A with a subsequent record of group B's sets. Reported
  against two denominators: all persons of A, and those of A with any subsequent therapy (the
  denominator that reproduces seed 000's 20.3 % and 10.5 %).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from allrwe.analyses.patterns._inputs import PatternInputs, days, to_dates
from allrwe.analyses.patterns._tables import categorical, continuous, percent
from allrwe.analyses.patterns.cycles import assign_cycles

__all__ = [
    "DESTINATION_STRATA",
    "OTHER_NOVEL_AGENT",
    "destination_strata",
    "destination_table",
    "index_treatments",
    "prior_therapy",
    "sequences",
    "subsequent_therapy",
    "therapy_by_person",
    "treatment_duration",
    "unrecorded_rows",
]

#: Level name of "any novel agent other than the group's own".
OTHER_NOVEL_AGENT = "other_novel_agent"


def _group_events(inputs: PatternInputs, group: str) -> pd.DataFrame:
    ev = inputs.events
    return ev[ev["concept_set"].isin(inputs.group_sets[group])]


def _first_era_end(ev: pd.DataFrame, gap: int) -> pd.DataFrame:
    """Per (person_id, group): end of the first era of records sorted by start."""
    ev = ev.sort_values(["person_id", "group", "start", "end"], kind="mergesort")
    key = [ev["person_id"], ev["group"]]
    prev_end = ev.groupby(key)["end"].cummax().groupby(key).shift(1)
    breaks = (ev["start"] - prev_end > gap).fillna(False).astype("int64")
    ev = ev.assign(_era=breaks.groupby(key).cumsum())
    first = ev[ev["_era"] == 0]
    return first.groupby(["person_id", "group"], as_index=False).agg(
        index_end=("end", "max"), n_records=("start", "size")
    )


def _index_records(inputs: PatternInputs) -> pd.DataFrame:
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


def _line_records(inputs: PatternInputs, rec: pd.DataFrame) -> pd.DataFrame:
    lines = inputs.lines[["person_id", "concept_set", "start_date", "end_date", "line"]].copy()
    lines["start"], lines["end"] = days(lines["start_date"]), days(lines["end_date"])
    lines = lines.drop(columns=["start_date", "end_date"])
    rec = rec.merge(lines, on=["person_id", "concept_set", "start", "end"], how="left")
    at = inputs.cohort[["person_id", "group", "line_at_index"]]
    rec = rec.merge(at, on=["person_id", "group"])
    return rec[rec["line"] == rec["line_at_index"]]


def index_treatments(inputs: PatternInputs) -> pd.DataFrame:
    """Return the index treatment of every cohort row, with its end, duration and cycles.

    Returns
    -------
    pandas.DataFrame
        The cohort columns plus ``index_end`` (date), ``duration_days``, ``n_records`` and
        ``n_cycles`` (by the cycle rule of the index set; 0 when the set has no rule).
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
    out = inputs.cohort.merge(ends, on=["person_id", "group"], how="left")
    idx = days(out["index_date"])
    end = out["index_end"].to_numpy(dtype="float64")
    end = np.where(np.isnan(end), idx, end).astype("int64")
    out["index_end"] = to_dates(end)
    out["duration_days"] = end - idx + 1
    out["n_records"] = out["n_records"].fillna(0).astype("int64")
    out["n_cycles"] = _cycles_per_row(inputs, rec, out)
    return out


def _cycles_per_row(inputs: PatternInputs, rec: pd.DataFrame, out: pd.DataFrame) -> np.ndarray:
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


def _era_starts(events: pd.DataFrame, gap: int) -> np.ndarray:
    """Start day of the era (same set, records joined across gaps <= ``gap``) of each event."""
    ev = events.assign(_s=days(events["start_date"]), _e=days(events["end_date"]))
    ev = ev.sort_values(["person_id", "concept_set", "_s", "_e"], kind="mergesort")
    key = [ev["person_id"], ev["concept_set"]]
    prev_end = ev.groupby(key)["_e"].cummax().groupby(key).shift(1)
    new = (ev["_s"] - prev_end > gap) | prev_end.isna()
    era = new.astype("int64").groupby(key).cumsum()
    era_start = ev.groupby([ev["person_id"], ev["concept_set"], era])["_s"].transform("min")
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


def _class_rows(inputs: PatternInputs, events: pd.DataFrame) -> pd.DataFrame:
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


def _own_sets(inputs: PatternInputs, frame: pd.DataFrame) -> np.ndarray:
    """Whether each row's concept set is one of the index sets of its row's group."""
    own = np.zeros(len(frame), dtype=bool)
    for group, sets in inputs.group_sets.items():
        own |= ((frame["group"] == group) & frame["concept_set"].isin(sets)).to_numpy()
    return own


def therapy_by_person(
    inputs: PatternInputs, treatments: pd.DataFrame | None = None
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


def _class_levels(inputs: PatternInputs) -> list[str]:
    return [*inputs.spec.patterns.therapy_classes, OTHER_NOVEL_AGENT, "any"]


def _other_novel(inputs: PatternInputs, group: str) -> set[str]:
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
    inputs: PatternInputs, therapy: pd.DataFrame, period: str, variable: str, by: Sequence[str]
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


def unrecorded_rows(inputs: PatternInputs, variable: str) -> pd.DataFrame:
    """``group, variable, level`` of the classes the CDM holds no record of, per group.

    Their rows of the prior and subsequent therapy and destination tables are left out and
    reported as "not available" instead (docs/cdm-conventions.md: present in the CDM).
    """
    order = [c for c in inputs.spec.patterns.therapy_classes if c in inputs.unrecorded_classes]
    rows = [(g, variable, c) for g in inputs.spec.index_groups for c in order]
    return pd.DataFrame(rows, columns=["group", "variable", "level"])


def prior_therapy(
    inputs: PatternInputs, *, therapy: pd.DataFrame | None = None, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Persons with prior therapy of each class, per group (seed 000: 81.4 % / 78.4 % chemo).

    Levels are the therapy classes, ``other_novel_agent`` (a novel-agent class other than the
    group's own) and ``any``; the denominator is the group (and ``by`` stratum) size.
    """
    th = therapy_by_person(inputs) if therapy is None else therapy
    return _period_table(inputs, th, "prior", "prior_therapy", by)


def subsequent_therapy(
    inputs: PatternInputs, *, therapy: pd.DataFrame | None = None, by: Sequence[str] = ()
) -> pd.DataFrame:
    """Persons with subsequent therapy of each class, per group (seed 000: 60.8 % / 58.8 %)."""
    th = therapy_by_person(inputs) if therapy is None else therapy
    return _period_table(inputs, th, "subsequent", "subsequent_therapy", by)


def _destinations(inputs: PatternInputs, therapy: pd.DataFrame, tr: pd.DataFrame) -> pd.Series:
    order = {c: i for i, c in enumerate(inputs.spec.patterns.therapy_classes)}
    sub = therapy[therapy["period"] == "subsequent"].copy()
    sub["_order"] = sub["therapy_class"].map(order)
    sub = sub.sort_values(["person_id", "group", "start_date", "_order"], kind="mergesort")
    first = sub.drop_duplicates(["person_id", "group"])
    m = tr[["person_id", "group"]].merge(
        first[["person_id", "group", "therapy_class"]], on=["person_id", "group"], how="left"
    )
    return m["therapy_class"].fillna("none").astype(str)


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


def destination_table(
    inputs: PatternInputs,
    *,
    treatments: pd.DataFrame | None = None,
    therapy: pd.DataFrame | None = None,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """Destination after the index treatment, by duration bucket and by number of cycles.

    Returns
    -------
    pandas.DataFrame
        ``group, *by, variable, subgroup, level, n, denominator, percentage`` with ``variable``
        ``"destination_by_duration"`` (subgroups = duration buckets), ``"destination_by_cycles"``
        (subgroups = cycle counts) or ``"destination"`` (subgroup ``"all"``); the denominator
        is the persons of the subgroup.
    """
    tr = index_treatments(inputs) if treatments is None else treatments
    th = therapy_by_person(inputs, tr) if therapy is None else therapy
    tr = tr.assign(
        destination=_destinations(inputs, th, tr).to_numpy(),
        duration_bucket=duration_bucket(
            tr["duration_days"], inputs.spec.patterns.duration_buckets
        ).to_numpy(),
        cycles=tr["n_cycles"].astype(str),
        all="all",
    )
    classes = inputs.spec.patterns.therapy_classes
    levels = [*(c for c in classes if c not in inputs.unrecorded_classes), "none"]
    parts = []
    for variable, column in (
        ("destination", "all"),
        ("destination_by_duration", "duration_bucket"),
        ("destination_by_cycles", "cycles"),
    ):
        t = categorical(
            tr,
            variable=variable,
            column="destination",
            levels=levels,
            groups=inputs.spec.index_groups,
            by=[*by, column],
        )
        parts.append(t.rename(columns={column: "subgroup"}))
    cols = ["group", *by, "variable", "subgroup", "level", "n", "denominator", "percentage"]
    return pd.concat(parts, ignore_index=True)[cols]


#: cohort columns the destinations may also be cut by (seed 001 Fig. 1: ND and R/R apart)
DESTINATION_STRATA = ("setting", "treatment_setting")


def destination_strata(
    inputs: PatternInputs,
    strata: Sequence[str],
    *,
    treatments: pd.DataFrame | None = None,
    therapy: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Destinations within each level of the cohort strata ``strata`` (seed 001 Fig. 1).

    Only the ``"destination"`` table is cut: destination by duration or cycles within a
    stratum is a three-way table whose small cells complementary suppression can protect only
    by hiding it whole (seed 001 on a 600-patient synthetic CDM), so it is not produced.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`destination_table` plus ``stratum`` (its name); ``subgroup`` is
        the stratum's level (``"ND"``). Empty without strata.
    """
    tr = index_treatments(inputs) if treatments is None else treatments
    th = therapy_by_person(inputs, tr) if therapy is None else therapy
    parts = []
    for name in [s for s in dict.fromkeys(strata) if s in DESTINATION_STRATA and s in tr]:
        frame = tr.assign(**{name: tr[name].fillna("unknown").astype(str)})
        t = destination_table(inputs, treatments=frame, therapy=th, by=[name])
        t = t[t["variable"] == "destination"].copy()
        t["subgroup"] = t[name].astype(str)
        parts.append(t.drop(columns=[name]).assign(stratum=name))
    if not parts:
        return pd.DataFrame(columns=["group", "variable", "subgroup", "level", "n", "denominator",
                                     "percentage", "stratum"])  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def sequences(inputs: PatternInputs, *, therapy: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sequences between index agents (A→B: a subsequent record of B's sets in group A).

    Returns
    -------
    pandas.DataFrame
        ``group, variable, level, n, denominator, percentage, denominator_definition``: for each
        ordered pair two rows, against the group size (``"group"``) and against the persons
        with any subsequent therapy (``"with subsequent therapy"``).
    """
    th = therapy_by_person(inputs) if therapy is None else therapy
    sub = th[th["period"] == "subsequent"]
    rows = []
    for a in inputs.spec.index_groups:
        persons = inputs.cohort.loc[inputs.cohort["group"] == a, "person_id"]
        sub_a = sub[sub["group"] == a]
        treated = sub_a["person_id"].nunique()
        for b in inputs.spec.index_groups:
            if a == b:
                continue
            b_sets = inputs.group_sets[b] - inputs.group_sets[a]
            n = sub_a.loc[sub_a["concept_set"].isin(b_sets), "person_id"].nunique()
            level = f"{a}->{b}"
            rows.append((a, "sequence", level, n, persons.nunique(), "group"))
            rows.append((a, "sequence", level, n, treated, "with subsequent therapy"))
    cols = ["group", "variable", "level", "n", "denominator", "denominator_definition"]
    out = pd.DataFrame(rows, columns=cols)
    out["percentage"] = percent(out["n"], out["denominator"])
    return out[[*cols[:5], "percentage", "denominator_definition"]]


def treatment_duration(
    inputs: PatternInputs, *, treatments: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Duration of the index treatment: summary statistics and buckets per group.

    Returns
    -------
    summary : pandas.DataFrame
        :data:`~allrwe.analyses.patterns._tables.CONTINUOUS_COLUMNS` of ``duration_days``.
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
