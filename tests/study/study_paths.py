"""Paths and CDM generation shared by the study tests (imported by conftest.py and tests)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from allrwe.synth import generate_cdm

#: the built-in demo study
DEMO_SPEC = Path(str(resources.files("allrwe.data") / "studies" / "demo.yaml"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def synthetic_cdm(
    folder: Path,
    profile: str,
    *,
    persons: int = 1200,
    all_patients: int = 150,
    params: dict[str, Any] | None = None,
) -> str:
    """Generate a small synthetic CDM (seed 11) and return its URL."""
    result = generate_cdm(
        folder,
        persons=persons,
        seed=11,
        profile=profile,
        params={"population": {"all_patients": all_patients}, **(params or {})},
    )
    return result.cdm_url


def inotuzumab_emr_params() -> dict[str, Any]:
    """Parameters that turn the emr profile into an inotuzumab series (the seed 003 design).

    The emr profile calibrates blinatumomab (seed 001); the inotuzumab course parameters come
    from the claims profile, completed with the emr-only fields of the blinatumomab block.
    """
    data = resources.files("allrwe.data") / "synth"
    claims = yaml.safe_load((data / "claims.yaml").read_text(encoding="utf-8"))
    emr = yaml.safe_load((data / "emr.yaml").read_text(encoding="utf-8"))
    ino = dict(claims["index_drugs"]["inotuzumab_ozogamicin"])
    for key, value in emr["index_drugs"]["blinatumomab"].items():
        ino.setdefault(key, value)
    return {
        "patients": {"index_drug_mix": {"inotuzumab_ozogamicin": 1.0, "blinatumomab": 0.0}},
        "index_drugs": {"inotuzumab_ozogamicin": ino},
    }
