"""Merge the output folders of several sites of one network study.

Only the shareable files are read (``results.csv`` and ``provenance.json`` through
:func:`allrwe.results.read`); a site folder is never searched for patient-level tables. The
sites must have run the same study spec (same ``spec_hash``).

The merged table has one column per site and a ``pooled`` column:

- a count is pooled as the sum over the sites, and only when every site shows it: a count
  suppressed at one site stays suppressed (the pooled total minus the other sites' counts would
  give it away); the level pooling a site's rare levels (``other (each fewer than 5)``) holds
  different categories at each site and is not summed;
- a proportion with a ``count`` and a ``denominator`` is pooled as the sum of the counts over
  the sum of the denominators (``percentage``);
- a hazard ratio (``hr``, ``hr_lower``, ``hr_upper``, a 95 % interval) is pooled on the log
  scale by inverse-variance (fixed effect) and DerSimonian-Laird (random effects) meta-analysis,
  with Cochran's Q, I² and tau².
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from allrwe.errors import UsageError
from allrwe.results.model import KEY_COLUMNS, POOLED_PREFIX
from allrwe.results.read import read

__all__ = [
    "MERGED_FILE",
    "META_ESTIMATES",
    "MetaAnalysis",
    "merge_frames",
    "merge_sites",
    "meta_analysis",
    "pool",
    "read_sites",
    "write_merged",
    "write_table",
]

#: the merged table's file name
MERGED_FILE = "merged.csv"

_ROW = [*KEY_COLUMNS, "estimate_name"]
_Z = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class MetaAnalysis:
    """Fixed- and random-effects pooled hazard ratio with heterogeneity.

    Attributes
    ----------
    hr_fixed, hr_fixed_lower, hr_fixed_upper : float
        Inverse-variance pooled hazard ratio and its 95 % interval.
    hr_random, hr_random_lower, hr_random_upper : float
        DerSimonian-Laird pooled hazard ratio and its 95 % interval.
    q, i2, tau2 : float
        Cochran's Q, I² (in percent) and the between-site variance of the log hazard ratio.
    k : int
        Number of sites pooled.
    """

    hr_fixed: float
    hr_fixed_lower: float
    hr_fixed_upper: float
    hr_random: float
    hr_random_lower: float
    hr_random_upper: float
    q: float
    i2: float
    tau2: float
    k: int


def meta_analysis(hr: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> MetaAnalysis:
    """Pool hazard ratios given with 95 % intervals (log scale; SE from the interval width).

    Examples
    --------
    >>> m = meta_analysis(np.array([2.0, 2.0]), np.array([1.0, 1.0]), np.array([4.0, 4.0]))
    >>> round(m.hr_fixed, 6), m.i2, m.tau2
    (2.0, 0.0, 0.0)
    """
    y = np.log(hr)
    se = (np.log(upper) - np.log(lower)) / (2 * _Z)
    w = 1.0 / se**2
    fixed = float(np.sum(w * y) / np.sum(w))
    se_fixed = float(np.sqrt(1.0 / np.sum(w)))
    q = float(np.sum(w * (y - fixed) ** 2))
    df = len(y) - 1
    i2 = 100.0 * max(0.0, (q - df) / q) if q > 0 else 0.0
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max(0.0, (q - df) / c) if c > 0 else 0.0
    wr = 1.0 / (se**2 + tau2)
    random = float(np.sum(wr * y) / np.sum(wr))
    se_random = float(np.sqrt(1.0 / np.sum(wr)))
    return MetaAnalysis(
        hr_fixed=float(np.exp(fixed)),
        hr_fixed_lower=float(np.exp(fixed - _Z * se_fixed)),
        hr_fixed_upper=float(np.exp(fixed + _Z * se_fixed)),
        hr_random=float(np.exp(random)),
        hr_random_lower=float(np.exp(random - _Z * se_random)),
        hr_random_upper=float(np.exp(random + _Z * se_random)),
        q=q,
        i2=i2,
        tau2=tau2,
        k=len(y),
    )


def _site_names(folders: Sequence[Path]) -> list[str]:
    names = [f.resolve().name for f in folders]
    if len(set(names)) < len(names):
        names = [f"{i}_{n}" for i, n in enumerate(names, start=1)]
    return names


def read_sites(folders: Sequence[str | Path]) -> tuple[list[str], list[pd.DataFrame]]:
    """Return the sites' names (their folder names) and records, after checking their specs.

    Raises
    ------
    UsageError
        Fewer than two folders, a folder without results, or sites with different specs.
    """
    paths = [Path(f) for f in folders]
    if len(folders) < 2:
        raise UsageError(f"merge needs at least two site folders, got {len(folders)}")
    frames = [read(f) for f in paths]
    hashes = {str(f.attrs.get("provenance", {}).get("spec_hash")) for f in frames}
    if len(hashes) != 1 or "None" in hashes:
        listed = ", ".join(
            f"{folder}: {str(frame.attrs.get('provenance', {}).get('spec_hash', 'none'))[:12]}"
            for folder, frame in zip(folders, frames, strict=True)
        )
        raise UsageError(f"the sites did not run the same study spec (spec_hash {listed})")
    return _site_names(paths), frames


def _wide(names: list[str], frames: list[pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for name, frame in zip(names, frames, strict=True):
        values = frame.set_index(_ROW)[["estimate_type", "value"]]
        parts.append(values.rename(columns={"value": name}))
    wide = pd.concat([p[[n]] for p, n in zip(parts, names, strict=True)], axis=1)
    levels = list(range(len(_ROW)))
    types = pd.concat([p["estimate_type"] for p in parts]).groupby(level=levels)
    wide.insert(0, "estimate_type", types.first())
    return wide.sort_index()


def _pool_counts(wide: pd.DataFrame, names: list[str]) -> pd.Series:
    values = wide[names]
    complete = values.notna().all(axis=1)
    levels = wide.index.get_level_values("variable_level").astype(str)
    residual = levels.str.startswith(POOLED_PREFIX)  # a different category at each site
    return values.sum(axis=1).where(complete & wide["estimate_type"].eq("count") & ~residual)


def _pool_proportions(wide: pd.DataFrame, pooled: pd.Series) -> pd.Series:
    keys = pd.MultiIndex.from_frame(wide.index.to_frame(index=False).drop(columns="estimate_name"))
    names = wide.index.get_level_values("estimate_name")
    counts = pd.Series(pooled[names == "count"].to_numpy(), index=keys[names == "count"])
    denominators = pd.Series(
        pooled[names == "denominator"].to_numpy(), index=keys[names == "denominator"]
    )
    share = 100.0 * counts / denominators.reindex(counts.index)
    target = names == "percentage"
    out = pooled.copy()
    out[target] = share.reindex(keys[target]).to_numpy()
    return out


def _pool_hazard_ratios(wide: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    rows = []
    key_levels: list[Hashable] = [c for c in _ROW if c != "estimate_name"]
    hr_rows = wide[
        wide.index.get_level_values("estimate_name").isin(["hr", "hr_lower", "hr_upper"])
    ]
    for key, block in hr_rows.groupby(level=key_levels, sort=True):
        by_name = block.droplevel(key_levels)[names]
        if not {"hr", "hr_lower", "hr_upper"} <= set(by_name.index):
            continue
        usable = by_name.T.dropna()
        usable = usable[(usable > 0).all(axis=1)]
        if len(usable) < 2:
            continue
        result = meta_analysis(
            usable["hr"].to_numpy(), usable["hr_lower"].to_numpy(), usable["hr_upper"].to_numpy()
        )
        for estimate, value in vars(result).items():
            rows.append((*key, estimate, "numeric", float(value)))
    columns = [*_ROW, "estimate_type", "pooled"]
    return pd.DataFrame(rows, columns=columns).set_index(_ROW)


#: the estimates of a pooled hazard ratio (rows of the merged table)
META_ESTIMATES = tuple(MetaAnalysis.__dataclass_fields__)


def pool(wide: pd.DataFrame, names: list[str]) -> pd.Series:
    """Return the pooled column of a merged table's record rows (counts and proportions)."""
    return _pool_proportions(wide, _pool_counts(wide, names))


