"""Declare the links between records that a reader can see, so that suppression protects them.

The attacker (:mod:`allrwe.results.attack`) writes what the published numbers imply as
equations over the hidden counts. One family holds across analyses and is declared here as
margins, once, on the concatenated records of a run, before :func:`allrwe.results.suppress`:
``strata``, the levels of a stratification add up to the overall row of the same count
(persons at risk at a landmark, events of a summary, a destination, a baseline count); and
``crossed``, the levels of a crossed stratum (``"setting &&& treatment_setting"``) that share
one part's level (``"RR &&& …"``) add up to that part's own stratum row (``setting`` =
``RR``), when the run reports it.

A link is declared only where its equation holds exactly in the unsuppressed values, so that
every margin adds up; complementary suppression then hides a neighbour of a small cell in
each of them. The response analysis is left out: its best-response margins, strata and the
nested rates (CR in ``cr``, CR + CRh in ``cr_crh``) declared together form one table that the
fallback of :mod:`allrwe.results.margins` hides whole, responders included (demo, seed 1:
4 headline counts hidden instead of 2); the attack-and-repair step of
:func:`allrwe.results.suppress` protects it with fewer cells.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from allrwe.results.attack import CURVE_ANALYSES
from allrwe.results.model import MARGIN_SEPARATOR, TOTAL_PREFIX

__all__ = ["UNLINKED", "declare_links"]

_OVERALL = "overall"
#: joins the names and levels of crossed strata (as the analyses write them)
_CROSSED = " &&& "
#: analyses whose strata are not declared as margins (see the module's docstring)
UNLINKED = ("response",)


def _key(*parts: object) -> str:
    text = "/".join(str(p) for p in parts)
    return text.replace(MARGIN_SEPARATOR, "/").replace(" ", "_")


def declare_links(records: pd.DataFrame) -> pd.DataFrame:
    """Return ``records`` with the strata links added as margins.

    Parameters
    ----------
    records : pandas.DataFrame
        Unsuppressed records of a run (the columns of ``allrwe.results.COLUMNS``).

    Returns
    -------
    pandas.DataFrame
        A copy whose ``margin`` field carries the new member and total tokens.

    Examples
    --------
    >>> from allrwe.results import make_records
    >>> rec = make_records(analysis="survival_summary", group="A",
    ...     strata_name=["overall", "ph", "ph"], strata_level=["overall", "+", "-"],
    ...     variable="os", estimate_name="n_event", value=[9, 2, 7])
    >>> out = declare_links(rec).set_index("strata_level")["margin"]
    >>> out["overall"]
    'total:strata/survival_summary/A/os/overall/n_event/ph'
    >>> out["+"] == out["-"] == "strata/survival_summary/A/os/overall/n_event/ph"
    True
    """
    if records.empty:
        return records.copy()
    tokens: dict[int, list[str]] = defaultdict(list)
    counts = records[
        (records["estimate_type"] == "count").to_numpy()
        & ~records["analysis"].astype(str).str.startswith((*CURVE_ANALYSES, *UNLINKED)).to_numpy()
    ]
    values = counts["value"].to_numpy(dtype="float64")
    _strata(counts, values, tokens)
    _crossed(counts, values, tokens)
    margin = records["margin"].to_numpy(dtype=object).copy()
    positions = {label: i for i, label in enumerate(records.index)}
    for label, found in tokens.items():
        i = positions[label]
        margin[i] = MARGIN_SEPARATOR.join(t for t in [margin[i], *found] if t)
    return records.assign(margin=margin)


def _strata(counts: pd.DataFrame, values: np.ndarray, tokens: dict[int, list[str]]) -> None:
    item_cols = ["analysis", "group", "variable", "variable_level", "estimate_name"]
    cols = [counts[c].astype(str).tolist() for c in [*item_cols, "strata_name", "strata_level"]]
    overall: dict[tuple[str, ...], int] = {}
    levels: dict[tuple[str, ...], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    labels = counts.index.tolist()
    for pos, (a, g, v, vl, en, sn, sl) in enumerate(zip(*cols, strict=True)):
        item: tuple[str, ...] = (a, g, v, vl, en)
        if sn == _OVERALL:
            if sl == _OVERALL:
                overall[item] = pos
        else:
            levels[item][sn].append(pos)
    for cell, strata in levels.items():
        total = overall.get(cell)
        if total is None or np.isnan(values[total]):
            continue
        for name, members in strata.items():
            found = values[members]
            if np.isnan(found).any() or found.sum() != values[total]:
                continue
            key = _key("strata", *cell, name)
            tokens[labels[total]].append(TOTAL_PREFIX + key)
            for m in members:
                tokens[labels[m]].append(key)


def _crossed(counts: pd.DataFrame, values: np.ndarray, tokens: dict[int, list[str]]) -> None:
    """Link the levels of each crossed stratum to the rows of its parts (module docstring)."""
    item_cols = ["analysis", "group", "variable", "variable_level", "estimate_name"]
    cols = [counts[c].astype(str).tolist() for c in [*item_cols, "strata_name", "strata_level"]]
    single: dict[tuple[str, ...], int] = {}
    members: dict[tuple[str, ...], list[int]] = defaultdict(list)
    labels = counts.index.tolist()
    for pos, (a, g, v, vl, en, sn, sl) in enumerate(zip(*cols, strict=True)):
        item: tuple[str, ...] = (a, g, v, vl, en)
        names, levels = sn.split(_CROSSED), sl.split(_CROSSED)
        if len(names) == 1:
            single[(*item, sn, sl)] = pos
            continue
        if len(levels) != len(names):
            continue
        for name, level in zip(names, levels, strict=True):
            members[(*item, sn, name, level)].append(pos)
    for cell, rows in members.items():
        part, (crossed, name, level) = cell[:5], cell[5:]
        total = single.get((*part, name, level))
        if total is None or len(rows) < 2:
            continue
        found = values[rows]
        if np.isnan(values[total]) or np.isnan(found).any() or found.sum() != values[total]:
            continue
        key = _key("crossed", *part, crossed, f"{name}={level}")
        tokens[labels[total]].append(TOTAL_PREFIX + key)
        for m in rows:
            tokens[labels[m]].append(key)
