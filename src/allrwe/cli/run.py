"""``allrwe run STUDY.yaml --cdm URL --out DIR``: run a study and write its report and exports.

A progress bar per stage goes to standard error; a short summary (cohort sizes, files, report,
audit) to standard output. Exit codes: 0 ok, 1 study or data errors (bad spec, CDM check
errors, empty cohort, failed audit), 2 usage (unknown URL, missing CDM, unusable folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from allrwe.cli.options import console as _console
from allrwe.study import STAGES, RunSummary, StageEvent, run_study

__all__ = ["StageProgress", "print_summary", "register", "run"]


class StageProgress:
    """A Rich progress bar over the stages of a run (on standard error).

    Parameters
    ----------
    extra_steps : int, default 0
        Steps before the run's own stages (``allrwe demo`` generates a CDM first).
    """

    def __init__(self, extra_steps: int = 0) -> None:
        self.console = _console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.task = self.progress.add_task("starting", total=len(STAGES) + extra_steps)

    def __enter__(self) -> StageProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def step(self, label: str, detail: str = "", *, available: bool = True) -> None:
        """Mark one step finished, printing a line about it."""
        mark = "[green]✓[/]" if available else "[yellow]–[/]"
        note = f" [dim]{detail}[/]" if detail and available else ""
        if not available:
            note = f" [yellow]not available[/] [dim]({detail})[/]"
        self.progress.console.print(f"{mark} {label}{note}", highlight=False)
        self.progress.advance(self.task)

    def __call__(self, event: StageEvent) -> None:
        """Show a stage event: a new description at the start, a line at the end."""
        if event.status == "start":
            self.progress.update(self.task, description=event.label)
            return
        self.step(event.label, event.detail, available=event.status == "done")


def print_summary(summary: RunSummary, console: Console | None = None) -> None:
    """Print the end-of-run summary: cohort sizes, outputs, report and audit."""
    out = console or _console(soft_wrap=True)
    sizes = ", ".join(f"{g}: {n}" for g, n in summary.group_sizes.items()) or "none"
    files = [f for f in summary.files if not f.startswith(".")]
    figures = sum(1 for f in files if f.startswith("figures/"))
    results = [f for f in files if f.startswith("results.")]
    out.print(f"[bold]Cohort[/] (persons per group): {sizes}", highlight=False)
    out.print(f"[bold]Output[/]: {summary.out_dir}", highlight=False)
    out.print(f"  report    {summary.report}", highlight=False)
    out.print(f"  results   {', '.join(results)} ({summary.n_records} records)", highlight=False)
    out.print(f"  figures   {figures} files in figures/", highlight=False)
    if summary.patient_level is not None:
        out.print(
            f"  patient-level tables (do not share): {summary.patient_level}", highlight=False
        )
    for analysis, reason in summary.unavailable.items():
        out.print(f"[yellow]not available[/]: {analysis} ({reason})", highlight=False)
    if summary.warnings:
        out.print(
            f"{len(summary.warnings)} warning(s) during the run (see --debug)", highlight=False
        )
    audited = len(summary.audit.files)
    out.print(
        f"[green]Audit OK[/]: {audited} files, no small cell, no person identifier", highlight=False
    )


def run(
    study: Annotated[Path, typer.Argument(help="The study specification (YAML).")],
    cdm: Annotated[
        str,
        typer.Option(
            "--cdm",
            help="The CDM: duckdb:///abs/file.duckdb, parquet:///abs/folder, "
            "postgresql://user@host/db?schema=cdm or spark://",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder (replaced if from a run).")],
    min_cell_count: Annotated[
        int | None,
        typer.Option(
            "--min-cell-count",
            help="Suppress counts below this, an integer >= 2 (replaces the spec's).",
        ),
    ] = None,
    patient_level: Annotated[
        bool,
        typer.Option("--patient-level", help="Also write person-level tables (not for sharing)."),
    ] = False,
    vocab: Annotated[
        list[Path] | None,
        typer.Option(
            "--vocab",
            help="Vocabulary YAML, or ATLAS concept-set JSON, overriding bundled concept sets "
            "(repeatable).",
        ),
    ] = None,
) -> None:
    """Run a study on a CDM: cohort, analyses, suppressed exports, HTML report, audit."""
    with StageProgress() as progress:
        summary = run_study(
            study,
            cdm,
            out,
            min_cell_count=min_cell_count,
            patient_level=patient_level,
            progress=progress,
            vocab_paths=tuple(vocab or ()),
        )
    print_summary(summary)


def register(app: typer.Typer) -> None:
    """Add the ``run`` command to ``app`` (once)."""
    if not any(c.name == "run" for c in app.registered_commands):
        app.command("run")(run)
