"""CPU time per stage of ``allrwe run``: figures that mean something on a shared machine.

Wall times taken while other jobs run say more about them than about allrwe. This runs the
claims example study (as ``bench/run.py`` does) and records, for each stage of the run:

* ``wall``: its duration;
* ``cpu``: the CPU time of the whole process (every thread: DuckDB's, the imports');
* ``main``: the CPU time of the main thread (the analyses, suppression, report, export);
* ``runq``: how long the main thread waited for a CPU while it could run (Linux only:
  ``/proc/thread-self/schedstat``): other processes, the run's own figure workers
  included, taking the CPU it wanted.

and, for the whole run, the CPU time of the processes it waited for (the figure workers).
Two or more result files are printed side by side.

Usage::

    PYTHONPATH=src .venv/bin/python bench/stage_cpu.py run 10M out.json
    .venv/bin/python bench/stage_cpu.py compare main.json branch.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "examples" / "seed000_claims_patterns.yaml"
OUT = ROOT / "bench" / "out"

#: runs ``allrwe run`` as the console script does, recording each stage's clocks
RUNNER = """
import json, logging, re, resource, sys, time

def clocks():
    try:
        with open("/proc/thread-self/schedstat") as f:
            waited = int(f.read().split()[1]) / 1e9
    except OSError:
        waited = 0.0
    return time.perf_counter(), time.process_time(), time.thread_time(), waited

marks = {}
class StageClocks(logging.Handler):
    def emit(self, record):
        text = record.getMessage()
        m = re.match(r"stage (\\S+): start", text) or re.match(r"stage (\\S+) (took)", text)
        if m:
            marks.setdefault(m.group(1), {})["end" if m.lastindex == 2 else "start"] = clocks()
log = logging.getLogger("allrwe.study")
log.setLevel(logging.DEBUG)
log.addHandler(StageClocks())
log.propagate = False
started = clocks()
from allrwe.cli.app import finish, main, prepare_process
args = sys.argv[2:]
prepare_process(args)
ready = clocks()
code = main(args)
ended = clocks()
children = resource.getrusage(resource.RUSAGE_CHILDREN)
names = ("wall", "cpu", "main", "runq")
result = {
    "wall": ended[0] - started[0],
    "cpu": ended[1],
    "workers_cpu": children.ru_utime + children.ru_stime,
    "startup": dict(zip(names, (b - a for a, b in zip(started, ready)))),
    "stages": {
        k: dict(zip(names, (b - a for a, b in zip(v["start"], v["end"]))))
        for k, v in marks.items() if "end" in v
    },
}
with open(sys.argv[1], "w") as f:
    json.dump(result, f, indent=1)
finish(code)
"""


def run(size: str, result: Path) -> int:
    """Run the study on ``bench/out/claims-<size>``; write the clocks to ``result``.

    The run's output goes to a temporary folder, removed afterwards.
    """
    import subprocess
    import tempfile

    cdm = OUT / f"claims-{size}"
    if not (cdm / "synth.json").is_file():
        print(f"no CDM at {cdm}: make it with bench/run.py --sizes {size}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="allrwe-stage-cpu-") as tmp:
        out = Path(tmp) / "out"
        args = ["--quiet", "run", str(SPEC), "--cdm", f"parquet://{cdm}", "--out", str(out)]
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(result.resolve()), *args], check=False
        )
    return done.returncode


def _cells(values: dict[str, float] | None) -> str:
    keys = ("wall", "cpu", "main", "runq")
    return "".join(f"{values[k]:8.2f}" for k in keys) if values else " " * 32


def table(results: list[tuple[str, dict[str, Any]]]) -> str:
    """The stages of each result side by side: wall, process CPU, main thread CPU, runq."""
    lines = [
        "stage      " + "".join(f"    {name[:32]:>32}" for name, _ in results),
        "           " + "        wall     cpu    main    runq" * len(results),
    ]
    stages = list(dict.fromkeys(k for _, r in results for k in r["stages"]))
    lines.append("startup    " + "".join(f"    {_cells(r['startup'])}" for _, r in results))
    for stage in stages:
        row = "".join(f"    {_cells(r['stages'].get(stage))}" for _, r in results)
        lines.append(f"{stage:<11}{row}")
    whole = "".join(f"    {r['wall']:8.2f}{r['cpu']:8.2f}{'':16}" for _, r in results)
    workers = "".join(f"    {'':8}{r['workers_cpu']:8.2f}{'':16}" for _, r in results)
    lines += [f"whole run  {whole}", f"workers    {workers}"]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """``run SIZE RESULT.json`` or ``compare RESULT.json ...``."""
    if len(argv) == 3 and argv[0] == "run":
        return run(argv[1], Path(argv[2]))
    if len(argv) >= 2 and argv[0] == "compare":
        print(table([(Path(p).stem, json.loads(Path(p).read_text())) for p in argv[1:]]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
