"""The cohort's pathways: each index group's settings and :func:`compute_pathways` call.

The day settings left at ``null`` take the group's index drug's course (docs/pathways.md);
the events are the therapy-pattern inputs' records, classed as in the therapy tables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.entry import CdmRows
from allrwe.analyses.pathways.pipeline import compute_pathways
from allrwe.analyses.pathways.result import PathwayResult
from allrwe.analyses.therapy import TherapyInputs
from allrwe.cohort import Cohort
from allrwe.spec import (
    TP_DEFAULTS,
    CycleRule,
    DoseScheduleCycles,
    InfusionCycles,
    SingleCycles,
    StudySpec,
)

__all__ = [
    "analyse_pathways",
    "compute_group_pathways",
    "course_days",
    "group_settings",
    "settings_of",
]


def _class_table(set_classes: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """One row per concept-set key and therapy class, with the class's rank within its key."""
    pairs = [
        (key, rank, name) for key, names in set_classes.items() for rank, name in enumerate(names)
    ]
    return pd.DataFrame(pairs, columns=["concept_set", "_rank", "name"])


def _therapy_events(inputs: TherapyInputs) -> pd.DataFrame:
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


def _exit_classes(spec: StudySpec, inputs: TherapyInputs) -> list[str]:
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


def _index_classes(inputs: TherapyInputs, group: str) -> list[str]:
    keys = inputs.group_sets.get(group, frozenset())
    return sorted({c for key in keys for c in inputs.set_classes.get(key, ())})


def group_settings(inputs: TherapyInputs, group: str) -> dict[str, Any]:
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


def compute_group_pathways(inputs: TherapyInputs) -> dict[str, PathwayResult | None]:
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


def settings_of(result: PathwayResult | None) -> dict[str, Any]:
    """Return the settings of a pathway result (for the methods section), or ``{}``."""
    return dict(result.settings) if result is not None else {}


def analyse_pathways(
    cohort: Cohort, spec: StudySpec, rows: CdmRows, *, therapy: TherapyInputs
) -> dict[str, PathwayResult | None]:
    """Each index group's pathways (the entry point, :mod:`allrwe.analyses.entry`).

    Parameters
    ----------
    cohort : Cohort
        The study cohort.
    spec : StudySpec
        The resolved spec; the pathways read its ``pathways`` and ``patterns`` sections
        through the therapy inputs, built from ``cohort`` with this spec.
    rows : CdmRows
        The kept rows: the pathways need none beyond the therapy inputs' events.
    therapy : TherapyInputs
        The therapy-pattern inputs (:func:`allrwe.analyses.therapy.analyse_therapy`).
    """
    return compute_group_pathways(therapy)
