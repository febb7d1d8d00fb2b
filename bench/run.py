"""``make bench``: ``allrwe run`` of the claims example study against the bare-engine limit.

For each size (persons of a synthetic claims CDM, Parquet, cached under ``bench/out/``):

(a) **bare engine**: one DuckDB scan that materialises exactly the rows and columns the study
    reads from the large tables: ``drug_exposure``, ``condition_occurrence``,
    ``procedure_occurrence`` and ``measurement`` rows of the concepts the study spec names
    (expanded through the vocabulary's groups; standard or source concept), with the columns
    allrwe's event queries select, and every ``death`` row (``CREATE TEMP TABLE ... AS``);
(b) **allrwe**: ``allrwe run`` of the study as a subprocess (check, cohort, analyses,
    suppression, report, export, audit), its peak RSS from ``wait4``.

Reported: b/a, peak RSS, CDM rows per second of (b), and growth of (b) per 10x persons.
Targets: b/a <= 1.5 at 10M persons, peak RSS <= 4 GB, linear growth. Figures go to
``bench/results.json`` (latest per size) and the table in ``bench/README.md``.

Usage::

    .venv/bin/python bench/run.py                  # 100k and 1M persons
    .venv/bin/python bench/run.py --full           # also 10M
    .venv/bin/python bench/run.py --sizes 100k --profile   # cProfile of the allrwe run
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import itertools
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OUT = BENCH / "out"
RESULTS = BENCH / "results.json"
README = BENCH / "README.md"
SPEC = ROOT / "examples" / "seed000_claims_patterns.yaml"
PYTHON = sys.executable
SEED = 20240601
SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
MARK_START, MARK_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
STAGE_LINE = re.compile(r"^BENCH-STAGE (\S+) ([0-9.]+)$")

#: runs ``allrwe run`` (the CLI entry point) and prints each stage's duration to stderr
RUNNER = """
import logging, re, sys
class StageTimes(logging.Handler):
    def emit(self, record):
        m = re.match(r"stage (\\S+) took ([0-9.]+) s", record.getMessage())
        if m:
            print("BENCH-STAGE", m.group(1), m.group(2), file=sys.stderr, flush=True)
log = logging.getLogger("allrwe.study")
log.setLevel(logging.DEBUG)
log.addHandler(StageTimes())
from allrwe.cli.app import finish, main, prepare_process
args = sys.argv[3:] if sys.argv[1] == "--profile" else sys.argv[1:]
prepare_process(args)  # as the allrwe console script starts: imports its command's module only
if sys.argv[1] == "--profile":
    import cProfile
    prof = cProfile.Profile()
    code = prof.runcall(main, args)
    prof.dump_stats(sys.argv[2])
else:
    code = main(args)
finish(code)  # as the allrwe console script ends
"""

GENERATOR = """
import json, sys
from allrwe.synth import generate_cdm
res = generate_cdm(sys.argv[1], persons=int(sys.argv[2]), seed=int(sys.argv[3]),
                   profile="claims", fmt="parquet", overwrite=True)
print(json.dumps(res.to_dict()))
"""

BASELINE = """
import json, sys, time
import duckdb
sql = json.loads(sys.stdin.read())
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute("SET enable_external_file_cache = false")  # as allrwe's connections
t0 = time.perf_counter()
rows = {}
for name, statement in sql.items():
    con.execute(statement)
    rows[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": rows}))
"""


@dataclass
class Measured:
    """One process: wall time, peak RSS and what it printed."""

    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


@dataclass
class SizeResult:
    """The figures of one size."""

    label: str
    persons: int
    cdm_rows: int
    all_patients: int
    cohort: str
    baseline_s: float
    baseline_rows: int
    baseline_rss_mb: float
    allrwe_s: float
    allrwe_rss_mb: float
    stages: dict[str, float] = field(default_factory=dict)
    generate_s: float | None = None
    date: str = ""
    machine: str = ""

    @property
    def ratio(self) -> float:
        """Allrwe time over bare-engine time."""
        return self.allrwe_s / self.baseline_s

    @property
    def engine_s(self) -> float:
        """Time of the stages that query the CDM (connect to safety)."""
        skip = {"results", "export", "report", "audit"}
        return sum(v for k, v in self.stages.items() if k not in skip)


def run_process(args: list[str], *, stdin: str | None = None, cwd: Path = ROOT) -> Measured:
    """Run a process to the end; return its wall time and peak RSS (``wait4`` rusage)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            cwd=cwd,
            text=True,
        )
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} ... failed ({proc.returncode}):\n{stderr[-3000:]}")
    return Measured(seconds, usage.ru_maxrss / 1024, stdout, stderr)


def last_json(text: str) -> dict[str, Any]:
    """The JSON object on the last line of a process's output."""
    data: dict[str, Any] = json.loads(text.strip().splitlines()[-1])
    return data


