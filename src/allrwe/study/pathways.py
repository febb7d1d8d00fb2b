"""Treatment pathways of the cohort (TreatmentPatterns semantics) and their result records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes.strata import OVERALL, age_band_labels
from allrwe.analyses.pathways import PathwayResult, compute_pathways, count_pathways
from allrwe.analyses.patterns import PatternInputs
from allrwe.results import percentage_records
from allrwe.spec import (
    TP_DEFAULTS,
    CycleRule,
    DoseScheduleCycles,
    InfusionCycles,
    SingleCycles,
    StudySpec,
)
from allrwe.study.adapters import concat_records, drop_single_member_margins, pool_rare

__all__ = [
    "compute_group_pathways",
    "course_days",
    "group_settings",
    "pathway_records",
    "pathway_strata",
    "settings_of",
]

_SEX = {8507: "male", 8532: "female"}


def _class_table(set_classes: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """One row per concept-set key and therapy class, with the class's rank within its key."""
    pairs = [
        (key, rank, name) for key, names in set_classes.items() for rank, name in enumerate(names)
    ]
    return pd.DataFrame(pairs, columns=["concept_set", "_rank", "name"])


def _therapy_events(inputs: PatternInputs) -> pd.DataFrame:
    """Return one row per event and therapy class of its concept set, in event then class order.

    Returns
    -------
    pandas.DataFrame
        ``person_id, name, start_date, end_date``; events of a set without a class are left out.
    """
    ev = inputs.events[["person_id", "concept_set", "start_date", "end_date"]]
    ev = ev.assign(_row=np.arange(len(ev)))
    classes = _class_table(inputs.set_classes)
    rows = ev.merge(classes, on="concept_set").sort_values(["_row", "_rank"], kind="mergesort")
    return rows[["person_id", "name", "start_date", "end_date"]].reset_index(drop=True)


def _exit_classes(spec: StudySpec, inputs: PatternInputs) -> list[str]:
    transplant = set(spec.patterns.lines.transplant)
    classes: dict[str, set[str]] = {}
    for key, names in inputs.set_classes.items():
        for name in names:
            classes.setdefault(name, set()).add(key)
    return sorted(c for c, keys in classes.items() if keys and keys <= transplant)


def course_days(rule: CycleRule, spec: StudySpec) -> int | None:
    """Return the duration (``end − start``) of one complete course under a cycle rule.

    A continuous infusion (blinatumomab) runs ``safety.complete_infusion_days`` days (28:
    ``end − start`` = 27); a day 1/8/15 schedule (inotuzumab) spans ``7 × (max_doses − 1)``
    days (14); a single administration (CAR-T) lasts 0 days. The generic gap rule has no
    course length (None).
    """
    if isinstance(rule, InfusionCycles):
        return spec.safety.complete_infusion_days - 1
    if isinstance(rule, DoseScheduleCycles):
        return 7 * (rule.max_doses - 1)
    if isinstance(rule, SingleCycles):
        return 0
    return None


def _index_classes(inputs: PatternInputs, group: str) -> list[str]:
    keys = inputs.group_sets.get(group, frozenset())
    return sorted({c for key in keys for c in inputs.set_classes.get(key, ())})


def group_settings(inputs: PatternInputs, group: str) -> dict[str, Any]:
    """Return the :func:`compute_pathways` settings of one index group from ``spec.pathways``.

    ``combination_window_days`` and ``min_post_combination_days`` left at ``null`` are the
    shortest complete course (:func:`course_days`) of the group's index drugs, or
    TreatmentPatterns' 30 days when none has a cycle rule; ``era_collapse_days`` left at
    ``null`` is ``patterns.era_gap_days``. With ``keep_index`` the group's index classes are
    ``keep_names``.
    """
    spec = inputs.spec
    p = spec.pathways
    keys = inputs.group_sets.get(group, frozenset())
    courses = [
        d
        for key in sorted(keys)
        if key in inputs.cycle_rules
        and (d := course_days(inputs.cycle_rules[key], spec)) is not None
    ]
    course = min(courses) if courses else None

    def day_setting(value: int | None, name: str) -> int:
        if value is not None:
            return value
        return course if course is not None else int(TP_DEFAULTS[name])

    era = p.era_collapse_days if p.era_collapse_days is not None else spec.patterns.era_gap_days
    return {
        "min_era_days": p.min_era_days,
        "era_collapse_days": era,
        "combination_window_days": day_setting(
            p.combination_window_days, "combination_window_days"
        ),
        "min_post_combination_days": day_setting(
            p.min_post_combination_days, "min_post_combination_days"
        ),
        "filter": p.filter,
        "max_path_length": p.max_path_length,
        "overlap": p.overlap,
        "window_start_days": p.window_start_days,
        "window_end_days": p.window_end_days,
        "exit_names": _exit_classes(spec, inputs),
        "split_names": list(p.split_event_cohorts),
        "split_days": p.split_time_days,
        "keep_names": _index_classes(inputs, group) if p.keep_index else [],
    }


