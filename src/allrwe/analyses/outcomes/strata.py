"""Strata of the outcome summaries: derived from the cohort columns or given by the caller.

A stratum is a column of a per-person frame. ``line``, ``sex`` and ``age_band`` are derived from
``line_at_index``, ``gender_concept_id`` and ``age_at_index`` (bands from the spec's
``age_bands``); ``setting`` (ND/RR) and ``treatment_setting`` come with the cohort; anything else
(e.g. ``ph_status``) is joined from a caller's frame. Crossed strata are named like
CohortSurvival's: ``"setting &&& treatment_setting"`` with levels ``"RR &&& re-induction"``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.baseline.demographics import age_band_labels as band_names
from allrwe.errors import AnalysisError
from allrwe.spec import StudySpec

__all__ = ["OVERALL", "SEPARATOR", "UNKNOWN", "add_strata", "age_band_labels", "level_masks",
           "parse_strata", "require_strata", "row_groups", "strata_levels", "stratum_columns",
           "stratum_keys"]  # fmt: skip

#: Name and level of the unstratified rows.
OVERALL = "overall"
#: Joins the names and levels of crossed strata.
SEPARATOR = " &&& "
#: Level of a missing stratum value.
UNKNOWN = "unknown"

_SEX = {8507: "male", 8532: "female"}


def parse_strata(by: Sequence[str | Sequence[str]]) -> list[tuple[str, ...]]:
    """Return each stratum of ``by`` as a tuple of column names (one name = not crossed).

    Examples
    --------
    >>> parse_strata(["setting", ("setting", "treatment_setting")])
    [('setting',), ('setting', 'treatment_setting')]
    """
    if isinstance(by, str):
        by = [by]
    return [(b,) if isinstance(b, str) else tuple(b) for b in by]


def age_band_labels(age: pd.Series, bands: Sequence[float]) -> pd.Series:
    """Label ages by the cut points ``bands``: ``"<35"``, ``"35 to <55"``, ``">=55"``.

    The names are the baseline table's (:func:`allrwe.analyses.baseline.age_band_labels`), so
    outcome, pathway, Table 1 and safety strata join on the same labels.

    Examples
    --------
    >>> age_band_labels(pd.Series([20, 35, 60, None]), [35.0, 55.0]).tolist()
    ['<35', '35 to <55', '>=55', 'unknown']
    """
    cuts = [float(b) for b in bands]
    names = band_names(cuts)
    values = pd.to_numeric(age, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    idx = np.searchsorted(np.asarray(cuts), values, side="right")
    labels = np.asarray(names, dtype=object)[np.minimum(idx, len(names) - 1)]
    return pd.Series(np.where(np.isnan(values), UNKNOWN, labels), index=age.index, dtype="object")


def add_strata(
    frame: pd.DataFrame, spec: StudySpec, extra: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Add the derived strata (``line``, ``sex``, ``age_band``) and the caller's columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        Per-person rows with the cohort columns.
    spec : StudySpec
        For ``age_bands``.
    extra : pandas.DataFrame, optional
        ``person_id`` (and ``group``, if it differs by group) plus stratum columns.

    Returns
    -------
    pandas.DataFrame
        A copy with the added columns.
    """
    out = frame.copy()
    if "line_at_index" in out and "line" not in out:
        out["line"] = out["line_at_index"].astype("Int64").astype("string").fillna(UNKNOWN)
    if "gender_concept_id" in out and "sex" not in out:
        out["sex"] = out["gender_concept_id"].map(_SEX).fillna(UNKNOWN)
    if "age_at_index" in out and "age_band" not in out:
        out["age_band"] = age_band_labels(out["age_at_index"], spec.age_bands)
    if extra is not None:
        keys = ["person_id", "group"] if "group" in extra else ["person_id"]
        dup = [c for c in extra.columns if c in out.columns and c not in keys]
        out = out.drop(columns=dup).merge(extra, on=keys, how="left")
    return out