def parse_size(text: str) -> tuple[str, int]:
    """``"1M"`` -> ``("1M", 1000000)``; plain integers work too."""
    if text in SIZES:
        return text, SIZES[text]
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}: use e.g. 100k, 1M, 250000")
    n = int(float(m.group(1)) * {"": 1, "k": 10**3, "m": 10**6}[m.group(2).lower()])
    return text, n


def machine() -> str:
    """``nproc``, RAM and CPU model of this machine."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kb / 1024**2:.0f} GB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    return f"{os.cpu_count()} CPUs (nproc), {ram}, {cpu}"


def ensure_cdm(label: str, persons: int) -> tuple[Path, dict[str, Any], float | None]:
    """The cached CDM of ``persons`` (generated when missing); its manifest and build time."""
    folder = OUT / f"claims-{label}"
    manifest = folder / "synth.json"
    if manifest.is_file():
        info = json.loads(manifest.read_text())
        if info.get("persons") == persons and info.get("seed") == SEED:
            return folder, info, None
    print(f"[{label}] generating a claims CDM of {persons:,} persons ...", flush=True)
    done = run_process([PYTHON, "-c", GENERATOR, str(folder), str(persons), str(SEED)])
    return folder, last_json(done.stdout), done.seconds


def study_concepts() -> list[int]:
    """Concept ids of every concept set the study spec names (groups expanded)."""
    from allrwe.io.vocabulary import load_vocabulary
    from allrwe.spec import load_spec

    spec = load_spec(SPEC, check_vocabulary=False)
    vocab = load_vocabulary(spec.resolved_vocabulary_paths())
    ids: set[int] = set()
    for _, key in spec.concept_set_fields():
        for cs in vocab.members(key):
            ids.update(cs.concept_ids)
    return sorted(ids)


def baseline_sql(folder: Path, concepts: list[int]) -> dict[str, str]:
    """``CREATE TEMP TABLE`` per table: the rows and columns the study's event queries read."""
    from allrwe.cohort.domains import EVENT_DOMAINS, EXTRA_COLUMNS

    ids = ", ".join(map(str, concepts))
    out = {}
    for domain in ("drug", "condition", "procedure", "measurement"):
        d = EVENT_DOMAINS[domain]
        cols = [
            "person_id",
            d.id_col,
            d.concept_col,
            d.source_col,
            d.start_col,
            *([d.end_col] if d.end_col else []),
            *EXTRA_COLUMNS[domain],
        ]
        out[f"b_{domain}"] = (
            f"CREATE TEMP TABLE b_{domain} AS SELECT {', '.join(cols)} "
            f"FROM read_parquet('{folder / d.table}/*.parquet') "
            f"WHERE {d.concept_col} IN ({ids}) OR {d.source_col} IN ({ids})"
        )
    out["b_death"] = (
        "CREATE TEMP TABLE b_death AS SELECT person_id, death_date, cause_concept_id "
        f"FROM read_parquet('{folder / 'death'}/*.parquet')"
    )
    return out


def measure(label: str, persons: int, *, repeat: int, profile: bool) -> SizeResult:
    """Generate (or reuse) the CDM of one size and measure (a) and (b)."""
    folder, info, gen_s = ensure_cdm(label, persons)
    sql = json.dumps(baseline_sql(folder, study_concepts()))
    out = OUT / f"run-{label}"
    args = ["run", str(SPEC), "--cdm", f"parquet://{folder}", "--out", str(out)]
    if profile:
        args = ["--profile", str(OUT / f"profile-{label}.pstats"), *args]
    # (a) and (b) take turns, so that both meet the same state of the machine; the fastest
    # run of each is kept (the least disturbed one), and the largest peak RSS of (b).
    runs, allrwe_runs = [], []
    for _ in range(repeat):
        runs.append(run_process([PYTHON, "-c", BASELINE], stdin=sql))
        allrwe_runs.append(run_process([PYTHON, "-c", RUNNER, *args]))
    best = min(runs, key=lambda m: last_json(m.stdout)["seconds"])
    base = last_json(best.stdout)
    print(f"[{label}] bare engine: {base['seconds']:.2f} s, rows {base['rows']}", flush=True)
    run = min(allrwe_runs, key=lambda m: m.seconds)
    run = Measured(run.seconds, max(m.peak_rss_mb for m in allrwe_runs), run.stdout, run.stderr)
    stages = {
        m.group(1): float(m.group(2))
        for m in map(STAGE_LINE.match, run.stderr.splitlines())
        if m is not None
    }
    cohort = next(
        (line.split(":", 1)[1].strip() for line in run.stdout.splitlines() if "Cohort" in line),
        "",
    )
    result = SizeResult(
        label=label,
        persons=persons,
        cdm_rows=sum(info["row_counts"].values()),
        all_patients=int(info["all_patients"]),
        cohort=cohort,
        baseline_s=base["seconds"],
        baseline_rows=sum(base["rows"].values()),
        baseline_rss_mb=best.peak_rss_mb,
        allrwe_s=run.seconds,
        allrwe_rss_mb=run.peak_rss_mb,
        stages=stages,
        generate_s=gen_s,
        date=dt.date.today().isoformat(),
        machine=machine(),
    )
    print(
        f"[{label}] allrwe run: {run.seconds:.1f} s (engine stages {result.engine_s:.1f} s), "
        f"ratio {result.ratio:.1f}, peak RSS {run.peak_rss_mb:,.0f} MB",
        flush=True,
    )
    if profile:
        print_profile(OUT / f"profile-{label}.pstats")
    return result


