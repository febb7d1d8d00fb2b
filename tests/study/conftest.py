"""Small synthetic CDMs and one full run of the demo study, shared by the study tests."""

from __future__ import annotations

import pytest
from study_paths import DEMO_SPEC, inotuzumab_emr_params, synthetic_cdm

from allrwe.study import RunSummary, StageEvent, run_study


@pytest.fixture(scope="session")
def emr_cdm(tmp_path_factory: pytest.TempPathFactory) -> str:
    return synthetic_cdm(tmp_path_factory.mktemp("emr") / "cdm", "emr")


@pytest.fixture(scope="session")
def emr_ino_cdm(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A hospital extract whose novel agent is inotuzumab (the seed 003 design)."""
    return synthetic_cdm(
        tmp_path_factory.mktemp("emr_ino") / "cdm", "emr", params=inotuzumab_emr_params()
    )


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
