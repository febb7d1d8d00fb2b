"""``allrwe demo``: generate a small synthetic CDM, run the built-in study, show the report.

The CDM goes to a temporary folder beside ``--out`` and is removed afterwards unless
``--cdm-out`` names a folder to keep it in. Exit codes as ``allrwe run``.
"""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from allrwe.cli.options import console as _console
from allrwe.cli.run import StageProgress, print_summary
from allrwe.errors import UsageError
from allrwe.study import run_study
from allrwe.synth import generate_cdm
from allrwe.synth.params import profile_text

__all__ = ["DEMO_INDEX_MIX", "DEMO_STUDY", "demo", "demo_params", "register"]

#: the built-in study, inside the package
DEMO_STUDY = ("studies", "demo.yaml")


#: the demo compares BLIN with INO, so both must be populated: half of the novel-agent
#: patients start with each drug (the emr profile alone simulates blinatumomab only, seed 001)
DEMO_INDEX_MIX = {"blinatumomab": 0.5, "inotuzumab_ozogamicin": 0.5}


def demo_params(profile: str, n_all: int) -> dict[str, Any]:
    """Return the synthetic parameters of the demo: its ALL patients and both index drugs.

    A profile without inotuzumab parameters (emr) borrows the claims profile's, so that the
    INO group the demo study compares with BLIN is as large as the BLIN group.
    """
    params: dict[str, Any] = {
        "population": {"all_patients": n_all},
        "patients": {"index_drug_mix": dict(DEMO_INDEX_MIX)},
    }
    own = yaml.safe_load(profile_text(profile))["index_drugs"]
    if "inotuzumab_ozogamicin" not in own:
        claims = yaml.safe_load(profile_text("claims"))["index_drugs"]
        params["index_drugs"] = {"inotuzumab_ozogamicin": claims["inotuzumab_ozogamicin"]}
    return params


def _all_patients(persons: int, all_patients: int | None) -> int:
    value = all_patients if all_patients is not None else max(1, persons // 10)
    if value > persons:
        raise UsageError(f"--all-patients {value} is more than --persons {persons}")
    return value


def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo-output"),
    profile: Annotated[
        str, typer.Option("--profile", help="Synthetic data profile: emr or claims.")
    ] = "emr",
    persons: Annotated[int, typer.Option("--persons", min=10, help="Persons in the CDM.")] = 3000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the synthetic data.")] = 1,
    all_patients: Annotated[
        int | None,
        typer.Option("--all-patients", min=1, help="ALL patients among them (default persons/10)."),
    ] = None,
    cdm_out: Annotated[
        Path | None, typer.Option("--cdm-out", help="Keep the synthetic CDM in this folder.")
    ] = None,
) -> None:
    """Generate a synthetic CDM, run the built-in demo study, and write its report."""
    if profile not in ("emr", "claims"):
        raise UsageError(f"unknown --profile {profile!r}: use emr or claims")
    n_all = _all_patients(persons, all_patients)
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".allrwe-demo-cdm-", dir=out.parent))
    cdm_dir = cdm_out if cdm_out is not None else scratch / "cdm"
    try:
        with StageProgress(extra_steps=1) as progress:
            progress.progress.update(progress.task, description="Synthetic CDM")
            synth = generate_cdm(
                cdm_dir,
                persons=persons,
                seed=seed,
                profile=profile,
                params=demo_params(profile, n_all),
            )
            progress.step("Synthetic CDM", f"{persons} persons, {synth.all_patients} with ALL")
            with resources.as_file(resources.files("allrwe.data").joinpath(*DEMO_STUDY)) as spec:
                summary = run_study(spec, synth.cdm_url, out, progress=progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    console = _console(soft_wrap=True)
    print_summary(summary, console)
    kept = f"kept in {cdm_dir}" if cdm_out is not None else "removed (keep it with --cdm-out DIR)"
    console.print(f"Synthetic CDM ({profile}, seed {seed}): {kept}", highlight=False)
    console.print(f"[bold]Open the report:[/] {summary.report}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app`` (once)."""
    if not any(c.name == "demo" for c in app.registered_commands):
        app.command("demo")(demo)
