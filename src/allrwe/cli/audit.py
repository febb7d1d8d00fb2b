"""``allrwe audit DIR``: check an output folder for small cells and person identifiers.

Exit codes: 0 when clean, 1 with findings, 2 when DIR does not exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allrwe.errors import DisclosureError
from allrwe.results.audit import AuditReport, audit_outputs

__all__ = ["audit", "register"]


def _table(report: AuditReport) -> Table:
    table = Table(title=f"allrwe audit: {report.root}", title_justify="left")
    for column in ("file", "location", "rule", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for finding in report.findings:
        table.add_row(finding.file, finding.location, finding.rule, str(finding.count))
    return table


def audit(
    directory: Annotated[Path, typer.Argument(help="Folder (or file) of outputs to scan.")],
    min_cell_count: Annotated[
        int, typer.Option("--min-cell-count", help="Report counts from 1 to this minus 1.")
    ] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Scan outputs for counts below the minimum cell count and person identifiers."""
    report = audit_outputs(directory, min_cell_count=min_cell_count)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif report.ok:
        typer.echo(f"clean: {len(report.files)} file(s) scanned under {report.root}, no findings")
    else:
        Console(soft_wrap=True).print(_table(report))
    if not report.ok:
        n_files = len({f.file for f in report.findings})
        raise DisclosureError(
            f"audit found {len(report.findings)} finding(s) in {n_files} file(s) "
            f"under {report.root}"
        )


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command to ``app``."""
    app.command("audit")(audit)
