"""``allrwe check --cdm URL``: tell whether an OMOP CDM is fit for allrwe.

Exit codes: 0 when the CDM has no error (warnings allowed), 1 when it has errors, 2 when the check
cannot run (unknown URL scheme, missing path, unreachable database).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from allrwe.errors import CdmDataError
from allrwe.io.check import READ_TABLES, CheckReport, check_cdm
from allrwe.io.source import connect
from allrwe.io.vocabulary import load_vocabulary

__all__ = ["check", "register"]


def _failure(report: CheckReport) -> CdmDataError:
    first = report.errors[0]
    more = len(report.errors) - 1
    tail = f" (and {more} more error(s))" if more else ""
    return CdmDataError(f"the CDM fails the check: {first.message}{tail}")


def check(
    cdm: Annotated[
        str,
        typer.Option(
            "--cdm",
            help="The CDM: duckdb:///abs/file.duckdb, parquet:///abs/folder, "
            "postgresql://user@host/db?schema=cdm or spark://",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    vocab: Annotated[
        list[Path] | None,
        typer.Option(
            "--vocab",
            help="Vocabulary YAML, or ATLAS concept-set JSON, overriding bundled concept sets "
            "(repeatable).",
        ),
    ] = None,
) -> None:
    """Check an OMOP CDM v5.4: required tables and columns, types, and data quality."""
    vocabulary = load_vocabulary(vocab or ())
    with connect(cdm) as source:
        report = check_cdm(source, vocabulary=vocabulary, read=READ_TABLES)
    if as_json:
        typer.echo(report.to_json())
    else:
        console = Console()
        if not console.is_terminal:
            # a file or a pipe: lines as long as the findings need, not 80 columns
            console = Console(width=200)
        if report.findings:
            console.print(report)
        else:
            console.print(report.summary(), highlight=False)
    if not report.ok:
        raise _failure(report)


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to ``app`` (once)."""
    if not any(c.name == "check" for c in app.registered_commands):
        app.command("check")(check)
