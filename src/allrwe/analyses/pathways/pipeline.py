"""The pathway pipeline: TreatmentPatterns' steps chained in its order, with attrition.

The heavy work, finding the concepts that make up each event cohort in the CDM, happens
upstream in the database engine (allrwe.cohort). This module receives the already built,
per-cohort target and event tables, which are small next to the CDM, so it executes them once
and continues in pandas.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.pathways import steps
from allrwe.analyses.pathways._inputs import check_settings, read_events, read_targets
from allrwe.analyses.pathways.result import (
    PathwayResult,
    count_pathways,
    pathway_steps,
    patients_table,
)
from allrwe.errors import StudyWarning

__all__ = ["compute_pathways"]

logger = logging.getLogger(__name__)


def compute_pathways(
    events: Any,
    targets: Any,
    *,
    era_collapse_days: int = 30,
    combination_window_days: int = 30,
    min_era_days: int = 0,
    min_post_combination_days: int = 30,
    filter: str = "first",
    max_path_length: int = 5,
    window_start_days: int = 0,
    window_end_days: int = 0,
    overlap: str = "truncate",
    concat_targets: bool = True,
    start_anchor: str = "start_date",
    end_anchor: str = "end_date",
    exit_names: Iterable[str] = (),
    split_names: Iterable[str] = (),
    split_days: int = 30,
    keep_names: Iterable[str] = (),
) -> PathwayResult:
    """Compute treatment pathways with the semantics of TreatmentPatterns 3.1.

    Each parameter means what the TreatmentPatterns parameter of the same role means; the few
    deliberate differences are listed in ``docs/pathways.md``. Days are counted as
    ``end − start`` (a one-day record lasts 0 days).

    Parameters
    ----------
    events : pandas.DataFrame or ibis.expr.types.Table
        One row per treatment era or record: ``person_id, name, start_date, end_date``.
        ``name`` is the event cohort name (e.g. ``"BLIN"``, ``"INO"``); it may not contain
        ``"+"``.
    targets : pandas.DataFrame or ibis.expr.types.Table
        One row per target episode: ``person_id, start_date, end_date``.
    era_collapse_days : int, default 30
        ``eraCollapseSize``: eras of the same event merge when the next start minus the
        previous end is at most this many days.
    combination_window_days : int, default 30
        ``combinationWindow``: minimum overlap, in days, for two events to form a
        combination; a shorter overlap is a switch.
    min_era_days : int, default 0
        ``minEraDuration``: target and event records lasting fewer days are dropped first.
    min_post_combination_days : int, default 30
        ``minPostCombinationDuration``: after every combination iteration, every row of the
        whole table lasting fewer days is dropped.
    filter : {"first", "changes", "all"}, default "first"
        ``filterTreatments``: keep the first occurrence of each event, merge consecutive
        repeats, or keep all. Case-insensitive.
    max_path_length : int, default 5
        ``maxPathLength``: most steps per pathway (exit events count).
    window_start_days, window_end_days : int, default 0
        ``windowStart`` / ``windowEnd``: days added to the start and end anchors.
    overlap : {"truncate", "keep"}, default "truncate"
        ``overlapMethod``: on a switch, cut the earlier event at the later one's start, or
        leave both dates alone.
    concat_targets : bool, default True
        ``concatTargets``: one pathway across a person's target episodes, or one per episode.
    start_anchor, end_anchor : {"start_date", "end_date"}
        ``startAnchor`` / ``endAnchor``: the target dates the window bounds count from.
    exit_names : iterable of str, default ()
        Event names that are exit events (e.g. ``("HSCT",)``): they enter the pathway but
        skip era collapse, combination and filtering.
    split_names : iterable of str, default ()
        ``splitEventCohorts``: event names whose whole eras are renamed ``"<name> (acute)"``
        when shorter than ``split_days`` and ``"<name> (therapy)"`` otherwise.
    split_days : int, default 30
        ``splitTime``, in days.
    keep_names : iterable of str, default ()
        Event names that neither ``min_era_days`` nor ``min_post_combination_days`` ever drop,
        alone or in a combination (allrwe's ``keep_index``: the index treatment stays in its
        group's pathways). TreatmentPatterns has no such setting; leave it empty for its
        behaviour.

    Returns
    -------
    PathwayResult
        Per-person pathways, counts, the treatment history, attrition and the settings.

    Raises
    ------
    AnalysisError
        If an input lacks a column, holds missing values or non-dates, has records ending
        before they start, or a setting is invalid.

    Warns
    -----
    StudyWarning
        If no target episode is left, or nobody has a treatment in their window.

    References
    ----------
    Markus AF, Verhamme KMC, Kors JA, Rijnbeek PR. TreatmentPatterns: an R package to
    facilitate the standardized development and analysis of treatment patterns across
    disease domains. Comput Methods Programs Biomed 2022;225:107081.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.Timestamp("2020-01-01")
    >>> targets = pd.DataFrame({"person_id": [1], "start_date": [d],
    ...                         "end_date": [d + pd.Timedelta(days=365)]})
    >>> events = pd.DataFrame({"person_id": [1, 1], "name": ["INO", "BLIN"],
    ...                        "start_date": [d, d + pd.Timedelta(days=90)],
    ...                        "end_date": [d + pd.Timedelta(days=60),
    ...                                     d + pd.Timedelta(days=118)]})
    >>> compute_pathways(events, targets).counts
        pathway  n_persons
    0  INO-BLIN          1
    """
    settings = check_settings(
        {
            "era_collapse_days": era_collapse_days,
            "combination_window_days": combination_window_days,
            "min_era_days": min_era_days,
            "min_post_combination_days": min_post_combination_days,
            "filter": filter,
            "max_path_length": max_path_length,
            "window_start_days": window_start_days,
            "window_end_days": window_end_days,
            "overlap": overlap,
            "concat_targets": concat_targets,
            "start_anchor": start_anchor,
            "end_anchor": end_anchor,
            "exit_names": exit_names,
            "split_names": split_names,
            "split_days": split_days,
            "keep_names": keep_names,
        }
    )
    keep = frozenset(settings["keep_names"])
    _log_setting_advice(settings)
    target_frame = read_targets(targets)
    event_frame = read_events(events)
    attrition: list[steps.AttritionRow] = []

    event_frame, row = steps.restrict_to_target_persons(target_frame, event_frame)
    attrition.append(row)
    target_frame, event_frame, row = steps.min_era_duration(
        target_frame, event_frame, min_days=settings["min_era_days"], keep=keep
    )
    attrition.append(row)
    episodes = steps.number_target_episodes(
        target_frame,
        start_anchor=settings["start_anchor"],
        window_start_days=settings["window_start_days"],
        end_anchor=settings["end_anchor"],
        window_end_days=settings["window_end_days"],
        concat_targets=settings["concat_targets"],
    )
    history, row = steps.apply_window(episodes, event_frame, reason=_window_reason(settings))
    attrition.append(row)
    history, exits = steps.split_exits(history, settings["exit_names"])
    if settings["split_names"]:
        history, row = steps.split_acute_therapy(
            history, names=settings["split_names"], split_days=settings["split_days"]
        )
        attrition.append(row)
    history, row = steps.era_collapse(history, gap_days=settings["era_collapse_days"])
    attrition.append(row)
    history = _combine(history, settings, attrition)
    history, row = steps.filter_treatments(history, method=settings["filter"])
    attrition.append(row)
    history, row = steps.append_exits(history, exits)
    attrition.append(row)
    history, row = steps.cut_path_length(history, max_path_length=settings["max_path_length"])
    attrition.append(row)
    return _result(history, episodes, attrition, settings)


def _log_setting_advice(settings: dict[str, Any]) -> None:
    # TreatmentPatterns warns about the same combination of settings.
    for other in ("min_post_combination_days", "combination_window_days"):
        if settings["min_era_days"] > settings[other]:
            logger.warning(
                "pathways: min_era_days (%d) exceeds %s (%d), which TreatmentPatterns advises "
                "against",
                settings["min_era_days"],
                other,
                settings[other],
            )


def _window_reason(settings: dict[str, Any]) -> str:
    return (
        "Events starting inside the window "
        f"({settings['start_anchor']} {settings['window_start_days']:+d} days .. "
        f"{settings['end_anchor']} {settings['window_end_days']:+d} days)"
    )


def _combine(
    history: pd.DataFrame, settings: dict[str, Any], attrition: list[steps.AttritionRow]
) -> pd.DataFrame:
    """Run combination iterations until no overlap is left to resolve."""
    # Every iteration removes at least one day of overlap or one overlapping pair, so this
    # bound is never reached; it only turns a logic error into an error instead of a hang.
    limit = 10 * (len(history) + 10)
    for iteration in range(1, limit + 1):
        outcome = steps.combination_iteration(
            history,
            combination_window_days=settings["combination_window_days"],
            min_post_combination_days=settings["min_post_combination_days"],
            overlap=settings["overlap"],
            iteration=iteration,
            keep=frozenset(settings["keep_names"]),
        )
        if outcome is None:
            break
        history, row = outcome
        attrition.append(row)
        logger.info("pathways: %s: %d records", row.reason, row.n_records)
    else:  # pragma: no cover - see the comment on ``limit``
        raise RuntimeError(f"combination window did not converge after {limit} iterations")
    attrition.append(
        steps.AttritionRow("After combination", len(history), int(history["person_id"].nunique()))
    )
    return history


def _result(
    history: pd.DataFrame,
    episodes: pd.DataFrame,
    attrition: list[steps.AttritionRow],
    settings: dict[str, Any],
) -> PathwayResult:
    treatment_history = pd.DataFrame(
        {
            "person_id": history["person_id"].to_numpy(),
            "target": history["target"].to_numpy(dtype="int64"),
            "seq": history["seq"].to_numpy(dtype="int64"),
            "name": pd.Series(history["name"].to_numpy(), dtype=str),
            "start_date": _dates(history["start"].to_numpy()),
            "end_date": _dates(history["end"].to_numpy()),
            "duration_days": history["duration"].to_numpy(dtype="int64"),
        }
    )
    step_table = pathway_steps(
        treatment_history, episodes[["person_id", "target"]].drop_duplicates(ignore_index=True)
    )
    patients = patients_table(step_table, concat_targets=settings["concat_targets"])
    attrition_table = pd.DataFrame(
        {
            "step": np.arange(1, len(attrition) + 1, dtype="int64"),
            "reason": [a.reason for a in attrition],
            "n_records": np.asarray([a.n_records for a in attrition], dtype="int64"),
            "n_persons": np.asarray([a.n_persons for a in attrition], dtype="int64"),
        }
    )
    for a in attrition:
        logger.info("pathways attrition: %s: %d records, %d persons", *vars(a).values())
    _warn_if_empty(patients)
    return PathwayResult(
        patients=patients,
        counts=count_pathways(patients),
        treatment_history=treatment_history,
        attrition=attrition_table,
        settings=settings,
        _steps=step_table,
    )


def _dates(days: np.ndarray) -> pd.Series:
    return pd.Series(days.astype("int64").astype("datetime64[D]").astype("datetime64[s]"))


def _warn_if_empty(patients: pd.DataFrame) -> None:
    if patients.empty:
        warnings.warn(
            "pathways: no target episode is left (targets empty or all shorter than "
            "min_era_days); the result is empty",
            StudyWarning,
            stacklevel=3,
        )
    elif not (patients["n_steps"] > 0).any():
        warnings.warn(
            f"pathways: none of the {len(patients)} target episodes has a treatment in its "
            "window; every pathway is empty",
            StudyWarning,
            stacklevel=3,
        )
