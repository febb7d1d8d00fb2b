"""Paths and CDM generation shared by the study tests (imported by conftest.py and tests)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

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
