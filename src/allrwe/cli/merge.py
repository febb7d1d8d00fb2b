"""``allrwe merge SITE_DIR... --out DIR``: one table of several sites' results, pooled.

Reads only each site's ``results.csv`` and ``provenance.json``; the sites must have run the
same study spec. Exit codes: 0 ok, 1 the merged table fails the output audit, 2 usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allrwe.cli.options import console
from allrwe.errors import DisclosureError
from allrwe.results import audit_outputs
from allrwe.results.merge import write_merged

__all__ = ["merge", "register"]


def merge(
    sites: Annotated[list[Path], typer.Argument(help="The sites' output folders (two or more).")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write merged.csv to.")],
    min_cell_count: Annotated[
        int, typer.Option("--min-cell-count", min=1, help="Threshold the audit checks.")
    ] = 5,
) -> None:
    """Merge several sites' results: per-site columns and pooled estimates."""
    path = write_merged(sites, out)
    report = audit_outputs(out, min_cell_count=min_cell_count)
    if not report.ok:
        path.unlink()
        first = report.findings[0]
        raise DisclosureError(
            f"the merged table fails the audit: {first.file}, {first.location}: {first.rule}"
        )
    console(soft_wrap=True).print(f"Merged {len(sites)} sites: {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``merge`` command to ``app`` (once)."""
    if not any(c.name == "merge" for c in app.registered_commands):
        app.command("merge")(merge)
