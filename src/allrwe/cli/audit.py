"""``allrwe audit OUT_DIR``: attack an allrwe output folder, and scan it for small cells.

Two checks run on the folder of ``allrwe run``: the scan of every file for counts below the
minimum cell count and person identifiers (:func:`allrwe.results.audit_outputs`), and the
attacker (:func:`allrwe.results.attack.attack`), which bounds every hidden count from what
the results files publish. Exit codes: 0 when clean, 1 with findings or leaks, 2 when
OUT_DIR is not an allrwe output folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from allrwe.errors import DisclosureError, UsageError
from allrwe.results.attack import AttackReport, attack
from allrwe.results.audit import AuditReport, audit_outputs
from allrwe.results.published import read_published

__all__ = ["DEFAULT_MIN_CELL_COUNT", "audit", "register"]

#: the threshold when neither ``--min-cell-count`` nor the folder's provenance gives one
DEFAULT_MIN_CELL_COUNT = 5
#: leaks printed in the table (all of them are in ``--json``)
SHOWN_LEAKS = 50


def _table(report: AuditReport) -> Table:
    table = Table(title=f"allrwe audit: {report.root}", title_justify="left")
    for column in ("file", "location", "rule", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for finding in report.findings:
        table.add_row(finding.file, finding.location, finding.rule, str(finding.count))
    return table


def _leak_table(report: AttackReport) -> Table:
    table = Table(title="hidden counts the published numbers give away", title_justify="left")
    for column in ("record", "range", "from"):
        table.add_column(column, overflow="fold")
    for leak in report.leaks[:SHOWN_LEAKS]:
        span = str(leak.low) if leak.low == leak.high else f"{leak.low}..{leak.high}"
        table.add_row(leak.record, span, ", ".join(leak.families))
    if len(report.leaks) > SHOWN_LEAKS:
        table.add_row(f"... and {len(report.leaks) - SHOWN_LEAKS} more (see --json)", "", "")
    return table


def audit(
    directory: Annotated[Path, typer.Argument(help="Output folder of allrwe run.")],
    min_cell_count: Annotated[
        int | None,
        typer.Option(
            "--min-cell-count",
            help="Hidden or shown counts from 1 to this minus 1 are findings "
            "(default: the folder's provenance, else 5).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Attack an output folder: bound every hidden count; scan for small cells and IDs."""
    if not directory.exists():
        raise UsageError(f"audit path {str(directory)!r} does not exist")
    if min_cell_count is not None and min_cell_count < 1:
        raise UsageError(f"--min-cell-count must be at least 1, got {min_cell_count}")
    published = read_published(directory)
    minimum = min_cell_count or published.min_cell_count or DEFAULT_MIN_CELL_COUNT
    report = audit_outputs(directory, min_cell_count=minimum)
    attacked = attack(
        published.records, minimum, report=published.report, figures=published.figures
    )
    if as_json:
        data = {**report.to_dict(), "attack": attacked.to_dict()}
        data["ok"] = report.ok and attacked.ok
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif report.ok and attacked.ok:
        typer.echo(
            f"clean: {len(report.files)} file(s) scanned under {report.root}, no findings; "
            f"{attacked.n_hidden} hidden count(s) attacked with {attacked.n_constraints} "
            f"constraint(s), none given away"
        )
    else:
        console = Console(soft_wrap=True)
        if not report.ok:
            console.print(_table(report))
        if not attacked.ok:
            console.print(_leak_table(attacked))
    if not report.ok:
        n_files = len({f.file for f in report.findings})
        raise DisclosureError(
            f"audit found {len(report.findings)} finding(s) in {n_files} file(s) "
            f"under {report.root}"
        )
    if not attacked.ok:
        raise DisclosureError(
            f"audit recovered {len(attacked.leaks)} hidden count(s) below {minimum} "
            f"under {report.root}; first: {attacked.leaks[0].describe()}"
        )


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command to ``app``."""
    app.command("audit")(audit)
