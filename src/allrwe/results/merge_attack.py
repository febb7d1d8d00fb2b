"""The attacker on a merged network table, and the extra suppression that stops its leaks.

A reader of the merged table knows every site's published records and the pooled column, and
that each pooled count is the sum of the sites' counts. :func:`merged_records` writes all of
that as one records table for :func:`allrwe.results.attack.attack`: each site's records under
the group ``site::group`` with the site's declared margins, the pooled counts and proportions
under the plain group with the same margins, and one more margin per count: the sites' counts
add up to the pooled count.

:func:`secure_merged` attacks that table; while it finds a leak it hides, in the merged table,
one published count of every constraint that gives the leak away (the pooled one when there is
one, since the merge published it; else the smallest site count), with the percentages and
pooled values that would give the hidden count back, and attacks again. What it hid is listed
(:class:`HiddenCell`), so the merge can say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allrwe.results.attack import CURVE_ANALYSES, AttackReport, attack, exposing, record_name
from allrwe.results.merge import META_ESTIMATES, pool
from allrwe.results.model import COLUMNS, KEY_COLUMNS

__all__ = ["MAX_ROUNDS", "SITE_SEPARATOR", "HiddenCell", "MergeAudit", "merged_records"]
__all__ += ["secure_merged"]

#: joins a site's name to a group in the attacker's records (``site_a::BLIN``)
SITE_SEPARATOR = "::"
#: rounds of attack and extra suppression at most
MAX_ROUNDS = 10
#: the margin token of the sum over sites
_SUM = "sites"
_POOLED = "pooled"
_COUNTS = "_counts"
_ROW = [*KEY_COLUMNS, "estimate_name"]
#: estimates of a count's cell that give the count back when shown (its rate and interval)
_LINKED = ("percentage", "lower", "upper")


@dataclass(frozen=True)
class HiddenCell:
    """A value the merge hid beyond the sites' own suppression.

    Parameters
    ----------
    column : str
        The merged table's column (a site's name or ``pooled``).
    record : str
        The record (see :func:`allrwe.results.attack.record_name`).
    """

    column: str
    record: str

    def to_dict(self) -> dict[str, str]:
        """Return the cell as a JSON-able dict."""
        return {"column": self.column, "record": self.record}


@dataclass(frozen=True)
class MergeAudit:
    """What the attacker found on the merged table, after the extra suppression.

    Parameters
    ----------
    report : AttackReport
        The last attack (``report.ok``: no leak left).
    hidden : tuple of HiddenCell
        The counts the merge hid to stop the leaks (their linked values are hidden too).
    rounds : int
        Attacks run.
    """

    report: AttackReport
    hidden: tuple[HiddenCell, ...]
    rounds: int

    def to_dict(self) -> dict[str, Any]:
        """Return the audit as a JSON-able dict."""
        return {
            "attack": self.report.to_dict(),
            "hidden": [h.to_dict() for h in self.hidden],
            "rounds": self.rounds,
        }


def _tokens(margin: str, prefix: str) -> list[str]:
    out = []
    for token in margin.split("|") if margin else []:
        if token.startswith("total:"):
            out.append(f"total:{prefix}{SITE_SEPARATOR}{token[len('total:') :]}")
        else:
            out.append(f"{prefix}{SITE_SEPARATOR}{token}")
    return out


def _sum_token(key: tuple[str, ...]) -> str:
    return f"{_SUM}{SITE_SEPARATOR}" + record_name(key).replace("|", "/")


def _margins(
    keys: list[tuple[str, ...]], margins: list[str], counts: np.ndarray, column: str, *, site: bool
) -> list[str]:
    out = []
    for key, margin, count in zip(keys, margins, counts, strict=True):
        tokens = _tokens(margin, column) if site else []
        if count:
            tokens.append(_sum_token(key) if site else f"total:{_sum_token(key)}")
        out.append("|".join(tokens))
    return out


def _column_records(
    rows: pd.DataFrame, values: np.ndarray, margins: list[str], column: str, *, site: bool
) -> pd.DataFrame:
    """Return the records of one column of the merged table (a site's or the pooled one)."""
    keys = list(zip(*(rows[c].astype(str) for c in _ROW), strict=True))
    is_count = (rows["estimate_type"] == "count").to_numpy()
    out = rows[[*_ROW, "estimate_type"]].astype(str).reset_index(drop=True)
    if site:
        out["group"] = column + SITE_SEPARATOR + out["group"]
    out["value"] = values.astype(float)
    out["suppressed"] = np.isnan(out["value"].to_numpy()) & is_count
    out["margin"] = _margins(keys, margins, is_count, column, site=site)
    return out[list(COLUMNS)]


def _is_curve(analysis: str) -> bool:
    return analysis.removesuffix(_COUNTS) in CURVE_ANALYSES


def _held_by_all(rows: pd.DataFrame, sites: dict[str, pd.DataFrame]) -> pd.Series:
    """Whether every site reports the row's record (shown or hidden)."""
    held = pd.Series(True, index=rows.index)
    keys = pd.MultiIndex.from_frame(rows[_ROW].astype(str))
    for frame in sites.values():
        held &= keys.isin(pd.MultiIndex.from_frame(frame[_ROW].astype(str)))
    return held


def merged_records(merged: pd.DataFrame, sites: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return what a reader of the merged table knows, as one records table for the attacker.

    Parameters
    ----------
    merged : pandas.DataFrame
        The merged table (:func:`allrwe.results.merge.merge_frames`).
    sites : dict of str to pandas.DataFrame
        Per site, its records as read (:func:`allrwe.results.merge.read_sites`): which
        records it reports and its declared margins. The values are the merged table's.

    Returns
    -------
    pandas.DataFrame
        Records (columns :data:`allrwe.results.model.COLUMNS`). The pooled records are the
        pooled values shown, curves excepted (a sum of curves at the sites' event times is
        no curve); they carry no margins of their own, which follow from the sites' margins
        and the sums. A pooled count not shown is left out: it is a sum of site counts, one
        of them hidden, and adds nothing the sites' records do not say.
    """
    rows = merged[~merged["estimate_name"].isin(META_ESTIMATES)].set_index(_ROW)
    parts = []
    for site, frame in sites.items():
        values = rows[site].reindex(pd.MultiIndex.from_frame(frame[_ROW].astype(str)))
        margins = frame["margin"].fillna("").astype(str).tolist()
        parts.append(_column_records(frame, values.to_numpy(), margins, site, site=True))
    rows = rows.reset_index()
    shown = rows["pooled"].notna() & _held_by_all(rows, sites)
    pooled = rows[shown & ~rows["analysis"].map(_is_curve)]
    parts.append(
        _column_records(
            pooled, pooled["pooled"].to_numpy(), [""] * len(pooled), _POOLED, site=False
        )
    )
    return pd.concat(parts, ignore_index=True)


def _owner(key: tuple[str, ...], sites: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """Return the merged column and the plain key of an attacker's record key."""
    site, sep, group = key[1].partition(SITE_SEPARATOR)
    if sep and site in sites:
        return site, (key[0], group, *key[2:])
    return _POOLED, key


def _choose(
    rows: list[list[tuple[str, ...]]], records: pd.DataFrame, sites: Sequence[str]
) -> list[tuple[str, tuple[str, ...]]]:
    """One published count per constraint: the pooled one if any, else the smallest."""
    value = dict(
        zip(
            zip(*(records[c].astype(str) for c in _ROW), strict=True),
            records["value"].to_numpy(dtype=float),
            strict=True,
        )
    )
    chosen: set[tuple[str, tuple[str, ...]]] = set()
    for keys in rows:
        owned = sorted(_owner(k, sites) for k in keys)
        pooled = [o for o in owned if o[0] == _POOLED]
        if pooled:
            chosen.add(pooled[0])
        elif owned:
            smallest = min(keys, key=lambda k: (value.get(k, np.inf), k))
            chosen.add(_owner(smallest, sites))
    return sorted(chosen)


def _hide(
    merged: pd.DataFrame, cells: list[tuple[str, tuple[str, ...]]], sites: list[str]
) -> pd.DataFrame:
    """Hide the cells' counts, their linked rates, and the pooled values they feed."""
    out = merged.set_index(_ROW)
    for column, key in cells:
        out.loc[key, column] = np.nan
        cell = key[:-1]
        for name in _LINKED:
            if (*cell, name) in out.index:
                out.loc[(*cell, name), column] = np.nan
    records = ~out.index.get_level_values("estimate_name").isin(META_ESTIMATES)
    repooled = pool(out[records], sites)
    # pooled values only ever disappear: a hidden pooled count stays hidden
    kept = out.loc[records, "pooled"]
    out.loc[records, "pooled"] = repooled.where(kept.notna())
    result = out.reset_index()
    result.attrs["sites"] = sites
    return result


def secure_merged(
    merged: pd.DataFrame,
    sites: dict[str, pd.DataFrame],
    min_cell_count: int,
) -> tuple[pd.DataFrame, MergeAudit]:
    """Attack the merged table and hide more until no hidden count leaks.

    Parameters
    ----------
    merged : pandas.DataFrame
        The merged table (:func:`allrwe.results.merge.merge_frames`).
    sites : dict of str to pandas.DataFrame
        Per site, its records as read (see :func:`merged_records`).
    min_cell_count : int
        Hidden counts the attacker pins in ``1 .. min_cell_count - 1`` are leaks.

    Returns
    -------
    merged : pandas.DataFrame
        The table with the extra cells hidden (the input when there is no leak).
    audit : MergeAudit
        The last attack and what was hidden; ``audit.report.ok`` is False when a leak could
        not be closed within :data:`MAX_ROUNDS` rounds.
    """
    names = list(sites)
    hidden: list[HiddenCell] = []
    found: AttackReport | None = None
    rounds = 0
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 - the last round is reported
        records = merged_records(merged, sites)
        found, layers = exposing(records, min_cell_count)
        if found.ok:
            break
        # the constraints nearest to the leaks that hold a published count
        cells = _choose([keys for keys, _ in layers[0]] if layers else [], records, names)
        if not cells:
            break
        hidden += [HiddenCell(column, record_name(key)) for column, key in cells]
        merged = _hide(merged, cells, names)
    else:
        found = attack(merged_records(merged, sites), min_cell_count)
    assert found is not None
    return merged, MergeAudit(found, tuple(hidden), rounds)
