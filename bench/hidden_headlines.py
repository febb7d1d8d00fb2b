"""Trace the headline counts a sweep run hid although they are at least the threshold.

Reads the unsuppressed records a run of ``bench/disclosure_sweep.py`` kept
(``--work``/raw-<run>.parquet) and, for each hidden headline count of at least the
threshold (``allrwe.results.suppression.cell_weights``' headline), prints:

* its margins (the ``margin`` tokens it is a member or the total of) with their hidden
  cells, small ones marked ``!`` (zeros left out): the small cell that forces it, and
  through which margin;
* what the attacker finds when that headline alone is published again with the records
  linked to it, everything else as the run published it: no leak means it protected
  nothing that the other hidden cells do not; leaks name what it protects.

Usage::

    python bench/hidden_headlines.py /tmp/allrwe-disclosure-sweep/raw-*.parquet
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
KEY = ["analysis", "group", "strata_name", "strata_level", "variable", "variable_level"]


def _label(row: pd.Series) -> str:
    return (
        f"{row['analysis']}/{row['group']}/{row['strata_name']}={row['strata_level']}/"
        f"{row['variable']}={row['variable_level']}/{row['estimate_name']}"
    )


def _cell(row: pd.Series, k: int) -> str:
    small = "!" if 1 <= row["value"] < k else " "
    return f"{'H' if row['hidden'] else ' '} {row['value']:>7g} {small} {_label(row)}"


def _margins(raw: pd.DataFrame) -> tuple[dict[str, list[int]], dict[str, int]]:
    members: dict[str, list[int]] = defaultdict(list)
    totals: dict[str, int] = {}
    counts = raw["estimate_type"] == "count"
    for i, margin in zip(raw.index[counts], raw["margin"][counts], strict=True):
        for token in str(margin or "").split("|"):
            if token.startswith("total:"):
                totals[token.removeprefix("total:")] = i
            elif token:
                members[token].append(i)
    return members, totals


def trace(path: Path, k: int = 5, leaks_shown: int = 3) -> list[str]:
    """Return the lines of the trace of one run's raw records (see the module doc)."""
    from allrwe.results.attack import attack
    from allrwe.results.complementary import headlines

    raw = pd.read_parquet(path).reset_index(drop=True)
    values = raw["value"].to_numpy(dtype="float64")
    count = (raw["estimate_type"] == "count").to_numpy()
    hidden = raw["hidden"].to_numpy(dtype=bool)
    filled = np.nan_to_num(values, nan=0.0)
    headline = count & headlines(raw["weight"].to_numpy(), values) & (filled >= k)
    code = raw.groupby(KEY, sort=False).ngroup().to_numpy()
    members, totals = _margins(raw)
    records = raw.drop(columns=["hidden", "weight"])
    targets = np.flatnonzero(headline & hidden).tolist()
    lines = [f"{path.name}: {int(headline.sum())} headline >= {k}, {len(targets)} hidden"]
    for i in targets:
        lines.append(f"  {_cell(raw.loc[i], k)}")
        for token in str(raw.loc[i, "margin"] or "").split("|"):
            name = token.removeprefix("total:")
            if not name:
                continue
            cells = [totals[name]] if name in totals else []
            cells += members.get(name, [])
            shown = [c for c in cells if c != i and hidden[c] and values[c] > 0]
            lines.append(f"    margin {name}: {len(shown)} other hidden")
            lines += [f"      {_cell(raw.loc[c], k)}" for c in shown]
        trial = hidden.copy()
        trial[(code == code[i]) & (~count | (np.arange(len(raw)) == i))] = False
        found = attack(records.assign(value=np.where(trial, np.nan, values)), k)
        what = "; ".join(leak.describe() for leak in found.leaks[:leaks_shown])
        lines.append(f"    published alone: {len(found.leaks)} leak(s) {what}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", nargs="+", type=Path, help="raw-<run>.parquet files of a sweep")
    parser.add_argument("--min-cell-count", type=int, default=5)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    for path in args.raw:
        print("\n".join(trace(path, args.min_cell_count)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