def print_profile(path: Path, top: int = 30) -> None:
    """Print the functions with the largest cumulative time of a cProfile run."""
    import pstats

    stats = pstats.Stats(str(path))
    stats.sort_stats("cumulative").print_stats(top)


def growth(results: list[SizeResult]) -> dict[str, float]:
    """Time factor of (b) per 10x persons between consecutive sizes (10 = linear)."""
    out = {}
    ordered = sorted(results, key=lambda r: r.persons)
    for small, large in itertools.pairwise(ordered):
        decades = math.log10(large.persons / small.persons)
        out[f"{small.label}->{large.label}"] = (large.allrwe_s / small.allrwe_s) ** (1 / decades)
    return out


def load_results() -> dict[str, dict[str, Any]]:
    """Earlier figures by size label."""
    if RESULTS.is_file():
        data: dict[str, dict[str, Any]] = json.loads(RESULTS.read_text())
        return data
    return {}


def from_dict(d: dict[str, Any]) -> SizeResult:
    """A :class:`SizeResult` from its JSON form."""
    return SizeResult(**{k: v for k, v in d.items() if k in SizeResult.__dataclass_fields__})


def table(results: list[SizeResult]) -> str:
    """The Markdown results section of the README."""
    rows = sorted(results, key=lambda r: r.persons)
    lines = [
        "| persons | CDM rows | cohort | bare engine (a) | allrwe run (b) | b/a "
        "| engine stages | peak RSS (b) | rows/s (b) | date |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.persons:,} | {r.cdm_rows:,} | {r.cohort} | {r.baseline_s:.2f} s "
            f"| {r.allrwe_s:.1f} s | {r.ratio:.1f} | {r.engine_s:.1f} s "
            f"| {r.allrwe_rss_mb:,.0f} MB | {r.cdm_rows / r.allrwe_s:,.0f} | {r.date} |"
        )
    grow = growth(rows)
    if grow:
        lines.append("")
        lines.append(
            "Growth of (b) per 10x persons (10 = linear): "
            + ", ".join(f"{k} x{v:.1f}" for k, v in grow.items())
        )
    lines.append("")
    lines.append("Stage times of (b), seconds:")
    lines.append("")
    names = list(dict.fromkeys(k for r in rows for k in r.stages))
    lines.append("| persons | " + " | ".join(names) + " |")
    lines.append("|---:|" + "---:|" * len(names))
    for r in rows:
        cells = " | ".join(f"{r.stages.get(n, float('nan')):.1f}" for n in names)
        lines.append(f"| {r.persons:,} | {cells} |")
    machines = sorted({r.machine for r in rows})
    lines.append("")
    lines.append("Machine: " + "; ".join(machines))
    return "\n".join(lines)


def write_readme(results: list[SizeResult]) -> None:
    """Replace the results section of bench/README.md."""
    text = README.read_text() if README.is_file() else f"# Benchmarks\n\n{MARK_START}\n{MARK_END}\n"
    head, _, rest = text.partition(MARK_START)
    _, _, tail = rest.partition(MARK_END)
    README.write_text(f"{head}{MARK_START}\n{table(results)}\n{MARK_END}{tail}")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=lambda s: [parse_size(x) for x in s.split(",")],
        default=[parse_size("100k"), parse_size("1M")],
        help="comma-separated persons per CDM (default 100k,1M)",
    )
    parser.add_argument("--full", action="store_true", help="also 10M persons")
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs of (a) and of (b), in turn (best kept)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the allrwe runs")
    parser.add_argument("--no-readme", action="store_true", help="leave bench/README.md as is")
    parser.add_argument(
        "--readme-only", action="store_true", help="rewrite bench/README.md from results.json"
    )
    args = parser.parse_args(argv)
    if args.readme_only:
        write_readme([from_dict(d) for d in load_results().values()])
        return 0
    sizes = list(dict(args.sizes + ([parse_size("10M")] if args.full else [])).items())
    OUT.mkdir(parents=True, exist_ok=True)
    # Byte-compile the editable install's sources, as pip does for an installed wheel, so that
    # start-up is measured without compiling them (PYTHONDONTWRITEBYTECODE may be set).
    compileall.compile_dir(ROOT / "src" / "allrwe", quiet=1)
    known = load_results()
    measured = []
    for label, persons in sorted(sizes, key=lambda s: s[1]):
        result = measure(label, persons, repeat=args.repeat, profile=args.profile)
        measured.append(result)
        known[label] = asdict(result)
        RESULTS.write_text(json.dumps(known, indent=2) + "\n")
    all_results = [from_dict(d) for d in known.values()]
    print(table(all_results))
    if not args.no_readme:
        write_readme(all_results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