def stratum_keys(frame: pd.DataFrame, cols: Sequence[str]) -> pd.Series:
    """Return each row's stratum level: its values of ``cols`` joined, a missing one unknown."""
    labels = frame[list(cols)].astype("object").where(frame[list(cols)].notna(), UNKNOWN)
    key = labels.iloc[:, 0].astype(str)
    for column in labels.columns[1:]:
        key = key + SEPARATOR + labels[column].astype(str)
    return key


def require_strata(frame: pd.DataFrame, cols: Sequence[str]) -> None:
    """Raise :class:`AnalysisError` naming the first of ``cols`` that ``frame`` lacks."""
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise AnalysisError(
            f"stratum {missing[0]!r} is not a column of the outcome table; available: "
            f"{sorted(str(c) for c in frame.columns)}"
        )


def strata_levels(
    frame: pd.DataFrame, strata: Sequence[tuple[str, ...]]
) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """Yield ``(strata_name, strata_level, rows)``: overall first, then each stratum's levels.

    Levels come in sorted order; a missing value is the level ``"unknown"``.

    Raises
    ------
    AnalysisError
        If a stratum column is not in ``frame``.
    """
    yield OVERALL, OVERALL, frame
    for cols in strata:
        require_strata(frame, cols)
        key = stratum_keys(frame, cols)
        for level in sorted(set(key.tolist())):
            yield SEPARATOR.join(cols), str(level), frame[key == level]


def stratum_columns(
    frame: pd.DataFrame, strata: Sequence[tuple[str, ...]]
) -> dict[tuple[str, ...], np.ndarray]:
    """Return each row's level of every stratum (as :func:`strata_levels` names them).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with the stratum columns.
    strata : sequence of tuples of str
        The strata (:func:`~allrwe.analyses.outcomes.strata.parse_strata` output).

    Returns
    -------
    dict of tuple of str to numpy.ndarray
        Per stratum, an object array of levels in row order.

    Raises
    ------
    AnalysisError
        If a stratum column is not in ``frame``.
    """
    out: dict[tuple[str, ...], np.ndarray] = {}
    for cols in strata:
        require_strata(frame, cols)
        out[cols] = stratum_keys(frame, cols).to_numpy(dtype=object)
    return out


def level_masks(
    n: int, levels: dict[tuple[str, ...], np.ndarray]
) -> Iterator[tuple[str, str, np.ndarray]]:
    """Yield ``(strata_name, strata_level, row mask)`` in the order of :func:`strata_levels`."""
    yield OVERALL, OVERALL, np.ones(n, dtype=bool)
    for cols, key in levels.items():
        for level in sorted(set(key.tolist())):
            yield SEPARATOR.join(cols), str(level), key == level


def row_groups(
    frame: pd.DataFrame, cols: list[str]
) -> Iterator[tuple[tuple[Any, ...], np.ndarray]]:
    """Yield each distinct key of ``cols`` and its row positions, in order of first appearance.

    The groups of ``frame.groupby(cols, sort=False)`` (rows with a missing key are left out),
    as positions rather than frame copies.

    Examples
    --------
    >>> f = pd.DataFrame({"a": ["y", "x", "y"], "b": [1, 1, 1]})
    >>> [(k, p.tolist()) for k, p in row_groups(f, ["a", "b"])]
    [(('y', 1), [0, 2]), (('x', 1), [1])]
    """
    codes = np.zeros(len(frame), dtype="int64")
    for col in cols:
        code, values = pd.factorize(frame[col])
        codes = np.where((codes < 0) | (code < 0), -1, codes * max(len(values), 1) + code)
    keys, first = np.unique(codes, return_index=True)
    for k in keys[np.argsort(first, kind="stable")]:
        if k < 0:
            continue
        at = np.flatnonzero(codes == k)
        yield tuple(frame[c].iat[at[0]] for c in cols), at
