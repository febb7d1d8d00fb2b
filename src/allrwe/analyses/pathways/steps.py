"""The rules of a treatment pathway, one small pure function per TreatmentPatterns step.

Every step takes a *history* frame and returns a new one plus an :class:`AttritionRow`. A
history has one row per treatment piece: ``person_id``, ``target`` (the target episode number,
1 for everyone when episodes are concatenated), ``name``, ``start`` and ``end`` (days since
1970-01-01) and ``duration`` (days, ``end − start`` with no +1, as in TreatmentPatterns).

Rows are always ordered by person, target, start, end and name; the name breaks the ties that
TreatmentPatterns breaks by cohort id, so the result never depends on input row order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.pathways.combination import combination_iteration, combine_names
from allrwe.analyses.pathways.history import (
    ACUTE,
    EPISODE,
    HISTORY_COLUMNS,
    THERAPY,
    AttritionRow,
    attrition,
    kept_rows,
    ordered,
    with_duration,
)

__all__ = [
    "HISTORY_COLUMNS",
    "AttritionRow",
    "append_exits",
    "apply_window",
    "combination_iteration",
    "combine_names",
    "cut_path_length",
    "era_collapse",
    "filter_treatments",
    "kept_rows",
    "min_era_duration",
    "number_target_episodes",
    "restrict_to_target_persons",
    "split_acute_therapy",
    "split_exits",
]


def restrict_to_target_persons(
    targets: pd.DataFrame, events: pd.DataFrame
) -> tuple[pd.DataFrame, AttritionRow]:
    """Keep the events of persons who have at least one target episode.

    Parameters
    ----------
    targets : pandas.DataFrame
        Target episodes (``person_id, start, end``).
    events : pandas.DataFrame
        Event records (``person_id, name, start, end``).

    Returns
    -------
    events : pandas.DataFrame
        The events of persons with a target.
    attrition : AttritionRow
        Target plus event records, and persons with a target.
    """
    kept = events[events["person_id"].isin(targets["person_id"])].reset_index(drop=True)
    row = AttritionRow(
        "Target and event records of persons with a target",
        len(targets) + len(kept),
        int(targets["person_id"].nunique()),
    )
    return kept, row


def min_era_duration(
    targets: pd.DataFrame,
    events: pd.DataFrame,
    *,
    min_days: int,
    keep: frozenset[str] = frozenset(),
) -> tuple[pd.DataFrame, pd.DataFrame, AttritionRow]:
    """Drop target and event records lasting fewer than ``min_days`` (``end − start``).

    Parameters
    ----------
    targets, events : pandas.DataFrame
        Target episodes and event records with ``start`` and ``end`` day numbers.
    min_days : int
        TreatmentPatterns' ``minEraDuration``: the shortest record kept, in days. A one-day
        record lasts 0 days, so any value above 0 drops single-day events such as a CAR-T
        infusion.
    keep : frozenset of str, default empty
        Event names never dropped by this filter (see :func:`kept_rows`).

    Returns
    -------
    targets, events : pandas.DataFrame
        The records that last at least ``min_days``; events only of persons still having a
        target.
    attrition : AttritionRow
        Target plus event records, and persons with a target.
    """
    targets = targets[targets["end"] - targets["start"] >= min_days].reset_index(drop=True)
    long_enough = (events["end"] - events["start"] >= min_days).to_numpy()
    events = events[long_enough | kept_rows(events["name"], keep)]
    events = events[events["person_id"].isin(targets["person_id"])].reset_index(drop=True)
    row = AttritionRow(
        f"Minimum era duration (min_era_days={min_days})",
        len(targets) + len(events),
        int(targets["person_id"].nunique()),
    )
    return targets, events, row


def number_target_episodes(
    targets: pd.DataFrame,
    *,
    start_anchor: str,
    window_start_days: int,
    end_anchor: str,
    window_end_days: int,
    concat_targets: bool,
) -> pd.DataFrame:
    """Give each target episode its number and observation window.

    Parameters
    ----------
    targets : pandas.DataFrame
        Target episodes (``person_id, start, end``).
    start_anchor, end_anchor : {"start_date", "end_date"}
        Which target date each window bound counts from.
    window_start_days, window_end_days : int
        Days added to the anchors: index = start anchor + ``window_start_days``, window end =
        end anchor + ``window_end_days``.
    concat_targets : bool
        If True every episode of a person gets number 1, so one pathway runs across them;
        otherwise episodes are numbered 1, 2, … by start and end date.

    Returns
    -------
    pandas.DataFrame
        ``person_id, target, index, window_end`` (day numbers), one row per episode.
    """
    ordered = targets.sort_values(["person_id", "start", "end"], kind="mergesort")
    ordered = ordered.reset_index(drop=True)
    if concat_targets:
        number = np.ones(len(ordered), dtype="int64")
    else:
        number = ordered.groupby("person_id", sort=False).cumcount().to_numpy() + 1
    anchor = {"start_date": ordered["start"], "end_date": ordered["end"]}
    return pd.DataFrame(
        {
            "person_id": ordered["person_id"].to_numpy(),
            "target": number.astype("int64"),
            "index": (anchor[start_anchor] + window_start_days).to_numpy(),
            "window_end": (anchor[end_anchor] + window_end_days).to_numpy(),
        }
    )


def apply_window(
    episodes: pd.DataFrame, events: pd.DataFrame, *, reason: str
) -> tuple[pd.DataFrame, AttritionRow]:
    """Keep the events that start inside a target window, whole (nothing is clipped).

    An event belongs to an episode when ``index ≤ event start ≤ window end``; only the start
    date counts, so an event running past the window keeps its own end date. An event inside
    two windows of one concatenated pathway is kept once.

    Parameters
    ----------
    episodes : pandas.DataFrame
        Output of :func:`number_target_episodes`.
    events : pandas.DataFrame
        Event records (``person_id, name, start, end``).
    reason : str
        Attrition text describing the window.

    Returns
    -------
    history : pandas.DataFrame
        A history frame (see the module docstring).
    attrition : AttritionRow
        Event records and persons left.
    """
    joined = events.merge(episodes, on="person_id", how="inner")
    inside = (joined["index"] <= joined["start"]) & (joined["start"] <= joined["window_end"])
    history = joined.loc[inside, ["person_id", "target", "name", "start", "end"]]
    history = ordered(with_duration(history.drop_duplicates()))
    return history, attrition(reason, history)


def split_exits(history: pd.DataFrame, exit_names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set exit events apart: they skip era collapse, combination and filtering.

    Parameters
    ----------
    history : pandas.DataFrame
        A history frame.
    exit_names : list of str
        Names of exit events (e.g. ``["HSCT"]``).

    Returns
    -------
    events, exits : pandas.DataFrame
        The treatment rows and the exit rows.
    """
    is_exit = history["name"].isin(exit_names).to_numpy()
    return (
        history[~is_exit].reset_index(drop=True),
        history[is_exit].reset_index(drop=True),
    )


