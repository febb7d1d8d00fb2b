"""``allrwe synth``: write a synthetic OMOP CDM with its ground truth."""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from allrwe.cli.options import console
from allrwe.errors import UsageError
from allrwe.io.source import cdm_url
from allrwe.synth import DEFAULT_CHUNK_SIZE, PROFILES, SynthResult, generate_cdm
from allrwe.synth.params import merge_params, read_params_file

__all__ = ["register", "synth", "synth_duckdb_file", "truth_folder"]

#: what ``generate_cdm`` names its files inside its output folder
_DB, _TRUTH, _MANIFEST = "cdm.duckdb", "truth", "synth.json"


def truth_folder(db: Path) -> Path:
    """Return the folder that holds the truth of the DuckDB file ``db``: ``<stem>-truth``.

    Examples
    --------
    >>> truth_folder(Path("out/cdm.duckdb")).as_posix()
    'out/cdm-truth'
    """
    return db.with_name(f"{db.stem}-truth")


def _clear_earlier(db: Path, overwrite: bool) -> None:
    truth = truth_folder(db)
    if not db.exists() and not truth.exists():
        return
    if not overwrite:
        raise UsageError(
            f"{str(db)!r} or {str(truth)!r} exists; choose another --out, or --overwrite"
        )
    if not (db.is_file() and (truth / _MANIFEST).is_file()):
        raise UsageError(f"{str(db)!r} was not written by allrwe synth; not overwriting it")
    db.unlink()
    shutil.rmtree(truth)


def synth_duckdb_file(db: Path, *, overwrite: bool = False, **kwargs: Any) -> SynthResult:
    """Write a synthetic CDM as the DuckDB file ``db``, its truth in :func:`truth_folder`.

    Parameters
    ----------
    db : pathlib.Path
        The DuckDB file to write (its folder is created).
    overwrite : bool, default False
        Replace an earlier output of ``allrwe synth`` at ``db``.
    **kwargs
        Passed to :func:`allrwe.synth.generate_cdm` (``persons``, ``seed``, ...).

    Returns
    -------
    SynthResult
        With ``out`` and ``tables`` naming ``db``.
    """
    db = db.absolute()
    db.parent.mkdir(parents=True, exist_ok=True)
    _clear_earlier(db, overwrite)
    staging = Path(tempfile.mkdtemp(prefix=f".{db.name}-", dir=db.parent))
    try:
        result = generate_cdm(staging, fmt="duckdb", **kwargs)
        truth = truth_folder(db)
        (staging / _DB).replace(db)
        (staging / _TRUTH).replace(truth)
        (staging / _MANIFEST).replace(truth / _MANIFEST)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return dataclasses.replace(
        result,
        out=db,
        cdm_url=cdm_url(db, "duckdb"),
        tables=dict.fromkeys(result.tables, db),
        truth={name: truth / name for name in result.truth},
    )


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
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Output folder (created); with --format duckdb, a name ending in .duckdb is "
            "the database file itself (truth in <name>-truth/).",
        ),
    ],
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
    kwargs: dict[str, Any] = {
        "persons": persons,
        "seed": seed,
        "profile": profile,
        "params": overrides or None,
        "chunk_size": chunk_size,
        "overwrite": overwrite,
    }
    if fmt == "duckdb" and out.suffix == ".duckdb":
        result = synth_duckdb_file(out, **kwargs)
    else:
        result = generate_cdm(out, fmt=fmt, **kwargs)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        console(soft_wrap=True).print(_table(result))


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command to ``app``."""
    app.command("synth")(synth)
