"""Benchmark of ``allrwe synth``: rows per second and peak memory at 100k, 1M (and 10M) persons.

Each size runs in its own child process, so the peak resident set size reported is that of the
generator alone (``resource.getrusage(RUSAGE_CHILDREN)`` after the child ends).

    .venv/bin/python bench/bench_synth.py                 # 100k and 1M persons, claims profile
    .venv/bin/python bench/bench_synth.py --ten-million   # also 10M persons
    .venv/bin/python bench/bench_synth.py --sizes 20000 --profile emr --json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _child(out: str, persons: int, profile: str, seed: int, chunk: int | None, queue: Any) -> None:
    from allrwe.synth import DEFAULT_CHUNK_SIZE, generate_cdm

    start = time.perf_counter()
    result = generate_cdm(
        out, persons=persons, seed=seed, profile=profile, chunk_size=chunk or DEFAULT_CHUNK_SIZE
    )
    queue.put(
        {
            "seconds": time.perf_counter() - start,
            "rows": sum(result.row_counts.values()),
            "all_patients": result.all_patients,
            "row_counts": result.row_counts,
        }
    )


def _bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(persons: int, profile: str, seed: int, chunk: int | None, keep: bool) -> dict[str, Any]:
    """Generate one CDM in a child process; return time, rows, rows/s, peak RSS and size."""
    out = Path(tempfile.mkdtemp(prefix=f"allrwe-bench-{persons}-"))
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = ctx.Process(target=_child, args=(str(out / "cdm"), persons, profile, seed, chunk, queue))
    proc.start()
    stats = queue.get()
    proc.join()
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = _bytes(out)
    if not keep:
        shutil.rmtree(out)
    return {
        "persons": persons,
        "profile": profile,
        **stats,
        "rows_per_second": stats["rows"] / stats["seconds"],
        # ru_maxrss of children is the largest child so far (kB on Linux)
        "peak_rss_mb": max(peak_kb, before) / 1024,
        "disk_mb": size / 2**20,
        "out": str(out) if keep else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--ten-million", action="store_true", help="Also run 10M persons.")
    parser.add_argument("--profile", default="claims", choices=["claims", "emr"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="Keep the generated folders.")
    parser.add_argument("--json", action="store_true", help="Print JSON lines.")
    args = parser.parse_args(argv)
    sizes = list(args.sizes) + ([10_000_000] if args.ten_million else [])
    for persons in sizes:
        r = run(persons, args.profile, args.seed, args.chunk_size, args.keep)
        if args.json:
            print(json.dumps(r))
        else:
            print(
                f"{r['profile']:6} {persons:>11,} persons  {r['rows']:>14,} rows  "
                f"{r['seconds']:8.1f} s  {r['rows_per_second']:>12,.0f} rows/s  "
                f"peak RSS {r['peak_rss_mb']:7.0f} MB  {r['disk_mb']:8.0f} MB on disk  "
                f"ALL {r['all_patients']:,}"
            )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