def split_acute_therapy(
    history: pd.DataFrame, *, names: list[str], split_days: int
) -> tuple[pd.DataFrame, AttritionRow]:
    """Rename each whole era of ``names`` as acute (shorter than ``split_days``) or therapy.

    TreatmentPatterns' ``splitEventCohorts`` / ``splitTime``: its code classifies whole eras
    by their duration (``end − start``), which this step follows; its vignette describes a
    split of the first days instead (docs/pathways.md).

    Parameters
    ----------
    history : pandas.DataFrame
        A history frame.
    names : list of str
        Event names to split.
    split_days : int
        Eras lasting fewer days are ``"<name> (acute)"``, the others ``"<name> (therapy)"``.

    Returns
    -------
    history : pandas.DataFrame
        The history with renamed rows.
    attrition : AttritionRow
        Records and persons (unchanged in number).

    Examples
    --------
    >>> h = pd.DataFrame({"person_id": [1, 1], "target": [1, 1], "name": ["A", "A"],
    ...                   "start": [0, 100], "end": [10, 200], "duration": [10, 100]})
    >>> split_acute_therapy(h, names=["A"], split_days=30)[0]["name"].tolist()
    ['A (acute)', 'A (therapy)']
    """
    chosen = history["name"].isin(names).to_numpy()
    suffix = np.where(history["duration"].to_numpy() < split_days, ACUTE, THERAPY)
    renamed = np.where(chosen, history["name"].astype(str).to_numpy() + suffix, history["name"])
    out = ordered(history.assign(name=renamed))
    return out, attrition(f"Split acute/therapy (split_time_days={split_days})", out)


