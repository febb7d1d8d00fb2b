"""Treatment pathways of the cohort (TreatmentPatterns semantics) and their result records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.pathways import PathwayResult, compute_pathways
from allrwe.analyses.patterns import PatternInputs
from allrwe.results import percentage_records
from allrwe.spec import StudySpec
from allrwe.study.adapters import concat_records, drop_single_member_margins, pool_rare

__all__ = ["compute_group_pathways", "pathway_records", "settings_of"]


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


def compute_group_pathways(inputs: PatternInputs) -> dict[str, PathwayResult | None]:
    """Treatment pathways from the index date to the end of observation, per index group.

    Events are the therapy classes of ``patterns.therapy_classes``; classes made only of
    transplant sets (``patterns.lines.transplant``) are exit events. Settings are
    TreatmentPatterns' defaults except ``era_collapse_days`` (``patterns.era_gap_days``).

    Returns
    -------
    dict of str to PathwayResult or None
        ``None`` for a group with no person.
    """
    spec = inputs.spec
    events = _therapy_events(inputs)
    exits = _exit_classes(spec, inputs)
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
        out[group] = compute_pathways(
            mine,
            targets,
            era_collapse_days=spec.patterns.era_gap_days,
            exit_names=exits,
        )
    return out


def pathway_records(
    results: Mapping[str, PathwayResult | None], *, min_cell_count: int = 1
) -> pd.DataFrame:
    """Persons per pathway (untreated as ``"None"``) with percentages, per group.

    Pathways of fewer than ``min_cell_count`` persons are pooled (:func:`pool_rare`); the
    pathways of a group add up to its persons (a margin).
    """
    parts = []
    for group, result in results.items():
        if result is None:
            continue
        counts = result.count_pathways(include_none=True)
        if counts.empty:
            continue
        total = int(counts["n_persons"].sum())
        table = pd.DataFrame(
            {
                "group": group,
                "variable": "pathway",
                "variable_level": counts["pathway"].astype(str),
                "count": counts["n_persons"].to_numpy(dtype="int64"),
            }
        )
        table = pool_rare(
            table,
            keys=["group", "variable"],
            level="variable_level",
            count="count",
            min_cell_count=min_cell_count,
        )
        records = percentage_records(table, analysis="pathways", denominator=total)
        parts.append(drop_single_member_margins(records))
    return concat_records(parts)


def settings_of(result: PathwayResult | None) -> dict[str, Any]:
    """Return the settings of a pathway result (for the methods section), or ``{}``."""
    return dict(result.settings) if result is not None else {}
