"""Publish again the headline counts that complementary suppression hid without need.

The rule this module owns: after the complements are chosen and the attacker finds no leak,
each hidden headline count of at least the threshold (the persons of a group, ND/RR,
treatment settings, responders in the overall stratum: see
:func:`allrwe.results.suppression.cell_weights`) is published again, heaviest first, when
the attacker still finds no leak with it and its linked records shown. The choice of
complements is greedy (margin by margin, then repair rounds that hide the cheapest count of
each constraint that gives a leak away); a headline hidden early can end up protecting
nothing once later rounds have hidden the cells beside it. In the seed000 example on a
5,000-person emr CDM (seed 1), RR = 7 of 39 persons was hidden beside a hidden ND = 32 and a
hidden group size, though the two hidden others already protect the small cells it was
meant to protect.

Only hidden counts become published here, one at a time, each kept only when the attack of
the blocks it belongs to (:func:`allrwe.results.attack.blocks`) finds no leak; so the
result is never weaker, in the attacker's terms, than what the repair rounds reached. The
margin convention of the protection (:mod:`allrwe.results.margins`) is kept too: a margin
without a total record has its total taken as published, unless that total is small. The
attacker reads no such total, so the blocks are attacked a second time with those totals
as published counts, and a headline is published again only when that finds no leak that
it did not find with the headline hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from allrwe.results.builders import make_records
from allrwe.results.margin_tables import Margin

__all__ = ["republish_headlines"]


def republish_headlines(
    records: pd.DataFrame,
    values: np.ndarray,
    counts: np.ndarray,
    weights: np.ndarray,
    min_cell_count: int,
    hiding: Callable[[np.ndarray], np.ndarray],
    margins: dict[str, Margin],
    cache: dict[bytes, Any] | None = None,
) -> np.ndarray:
    """Return ``counts`` with the hidden headline counts that hide nothing published again.

    Parameters
    ----------
    records : pandas.DataFrame
        The unsuppressed records.
    values : numpy.ndarray
        Their values (float).
    counts : numpy.ndarray
        The hidden count records (bool), as complementary suppression and the repair rounds
        left them.
    weights : numpy.ndarray
        :func:`allrwe.results.suppression.cell_weights` of the records: a headline weighs
        more than its value plus one.
    min_cell_count : int
        The threshold.
    hiding : callable
        Maps hidden counts to the other records hidden with them (linked records, SMDs).
    margins : dict of str to Margin
        The declared margins (:func:`allrwe.results.margins.parse_margins`).
    cache : dict, optional
        The attacker's solved components (see :func:`allrwe.results.attack.attack`), e.g.
        those of the repair rounds, which attacked the same blocks; default a dict of this
        call's own.

    Returns
    -------
    numpy.ndarray
        The hidden count records; a subset of ``counts``.
    """
    from allrwe.results.attack import expose  # deferred: SciPy's solvers

    filled = np.nan_to_num(values, nan=0.0)
    headline = weights > 1.5 * (filled + 1.0)
    candidates = np.flatnonzero(counts & headline & (filled >= min_cell_count))
    if not len(candidates):
        return counts
    cache = {} if cache is None else cache
    totals = _implicit_totals(records, values, margins, min_cell_count)
    n = len(records)
    attacked = pd.concat([records, totals], ignore_index=True)
    every = np.concatenate([values, totals["value"].to_numpy(dtype="float64")])

    def shown(hidden_counts: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        hidden = np.zeros(len(attacked), dtype=bool)
        hidden[:n] = hidden_counts | hiding(hidden_counts)
        return attacked.assign(value=np.where(hidden, np.nan, every)), hidden

    current, before = shown(counts)
    found = expose(current, min_cell_count, cache=cache, with_blocks=True)
    if found.blocks is None:
        return counts
    blocks = found.blocks
    own = np.arange(len(attacked)) < n  # the records, without the implicit totals
    keys = records[["analysis", "group", "strata_name", "strata_level", "variable"]]
    names = ["/".join(map(str, row)) for row in keys.to_numpy()[candidates].tolist()]
    levels = records["variable_level"].astype(str).to_numpy()[candidates].tolist()
    order = sorted(
        range(len(candidates)), key=lambda j: (-weights[candidates[j]], names[j], levels[j])
    )
    for j in order:
        trial = counts.copy()
        trial[candidates[j]] = False
        published, hidden = shown(trial)
        part = np.isin(blocks, np.unique(blocks[hidden != before]))
        if expose(published[part & own], min_cell_count, cache=cache).report.leaks:
            continue
        # with the implicit totals: nothing the margin convention finds may be new
        now = set(expose(published[part], min_cell_count, cache=cache).leaked)
        if now <= set(expose(current[part], min_cell_count, cache=cache).leaked):
            counts, before, current = trial, hidden, published
    return counts


def _implicit_totals(
    records: pd.DataFrame, values: np.ndarray, margins: dict[str, Margin], min_cell_count: int
) -> pd.DataFrame:
    """Return a published total record for each margin whose total is no record.

    As in :mod:`allrwe.results.margins`, such a total is taken as published elsewhere,
    unless it is small (then it is hidden wherever it appears and is left out here).
    """
    keys, totals = [], []
    for key in sorted(margins):
        margin = margins[key]
        if margin.total is not None or not margin.members:
            continue
        total = float(np.nansum(values[margin.members]))
        if not 1 <= total < min_cell_count:
            keys.append(key)
            totals.append(total)
    if not keys:
        return records.iloc[:0]
    # one variable per margin: each total joins the block of its own members only
    out = make_records(
        analysis="~implicit total",
        variable=keys,
        estimate_name="count",
        estimate_type="count",
        value=totals,
        margin=[f"total:{key}" for key in keys],
    )
    return out.reindex(columns=records.columns)
