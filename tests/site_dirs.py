"""Hand-made site output folders (results.csv, provenance.json) for the merge tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from allrwe.results.model import COLUMNS

HEADER = list(COLUMNS)


def site_folder(
    root: Path,
    name: str,
    *,
    cr: str,
    n: str,
    hr: tuple[float, float, float],
    spec: str = "a",
    variable: str = "best_response",
) -> Path:
    """Write a site folder: a cohort count, one response proportion, one hazard ratio.

    ``variable`` names the response variable: with ``best_response`` the attacker reads CR
    as its only level (so CR count = denominator); another name leaves it a plain rate.
    """
    folder = root / name
    folder.mkdir()
    rows = [
        ("cohort", "BLIN", "overall", "overall", "persons", "overall", "count", "count", n),
        ("response", "BLIN", "overall", "overall", variable, "CR", "count", "count", cr),
        (
            "response",
            "BLIN",
            "overall",
            "overall",
            variable,
            "CR",
            "denominator",
            "count",
            n,
        ),
        (
            "response",
            "BLIN",
            "overall",
            "overall",
            variable,
            "CR",
            "percentage",
            "percentage",
            "" if cr == "" else str(100 * int(cr) / int(n)),
        ),
    ]
    rows += [
        ("survival_test", "BLIN", "setting", "overall", "os", "cox RR vs ND", e, "numeric", str(v))
        for e, v in zip(("hr", "hr_lower", "hr_upper"), hr, strict=True)
    ]
    with (folder / "results.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for r in rows:
            w.writerow([*r, "TRUE" if r[-1] == "" else "FALSE", ""])
    (folder / "provenance.json").write_text(json.dumps({"spec_hash": spec}))
    (folder / "patient_level").mkdir()
    (folder / "patient_level" / "cohort.parquet").write_bytes(b"never read")
    return folder
