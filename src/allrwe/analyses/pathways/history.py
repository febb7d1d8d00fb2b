"""The history frame every pathway step reads and returns, and its attrition row.

A history has one row per treatment piece: ``person_id``, ``target`` (the target episode
number), ``name``, ``start`` and ``end`` (days since 1970-01-01) and ``duration`` (days,
``end − start`` with no +1, as in TreatmentPatterns), ordered by :data:`ORDER`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "ACUTE",
    "EPISODE",
    "HISTORY_COLUMNS",
    "ORDER",
    "THERAPY",
    "AttritionRow",
    "attrition",
    "kept_rows",
    "ordered",
    "with_duration",
]

HISTORY_COLUMNS = ("person_id", "target", "name", "start", "end", "duration")
#: suffixes of the pieces of a split event cohort (TreatmentPatterns' labels)
ACUTE, THERAPY = " (acute)", " (therapy)"
ORDER = ["person_id", "target", "start", "end", "name"]
EPISODE = ["person_id", "target"]


@dataclass(frozen=True)
class AttritionRow:
    """Records and persons left after one step.

    Parameters
    ----------
    reason : str
        What the step did, with its setting (e.g. ``"Era collapse (era_collapse_days=30)"``).
    n_records : int
        Rows left after the step.
    n_persons : int
        Distinct persons left after the step.
    """

    reason: str
    n_records: int
    n_persons: int


def attrition(reason: str, frame: pd.DataFrame) -> AttritionRow:
    """Return the rows and persons left in ``frame`` after the step ``reason``."""
    return AttritionRow(reason, len(frame), int(frame["person_id"].nunique()))


def ordered(history: pd.DataFrame) -> pd.DataFrame:
    """Return the history in :data:`ORDER` (stable)."""
    return history.sort_values(ORDER, kind="mergesort", ignore_index=True)


def with_duration(history: pd.DataFrame) -> pd.DataFrame:
    """Return the history with ``duration = end - start``."""
    return history.assign(duration=history["end"] - history["start"])


def kept_rows(names: pd.Series, keep: frozenset[str]) -> np.ndarray:
    """Return which rows hold a kept event: alone, in a combination or as a split piece.

    Parameters
    ----------
    names : pandas.Series
        Event names (combinations joined with ``+``).
    keep : frozenset of str
        Event names the duration filters never drop (the index treatment, ``keep_index``).

    Returns
    -------
    numpy.ndarray
        A boolean mask.

    Examples
    --------
    >>> kept_rows(pd.Series(["A", "A+B", "B", "A (acute)"]), frozenset({"A"})).tolist()
    [True, True, False, True]
    """
    if not keep:
        return np.zeros(len(names), dtype=bool)

    def has(name: str) -> bool:
        parts = (p.removesuffix(ACUTE).removesuffix(THERAPY) for p in name.split("+"))
        return any(p in keep for p in parts)

    # a few names repeat over many rows: decide each name once
    decided: dict[str, bool] = {}
    texts = [str(n) for n in names]
    for text in set(texts):
        decided[text] = has(text)
    return np.asarray([decided[t] for t in texts], dtype=bool)
