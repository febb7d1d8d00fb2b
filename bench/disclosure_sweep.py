"""Sweep the disclosure control over the examples, both profiles, five seeds and two sizes.

For each example spec x profile (emr, claims) x seed x size (5,000 and 100,000 persons) it
writes a synthetic CDM (``allrwe synth``, kept under ``--work`` and reused; 400 ALL patients
at 5,000 persons, :data:`ALL_PATIENTS`), runs the study
in a child process and reads the output folder back as the attacker does. Per run it
records:

* the run's exit code;
* the leaks the attacker finds in the output folder (``allrwe.results.published`` +
  ``allrwe.results.attack``, the figures of ``report.html`` included);
* the share of count records hidden by primary suppression alone ("before": counts in
  ``1 .. k - 1``) and by the whole suppression ("after"), both over all count records;
* the headline counts (group sizes, ND/RR, treatment settings, responders in the overall
  stratum: ``allrwe.results.suppression.cell_weights``' headline) that are at least the
  threshold, and how many of them are hidden;
* the seconds of the suppression stage (``results``) and of the whole run, from the stage
  timings the study logs.

The child wraps ``allrwe.study.pipeline.suppress`` to measure "before" and the headlines
on the unsuppressed records; nothing of that reaches the outputs. It also keeps those
records (key columns, estimate name and type, margin, value, whether the suppression hid
them, :func:`~allrwe.results.suppression.cell_weights`) in ``--work``/raw-<run>.parquet, so
that a hidden headline can be traced to the small cell and the margin that hide it
without running the study again.

Usage::

    nice -n 10 python bench/disclosure_sweep.py --sizes 5000 --seeds 1 2 3 4 5
    python bench/disclosure_sweep.py --table   # print the Markdown table of what ran

Results are appended, one JSON line per run, to ``--work``/sweep.jsonl; ``--table`` prints
them as the table of ``docs/results-model.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = (
    "seed000_claims_patterns",
    "seed001_blinatumomab_emr",
    "seed003_inotuzumab_outcomes",
    "seed004_post_hct_relapse",
)
PROFILES = ("emr", "claims")
SEEDS = (1, 2, 3, 4, 5)
SIZES = (5_000, 100_000)
#: ALL patients among the persons of a size (as the earlier sweep: a 5,000-person CDM with
#: the default share holds too few for the analyses); sizes not listed use synth's default
ALL_PATIENTS = {5_000: 400}

#: runs ``allrwe run`` with the stage timings and the unsuppressed records' figures
CHILD = """
import json, logging, re, sys, time
import numpy as np
stages = {}
class StageTimes(logging.Handler):
    def emit(self, record):
        m = re.match(r"stage (\\S+) took ([0-9.]+) s", record.getMessage())
        if m:
            stages[m.group(1)] = float(m.group(2))
log = logging.getLogger("allrwe.study")
log.setLevel(logging.DEBUG)
log.addHandler(StageTimes())
import allrwe.study.pipeline as pipeline
from allrwe.results.complementary import headlines
from allrwe.results.suppression import cell_weights
found = {}
plain = pipeline.suppress
def measured(raw, **kw):
    out = plain(raw, **kw)
    k = kw["min_cell_count"]
    records = raw.records
    values = records["value"].to_numpy(dtype="float64")
    count = (records["estimate_type"] == "count").to_numpy()
    weights = cell_weights(records)
    headline = count & headlines(weights, values) & (values >= k)
    hidden = out.records["suppressed"].to_numpy()
    found.update(
        counts=int(count.sum()),
        primary=int((count & (values >= 1) & (values < k)).sum()),
        hidden=int((count & hidden).sum()),
        headline=int(headline.sum()),
        headline_hidden=int((headline & hidden).sum()),
        min_cell_count=int(k),
    )
    if len(sys.argv) > 2 and sys.argv[2].endswith(".parquet"):
        keep = records[["analysis", "strata_name", "strata_level", "group", "variable",
                        "variable_level", "estimate_name", "estimate_type", "margin"]]
        keep.assign(value=values, hidden=hidden, weight=weights).to_parquet(sys.argv[2])
    return out
pipeline.suppress = measured
from allrwe.cli.app import main, prepare_process
prepare_process()
started = time.perf_counter()
code = main(sys.argv[3:])
found.update(code=code, seconds=time.perf_counter() - started, stages=stages)
with open(sys.argv[1], "w") as f:
    json.dump(found, f)
