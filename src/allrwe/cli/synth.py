"""``allrwe synth``: write a synthetic OMOP CDM with its ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from allrwe.synth import DEFAULT_CHUNK_SIZE, PROFILES, SynthResult, generate_cdm
from allrwe.synth.params import merge_params, read_params_file

__all__ = ["register", "synth"]


def _table(result: SynthResult) -> Table:
    table = Table(
        title=f"allrwe synth: {result.profile}, {result.persons:,} persons, "
        f"{result.all_patients:,} ALL patients -> {result.cdm_url}",
        title_justify="left",
    )
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in {**result.row_counts, **result.truth_row_counts}.items():
        table.add_row(name, f"{rows:,}")
    return table


def synth(
    out: Annotated[Path, typer.Option("--out", help="Output folder (created).")],
    persons: Annotated[int, typer.Option("--persons", min=1, help="Size of the population.")],
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 1,
    profile: Annotated[
        str, typer.Option("--profile", help=f"Bundled profile: {', '.join(PROFILES)}.")
    ] = "claims",
    fmt: Annotated[
        str, typer.Option("--format", help="CDM format: parquet (folders) or duckdb (one file).")
    ] = "parquet",
    params: Annotated[
        Path | None,
        typer.Option("--params", help="YAML file of parameters merged over the profile."),
    ] = None,
    all_patients: Annotated[
        int | None,
        typer.Option(
            "--all-patients", min=0, help="Exact number of ALL patients (overrides the rate)."
        ),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Persons simulated at once (memory bound).")
    ] = DEFAULT_CHUNK_SIZE,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an earlier allrwe synth output in --out.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Generate a synthetic OMOP CDM v5.4 (with ground truth in OUT/truth) from a profile."""
    overrides: dict[str, Any] = read_params_file(params) if params is not None else {}
    if all_patients is not None:
        overrides = merge_params(overrides, {"population": {"all_patients": all_patients}})
    result = generate_cdm(
        out,
        persons=persons,
        seed=seed,
        profile=profile,
        fmt=fmt,  # type: ignore[arg-type]
        params=overrides or None,
        chunk_size=chunk_size,
        overwrite=overwrite,
    )
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        Console(soft_wrap=True).print(_table(result))


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command to ``app``."""
    app.command("synth")(synth)