def merge_frames(names: list[str], frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Return the merged table of sites already read (see :func:`merge_sites`)."""
    wide = _wide(names, frames)
    wide["pooled"] = pool(wide, names)
    meta = _pool_hazard_ratios(wide, names)
    merged = pd.concat([wide, meta]) if len(meta) else wide
    merged = merged.reset_index()
    merged.attrs["sites"] = names
    return merged


def merge_sites(folders: Sequence[str | Path]) -> pd.DataFrame:
    """Return the merged table of several sites' output folders.

    Parameters
    ----------
    folders : sequence of str or pathlib.Path
        The sites' ``--out`` folders (at least two, same study spec).

    Returns
    -------
    pandas.DataFrame
        Key columns, ``estimate_name``, ``estimate_type``, one column per site (named after
        its folder) and ``pooled``; the pooled hazard ratios follow as extra rows
        (``hr_fixed``, ``hr_random``, ``i2``, ...). NaN: suppressed, not reported or not
        poolable.

    Raises
    ------
    UsageError
        Fewer than two folders, a folder without results, or sites with different specs.
    """
    names, frames = read_sites(folders)
    return merge_frames(names, frames)


def write_table(merged: pd.DataFrame, out_dir: str | Path) -> Path:
    """Write a merged table to ``out_dir/merged.csv`` (the folder is created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / MERGED_FILE
    merged.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")
    return path


def write_merged(folders: Sequence[str | Path], out_dir: str | Path) -> Path:
    """Write :func:`merge_sites` to ``out_dir/merged.csv`` (the folder is created)."""
    return write_table(merge_sites(folders), out_dir)
