"""Synthetic CDMs shared by the synth tests (generated once per session, small)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from allrwe.synth import SynthResult, generate_cdm
from allrwe.synth.params import profile_text


def mixed_emr_params(all_patients: int) -> dict[str, Any]:
    """EMR profile with inotuzumab patients too (claims' inotuzumab parameters, MRD measured)."""
    ino = yaml.safe_load(profile_text("claims"))["index_drugs"]["inotuzumab_ozogamicin"]
    ino["mrd"]["measured"] = 0.9
    return {
        "population": {"all_patients": all_patients},
        "patients": {
            "novel_agent_share": 0.8,
            "index_drug_mix": {"blinatumomab": 0.5, "inotuzumab_ozogamicin": 0.5},
        },
        "index_drugs": {"inotuzumab_ozogamicin": ino},
        "history": {"prior_cart": 0.6},
    }


@pytest.fixture(scope="session")
def emr_cdm(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """EMR profile, blinatumomab and inotuzumab, labs and adverse events recorded."""
    out = tmp_path_factory.mktemp("synth") / "emr"
    return generate_cdm(out, persons=3000, seed=11, profile="emr", params=mixed_emr_params(700))


@pytest.fixture(scope="session")
def claims_cdm(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """Claims profile with enough ALL patients to cover every course."""
    out = tmp_path_factory.mktemp("synth") / "claims"
    return generate_cdm(
        out, persons=4000, seed=12, profile="claims", params={"population": {"all_patients": 600}}
    )


@pytest.fixture(params=["emr", "claims"])
def any_cdm(request: pytest.FixtureRequest) -> SynthResult:
    """Each of the two session CDMs in turn."""
    return request.getfixturevalue(f"{request.param}_cdm")


def tree_digest(root: Path) -> dict[str, bytes]:
    """Bytes of every file under ``root`` by relative path."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="session")
def ohdsi_cdm(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """The ohdsi profile (real-ETL shape), blinatumomab and inotuzumab, CAR-T coded both ways."""
    out = tmp_path_factory.mktemp("synth") / "ohdsi"
    return generate_cdm(
        out, persons=3000, seed=13, profile="ohdsi", params={"population": {"all_patients": 500}}
    )
