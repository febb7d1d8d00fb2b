"""Combination of overlapping treatments (TreatmentPatterns' ``doCombinationWindow``).

Two treatments of one episode overlapping by at least the combination window become a
combination named by their distinct parts ("A+B"); shorter overlaps are truncated or kept
(``overlap``). :func:`combination_iteration` resolves one overlap per episode per pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allrwe.analyses.pathways.history import (
    EPISODE,
    AttritionRow,
    attrition,
    kept_rows,
    ordered,
    with_duration,
)

__all__ = ["combination_iteration", "combine_names"]


def combine_names(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Name the combination of two (possibly combined) events: distinct parts, sorted, "+".

    The work is done once per distinct pair of names, not once per row.

    Parameters
    ----------
    first, second : numpy.ndarray
        Names of equal length, e.g. ``["B"]`` and ``["A+C"]``.

    Returns
    -------
    numpy.ndarray
        The combination names, e.g. ``["A+B+C"]``.
    """
    if len(first) == 0:
        return np.asarray([], dtype=object)
    pairs = pd.MultiIndex.from_arrays([first, second])
    codes, uniques = pd.factorize(pairs)
    named = np.asarray([_join_parts(a, b) for a, b in uniques], dtype=object)
    return named[codes]


def _join_parts(first: str, second: str) -> str:
    parts = set(first.split("+")) | set(second.split("+"))
    # Case-insensitive first, as R's sort() in the usual locales, then by code point.
    return "+".join(sorted(parts, key=lambda p: (p.casefold(), p)))


def _select_overlaps(
    history: pd.DataFrame, *, combination_window_days: int, overlap: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return the row of each episode's first overlap to resolve, and its overlap in days."""
    episode = history.groupby(EPISODE, sort=False).ngroup().to_numpy()
    start = history["start"].to_numpy()
    end = history["end"].to_numpy()
    has_previous = np.r_[False, episode[1:] == episode[:-1]]
    overlap_days = np.where(has_previous, np.r_[0, end[:-1]] - start, 0)
    candidate = overlap_days > 0
    if overlap == "keep":
        # allrwe departs from TreatmentPatterns here: see docs/pathways.md, "keep".
        candidate &= overlap_days >= combination_window_days
    rows = np.flatnonzero(candidate)
    _, first = np.unique(episode[rows], return_index=True)
    selected = rows[first]
    return selected, overlap_days[selected]


def combination_iteration(
    history: pd.DataFrame,
    *,
    combination_window_days: int,
    min_post_combination_days: int,
    overlap: str,
    iteration: int,
    keep: frozenset[str] = frozenset(),
) -> tuple[pd.DataFrame, AttritionRow] | None:
    """Resolve the first overlap of every episode, then drop every row that became too short.

    The overlapping row and the row before it are either a *switch* (overlap shorter than
    ``combination_window_days`` and not the whole duration of either era; with
    ``overlap="truncate"`` the earlier era is cut to end when the later one starts) or a
    combination, split with shared boundary dates: FRFS (the earlier era stops first) into
    earlier-only, combination and later-only pieces, LRFS (the later era is contained) into
    earlier, combination and earlier-remainder pieces. Afterwards every row of the *whole*
    table lasting fewer than ``min_post_combination_days`` is dropped, as TreatmentPatterns
    does.

    Parameters
    ----------
    history : pandas.DataFrame
        A history frame.
    combination_window_days : int
        Minimum overlap, in days, for two eras to count as a combination.
    min_post_combination_days : int
        Shortest row kept after the iteration, in days.
    overlap : {"truncate", "keep"}
        What to do with an overlap that is a switch.
    iteration : int
        Iteration number, for the attrition text.
    keep : frozenset of str, default empty
        Event names whose rows (alone or in a combination) the duration filter never drops.

    Returns
    -------
    tuple of (pandas.DataFrame, AttritionRow) or None
        The new history and its attrition, or None when no overlap is left to resolve.
    """
    history = ordered(history)
    selected, overlap_days = _select_overlaps(
        history, combination_window_days=combination_window_days, overlap=overlap
    )
    if len(selected) == 0:
        return None
    previous = selected - 1
    start = history["start"].to_numpy().copy()
    end = history["end"].to_numpy().copy()
    name = history["name"].to_numpy(dtype=object).copy()
    previous_end = end[previous]
    is_switch = (
        (overlap_days < combination_window_days)
        & (overlap_days != end[selected] - start[selected])
        & (overlap_days != previous_end - start[previous])
    )
    frfs = ~is_switch & (previous_end < end[selected])
    lrfs = ~is_switch & ~frfs
    combined = combine_names(name[selected], name[previous])

    # Shared boundary dates: each piece ends on the day the next one starts.
    end[previous] = start[selected]
    added = pd.DataFrame(
        {
            "person_id": history["person_id"].to_numpy()[selected],
            "target": history["target"].to_numpy()[selected],
            "name": np.where(frfs, combined, name[previous]),
            "start": np.where(frfs, start[selected], end[selected]),
            "end": previous_end,
        }
    )[frfs | lrfs]
    start[selected[frfs]] = previous_end[frfs]
    name[selected[lrfs]] = combined[lrfs]

    updated = history.assign(name=name, start=start, end=end)
    new = with_duration(pd.concat([updated.drop(columns="duration"), added], ignore_index=True))
    # TreatmentPatterns filters the whole table, not just the new pieces (docs/pathways.md).
    long_enough = (new["duration"] >= min_post_combination_days).to_numpy()
    new = ordered(new[long_enough | kept_rows(new["name"], keep)])
    reason = (
        f"Combination iteration {iteration} (combination_window_days={combination_window_days}"
        f", min_post_combination_days={min_post_combination_days})"
    )
    return new, attrition(reason, new)
