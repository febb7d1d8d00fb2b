"""``allrwe report OUT_DIR [--out FILE]``: draw a run's ``report.html`` again from its folder.

Reads only the published records, ``provenance.json`` and ``study.yaml`` of the output folder
(:func:`allrwe.study.rebuild.rebuild_report`); the CDM is not needed. Writes
``OUT_DIR/report-rebuilt.html`` unless ``--out`` is given, and never replaces a file that is
not an allrwe report. Exit codes: 0 ok, 2 not an allrwe output folder or an unusable target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from allrwe.cli.options import console
from allrwe.study.rebuild import REBUILT_FILE, rebuild_report

__all__ = ["register", "report"]


def report(
    directory: Annotated[Path, typer.Argument(help="Output folder of allrwe run.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=f"File to write (default OUT_DIR/{REBUILT_FILE}); an existing file is "
            "replaced only if it is an allrwe report.",
        ),
    ] = None,
) -> None:
    """Rebuild report.html from a run's output folder (records, provenance, spec)."""
    path = rebuild_report(directory, out)
    console(soft_wrap=True).print(f"Report: {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""
    app.command("report")(report)
