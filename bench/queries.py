"""Time every engine query of a study run and name the allrwe function that sent it.

Runs ``run_study`` in this process with :meth:`CdmConnection.execute` wrapped, then prints the
slowest queries (seconds, rows returned, caller chain inside allrwe) and the total per stage
function. Use on a CDM cached by ``bench/run.py``::

    .venv/bin/python bench/queries.py bench/out/claims-1M [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from allrwe.io.connection import CdmConnection
from allrwe.study import run_study

SPEC = Path(__file__).resolve().parents[1] / "examples" / "seed000_claims_patterns.yaml"


def _check_rule() -> str:
    """``rule@table`` of the CDM check whose query this is, if it is one."""
    frame = sys._getframe(2)
    while frame is not None:
        found = frame.f_locals.get("check")
        if found is not None and hasattr(found, "rule"):
            return f" [{found.rule}@{found.table}]"
        batch = frame.f_locals.get("checks")
        if isinstance(batch, list) and batch and hasattr(batch[0], "rule"):
            return f" [batch of {len(batch)} on {batch[0].table}]"
        frame = frame.f_back
    return ""


#: the modules that only pass queries on to the engine (the connection and the kept rows)
_FACADE = ("/allrwe/io/connection.py", "/allrwe/io/kept.py")


def _callers() -> str:
    frames = [
        f
        for f in traceback.extract_stack()[:-2]
        if "/allrwe/" in f.filename and not f.filename.endswith(_FACADE)
    ]
    names = [f"{Path(f.filename).parent.name}/{Path(f.filename).stem}.{f.name}" for f in frames]
    return " < ".join(reversed(names[-3:])) + _check_rule()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cdm", type=Path, help="a Parquet CDM folder")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    log: list[tuple[float, int, str]] = []
    original = CdmConnection.execute

    def timed(self: CdmConnection, expr: Any) -> Any:
        started = time.perf_counter()
        result = original(self, expr)
        rows = len(result) if hasattr(result, "__len__") else 1
        log.append((time.perf_counter() - started, rows, _callers()))
        return result

    CdmConnection.execute = timed  # type: ignore[method-assign]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        run_study(SPEC, f"parquet://{args.cdm.resolve()}", Path(out) / "run")
    total = time.perf_counter() - started
    engine = sum(t for t, _, _ in log)
    print(f"run_study {total:.1f} s; {len(log)} queries, {engine:.1f} s in the engine")
    print(f"\nslowest {args.top} queries (seconds, rows, caller < its caller < ...):")
    for t, rows, where in sorted(log, reverse=True)[: args.top]:
        print(f"{t:8.2f} {rows:9d}  {where}")
    by_top: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()
    for t, _, where in log:
        key = where.split(" < ")[-1]
        by_top[key] += t
        counts[key] += 1
    print("\nengine time by outermost allrwe caller:")
    for key, t in sorted(by_top.items(), key=lambda kv: -kv[1]):
        print(f"{t:8.2f} s {counts[key]:4d} queries  {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
