"""Time Kaplan–Meier and Cox on 1,000,000 rows in allrwe and in R (if Rscript is present).

Run with ``.venv/bin/python bench/bench_survival.py [--rows N]``. Both sides read the same
simulated data from a temporary CSV; only the fitting is timed (best of ``--repeat`` runs).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from allrwe.analyses.survival import cox, kaplan_meier

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
rep <- as.integer(args[2])
best <- function(f) min(sapply(seq_len(rep), function(i) system.time(f())[["elapsed"]]))
km <- best(function() survfit(Surv(time, event) ~ 1, data = d, conf.type = "log-log"))
cx <- best(function() coxph(Surv(time, event) ~ x1 + x2 + x3, data = d, ties = "efron"))
fit <- coxph(Surv(time, event) ~ x1 + x2 + x3, data = d, ties = "efron")
cat(sprintf("%.6f %.6f %s\n", km, cx, paste(sprintf("%.12g", coef(fit)), collapse = " ")))
"""


def simulate(n: int, seed: int = 20240601) -> pd.DataFrame:
    """Day-resolution survival data with three covariates and about 30% censoring."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.binomial(1, 0.4, size=n).astype(float)
    x3 = rng.uniform(18, 80, size=n).round()
    rate = np.exp(0.3 * x1 - 0.5 * x2 + 0.01 * (x3 - 50)) / 400
    death = np.ceil(rng.exponential(1 / rate))
    censor = np.ceil(rng.uniform(1, 1500, size=n))
    return pd.DataFrame(
        {
            "time": np.minimum(death, censor),
            "event": (death <= censor).astype(int),
            "x1": x1.round(6),
            "x2": x2,
            "x3": x3,
        }
    )


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "surv.csv"
        simulate(args.rows).to_csv(path, index=False)
        d = pd.read_csv(path)
        t, e = d["time"].to_numpy(), d["event"].to_numpy()
        km_py = best_of(args.repeat, lambda: kaplan_meier(t, e))
        covs = ["x1", "x2", "x3"]
        cox_py = best_of(args.repeat, lambda: cox(d, time="time", event="event", covariates=covs))
        coef_py = cox(d, time="time", event="event", covariates=covs).coef
        print(f"rows: {args.rows:,}  events: {int(e.sum()):,}  distinct times: {np.unique(t).size}")
        print(f"allrwe  KM {km_py:8.3f} s   Cox(efron, 3 covariates) {cox_py:8.3f} s")
        rscript = shutil.which("Rscript")
        if rscript is None:
            print("Rscript not found: R timings skipped")
            return
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        out = subprocess.run(
            [rscript, str(script), str(path), str(args.repeat)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        km_r, cox_r = float(out[0]), float(out[1])
        coef_r = np.array([float(v) for v in out[2:]])
        print(f"R       KM {km_r:8.3f} s   Cox(efron, 3 covariates) {cox_r:8.3f} s")
        print(f"ratio allrwe/R: KM {km_py / km_r:6.2f}   Cox {cox_py / cox_r:6.2f}")
        rel = np.max(np.abs(coef_py - coef_r) / np.abs(coef_r))
        print(f"max relative difference of Cox coefficients vs R: {rel:.2e}")


if __name__ == "__main__":
    main()
