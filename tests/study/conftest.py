"""Small synthetic CDMs and one full run of the demo study, shared by the study tests."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from allrwe.study import RunSummary, StageEvent, run_study
from allrwe.synth import generate_cdm

#: the built-in demo study
DEMO_SPEC = Path(str(resources.files("allrwe.data") / "studies" / "demo.yaml"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def synthetic_cdm(
    folder: Path, profile: str, *, persons: int = 1200, all_patients: int = 150
) -> str:
    """Generate a small synthetic CDM (seed 11) and return its URL."""
    result = generate_cdm(
        folder,
        persons=persons,
        seed=11,
        profile=profile,
        params={"population": {"all_patients": all_patients}},
    )
    return result.cdm_url


@pytest.fixture(scope="session")
def emr_cdm(tmp_path_factory: pytest.TempPathFactory) -> str:
    return synthetic_cdm(tmp_path_factory.mktemp("emr") / "cdm", "emr")


@pytest.fixture(scope="session")
def claims_cdm(tmp_path_factory: pytest.TempPathFactory) -> str:
    return synthetic_cdm(tmp_path_factory.mktemp("claims") / "cdm", "claims")


@pytest.fixture(scope="session")
def demo_run(
    tmp_path_factory: pytest.TempPathFactory, emr_cdm: str
) -> tuple[RunSummary, list[StageEvent]]:
    """The demo study on the emr CDM, with patient-level tables, and its stage events."""
    events: list[StageEvent] = []
    out = tmp_path_factory.mktemp("run") / "out"
    summary = run_study(DEMO_SPEC, emr_cdm, out, patient_level=True, progress=events.append)
    return summary, events