"""


def _python() -> str:
    return sys.executable


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cdm(work: Path, profile: str, seed: int, persons: int) -> Path:
    path = work / f"cdm-{profile}-{seed}-{persons}.duckdb"
    if not path.exists():
        cmd = [_python(), "-m", "allrwe", "synth", "--out", str(path), "--format", "duckdb"]
        cmd += ["--persons", str(persons), "--seed", str(seed), "--profile", profile]
        if persons in ALL_PATIENTS:
            cmd += ["--all-patients", str(ALL_PATIENTS[persons])]
        subprocess.run(cmd, check=True, env=_env(), capture_output=True)
    return path


def _attack(folder: Path) -> dict[str, object]:
    sys.path.insert(0, str(ROOT / "src"))
    from allrwe.results.attack import attack
    from allrwe.results.published import read_published

    published = read_published(folder)
    minimum = published.min_cell_count or 5
    found = attack(published.records, minimum, report=published.report, figures=published.figures)
    return {
        "leaks": len(found.leaks),
        "first_leak": found.leaks[0].describe() if found.leaks else "",
    }


def run_one(work: Path, example: str, profile: str, seed: int, persons: int) -> dict[str, object]:
    """Run one example on one CDM; return the figures of the run (see the module doc)."""
    cdm = _cdm(work, profile, seed, persons)
    out = work / f"out-{example}-{profile}-{seed}-{persons}"
    facts = work / f"facts-{example}-{profile}-{seed}-{persons}.json"
    facts.unlink(missing_ok=True)
    spec = ROOT / "examples" / f"{example}.yaml"
    raw = work / f"raw-{example}-{profile}-{seed}-{persons}.parquet"
    cmd = [_python(), "-c", CHILD, str(facts), str(raw), "--quiet", "run", str(spec)]
    cmd += ["--cdm", f"duckdb://{cdm}", "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=_env(), capture_output=True, text=True)
    row: dict[str, object] = {
        "example": example,
        "profile": profile,
        "seed": seed,
        "persons": persons,
        "exit": done.returncode,
        "wall": round(time.perf_counter() - started, 1),
    }
    if facts.exists():
        row.update(json.loads(facts.read_text()))
    if done.returncode == 0:
        row.update(_attack(out))
    else:
        row["error"] = (done.stderr.strip().splitlines() or [""])[-1][:300]
    return row


def _int(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "–"


def _share(part: object, whole: object) -> str:
    if not isinstance(part, int) or not isinstance(whole, int) or not whole:
        return "–"
    return f"{100.0 * part / whole:.1f} %"


def table(rows: list[dict[str, object]]) -> str:
    """Return the Markdown table of the sweep's runs."""
    head = (
        "| example | profile | seed | persons | exit | leaks | count records | hidden before "
        "| hidden after | headline ≥ k hidden | suppression / run (s) |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in rows:
        stages = r.get("stages") or {}
        assert isinstance(stages, dict)
        results = stages.get("results")
        seconds = r.get("seconds")
        timing = (
            f"{results:.1f} / {seconds:.1f} ({100 * results / seconds:.0f} %)"
            if isinstance(results, float) and isinstance(seconds, float) and seconds
            else "–"
        )
        lines.append(
            f"| {str(r['example'])[:7]} | {r['profile']} | {r['seed']} | {_int(r['persons'])} "
            f"| {r['exit']} | {r.get('leaks', '–')} | {_int(r.get('counts'))} "
            f"| {_share(r.get('primary'), r.get('counts'))} "
            f"| {_share(r.get('hidden'), r.get('counts'))} "
            f"| {r.get('headline_hidden', '–')} of {r.get('headline', '–')} | {timing} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/allrwe-disclosure-sweep"))
    parser.add_argument("--examples", nargs="+", default=list(EXAMPLES))
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--table", action="store_true", help="print the table of what ran")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "sweep.jsonl"
    if args.table:
        rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
        print(table(rows))
        return 0
    failures = 0
    for persons in args.sizes:
        for seed in args.seeds:
            for profile in args.profiles:
                for example in args.examples:
                    row = run_one(args.work, example, profile, seed, persons)
                    failures += row["exit"] != 0 or row.get("leaks", 0) != 0
                    with log.open("a") as f:
                        f.write(json.dumps(row) + "\n")
                    print(json.dumps(row), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