def compute_group_pathways(inputs: PatternInputs) -> dict[str, PathwayResult | None]:
    """Treatment pathways from the index date to the end of observation, per index group.

    Events are the therapy classes of ``patterns.therapy_classes``; classes made only of
    transplant sets (``patterns.lines.transplant``) are exit events. Settings come from
    ``spec.pathways`` (:func:`group_settings`).

    Returns
    -------
    dict of str to PathwayResult or None
        ``None`` for a group with no person.
    """
    spec = inputs.spec
    events = _therapy_events(inputs)
    out: dict[str, PathwayResult | None] = {}
    for group in spec.index_groups:
        rows = inputs.cohort[inputs.cohort["group"] == group]
        if rows.empty:
            out[group] = None
            continue
        targets = pd.DataFrame(
            {
                "person_id": rows["person_id"].to_numpy(dtype="int64"),
                "start_date": rows["index_date"].to_numpy(),
                "end_date": np.maximum(rows["obs_end"].to_numpy(), rows["index_date"].to_numpy()),
            }
        )
        mine = events[events["person_id"].isin(targets["person_id"])]
        out[group] = compute_pathways(mine, targets, **group_settings(inputs, group))
    return out


def pathway_strata(cohort: pd.DataFrame, spec: StudySpec) -> pd.DataFrame:
    """Return ``group, person_id`` and a column per ``spec.pathways.by`` stratum.

    ``age_band`` uses ``spec.age_bands`` (the labels of every other table), ``sex`` the
    gender concept (8507 male, 8532 female), ``index_year`` the year of the index date.
    """
    out = cohort[["group", "person_id"]].copy()
    for name in spec.pathways.by:
        if name == "age_band":
            out[name] = age_band_labels(cohort["age_at_index"], spec.age_bands).to_numpy()
        elif name == "sex":
            out[name] = cohort["gender_concept_id"].map(_SEX).fillna("unknown").to_numpy()
        else:
            out[name] = pd.to_datetime(cohort["index_date"]).dt.year.astype(str).to_numpy()
    return out.drop_duplicates(["group", "person_id"])


def pathway_records(
    results: Mapping[str, PathwayResult | None],
    *,
    min_cell_count: int = 1,
    strata: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Persons per pathway (untreated as ``"None"``) with percentages, per group and stratum.

    Pathways of fewer than ``min_cell_count`` persons are pooled (:func:`pool_rare`); the
    pathways of a group (or of one stratum level) add up to its persons (a margin).
    ``strata`` (:func:`pathway_strata`) adds the same counts within each level of each of its
    stratum columns.
    """
    parts = []
    for group, result in results.items():
        if result is None:
            continue
        patients = result.patients
        cuts: list[tuple[str, str, pd.DataFrame]] = [(OVERALL, OVERALL, patients)]
        if strata is not None:
            mine = strata[strata["group"] == group].drop(columns="group")
            joined = patients.merge(mine, on="person_id", how="left")
            for name in [c for c in mine.columns if c != "person_id"]:
                levels = joined[name].fillna("unknown").astype(str)
                for level in sorted(set(levels)):
                    cuts.append((name, level, joined[levels == level]))
        for strata_name, strata_level, rows in cuts:
            counts = count_pathways(rows, include_none=True)
            if counts.empty:
                continue
            parts.append(_counts_records(counts, group, strata_name, strata_level, min_cell_count))
    return concat_records(parts)


def _counts_records(
    counts: pd.DataFrame, group: str, strata_name: str, strata_level: str, min_cell_count: int
) -> pd.DataFrame:
    total = int(counts["n_persons"].sum())
    table = pd.DataFrame(
        {
            "group": group,
            "strata_name": strata_name,
            "strata_level": strata_level,
            "variable": "pathway",
            "variable_level": counts["pathway"].astype(str),
            "count": counts["n_persons"].to_numpy(dtype="int64"),
        }
    )
    table = pool_rare(
        table,
        keys=["group", "strata_name", "strata_level", "variable"],
        level="variable_level",
        count="count",
        min_cell_count=min_cell_count,
    )
    records = percentage_records(table, analysis="pathways", denominator=total)
    return drop_single_member_margins(records)


def settings_of(result: PathwayResult | None) -> dict[str, Any]:
    """Return the settings of a pathway result (for the methods section), or ``{}``."""
    return dict(result.settings) if result is not None else {}
