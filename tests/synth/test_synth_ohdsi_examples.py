"""Every example study runs on the ohdsi profile (real-ETL shape) and passes ``allrwe audit``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from allrwe.results import audit_outputs
from allrwe.study import run_study
from allrwe.synth import SynthResult, generate_cdm

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPECS = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
MINIMUM = 5
#: index groups of each example and the truth's index drug they stand for
DRUG = {"BLIN": "blinatumomab", "INO": "inotuzumab_ozogamicin"}


@pytest.fixture(scope="module")
def cdm(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    # the profile's own gaps included: 10 % of drug administrations have no end date, which
    # `allrwe check` reports as a warning and the reader fills in (docs/cdm-conventions.md)
    return generate_cdm(
        tmp_path_factory.mktemp("synth") / "ohdsi", persons=900, seed=11, profile="ohdsi",
        params={"population": {"all_patients": 140}},
    )  # fmt: skip


def test_there_are_four_examples() -> None:
    assert len(SPECS) == 4


@pytest.mark.parametrize("spec", SPECS, ids=[s[:7] for s in SPECS])
def test_example_runs_and_passes_the_audit(spec: str, cdm: SynthResult, tmp_path: Path) -> None:
    summary = run_study(EXAMPLES / spec, cdm.cdm_url, tmp_path / "out", min_cell_count=MINIMUM)
    assert summary.audit.ok
    audit = audit_outputs(tmp_path / "out", min_cell_count=MINIMUM)
    assert audit.ok, audit.findings[:3]
    records = pd.read_csv(tmp_path / "out" / "results.csv")
    persons = records[(records["analysis"] == "cohort") & (records["estimate_name"] == "count")]
    assert len(persons) > 0
    shown = pd.to_numeric(persons["value"], errors="coerce").fillna(0)
    # the standard concepts, HCPCS sources and vocabulary tables find the simulated patients
    assert shown.max() >= MINIMUM, spec