def era_collapse(history: pd.DataFrame, *, gap_days: int) -> tuple[pd.DataFrame, AttritionRow]:
    """Merge eras of the same event, person and target separated by at most ``gap_days``.

    Two eras merge when ``next start − previous end ≤ gap_days``, so overlapping and touching
    eras always merge. The gap is measured from the latest end seen so far in the chain, and
    the merged era runs from the first start to the latest end.

    Parameters
    ----------
    history : pandas.DataFrame
        A history frame.
    gap_days : int
        TreatmentPatterns' ``eraCollapseSize``.

    Returns
    -------
    history : pandas.DataFrame
        The collapsed history.
    attrition : AttritionRow
        Records and persons left.
    """
    keys = ["person_id", "target", "name"]
    by_name = history.sort_values([*keys, "start", "end"], kind="mergesort", ignore_index=True)
    group = by_name.groupby(keys, sort=False).ngroup()
    latest_end = by_name["end"].groupby(group).cummax().groupby(group).shift()
    new_era = latest_end.isna() | (by_name["start"] - latest_end > gap_days)
    era = new_era.cumsum()
    merged = by_name.groupby(era, sort=False).agg(
        person_id=("person_id", "first"),
        target=("target", "first"),
        name=("name", "first"),
        start=("start", "min"),
        end=("end", "max"),
    )
    merged = ordered(with_duration(merged.reset_index(drop=True)))
    return merged, attrition(f"Era collapse (era_collapse_days={gap_days})", merged)


def filter_treatments(history: pd.DataFrame, *, method: str) -> tuple[pd.DataFrame, AttritionRow]:
    """Keep first occurrences, collapse consecutive repeats, or keep every row.

    Parameters
    ----------
    history : pandas.DataFrame
        A history frame after combination.
    method : {"first", "changes", "all"}
        ``"first"`` keeps the first occurrence of each event or combination per episode;
        ``"changes"`` merges consecutive rows with the same name, whatever the gap between
        them, into one row (first start, last end, summed duration); ``"all"`` keeps all.

    Returns
    -------
    history : pandas.DataFrame
        The filtered history.
    attrition : AttritionRow
        Records and persons left.
    """
    history = ordered(history)
    if method == "first":
        history = history.drop_duplicates(["person_id", "target", "name"], ignore_index=True)
    elif method == "changes":
        episode = history.groupby(EPISODE, sort=False).ngroup()
        new_run = (episode != episode.shift()) | (history["name"] != history["name"].shift())
        history = history.groupby(new_run.cumsum(), sort=False).agg(
            person_id=("person_id", "first"),
            target=("target", "first"),
            name=("name", "first"),
            start=("start", "min"),
            end=("end", "max"),
            duration=("duration", "sum"),
        )
        history = ordered(history.reset_index(drop=True))
    return history, attrition(f"Filter treatments (filter={method})", history)


def append_exits(history: pd.DataFrame, exits: pd.DataFrame) -> tuple[pd.DataFrame, AttritionRow]:
    """Add the exit rows back, untouched by collapse, combination and filtering.

    Parameters
    ----------
    history, exits : pandas.DataFrame
        The treatment rows and the exit rows (history frames).

    Returns
    -------
    history : pandas.DataFrame
        Both, ordered.
    attrition : AttritionRow
        Records and persons after adding the exits.
    """
    both = ordered(pd.concat([history, exits], ignore_index=True))
    return both, attrition(f"Exit events appended ({len(exits)} records)", both)


def cut_path_length(
    history: pd.DataFrame, *, max_path_length: int
) -> tuple[pd.DataFrame, AttritionRow]:
    """Give each episode's rows step numbers by date and keep the first ``max_path_length``.

    Parameters
    ----------
    history : pandas.DataFrame
        The final history, exit rows included (they count toward the length).
    max_path_length : int
        Most steps kept per pathway.

    Returns
    -------
    history : pandas.DataFrame
        The history with a ``seq`` column (1, 2, …) per episode.
    attrition : AttritionRow
        Records and persons left.
    """
    history = ordered(history)
    seq = history.groupby(EPISODE, sort=False).cumcount() + 1
    history = history.assign(seq=seq.astype("int64"))
    history = history[history["seq"] <= max_path_length].reset_index(drop=True)
    return history, attrition(f"Maximum path length (max_path_length={max_path_length})", history)
