"""Rebuild ``report.html`` from a run's output folder, byte for byte.

The report is a function of three things the run writes: the published records
(``results.parquet``), the provenance (``provenance.json``: CDM metadata, analysis settings,
suppression summary) and the study spec (``study.yaml``). :func:`rebuild_report`
reads those three back and draws the report again; nothing else is needed, not the CDM.

A rebuilt report never replaces a file that allrwe did not write: the target must be new, or
an HTML report whose ``generator`` tag names allrwe.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from allrwe.errors import AllrweError, UsageError
from allrwe.results import COLUMNS, ResultSet, read, spec_hash
from allrwe.results.provenance import Provenance
from allrwe.spec import StudySpec, load_spec
from allrwe.study.output import MARKER

__all__ = ["REBUILT_FILE", "SPEC_FILE", "read_output", "rebuild_report"]

#: where :func:`rebuild_report` writes in the output folder when no file is given
REBUILT_FILE = "report-rebuilt.html"
#: the study spec a run writes into its output folder
SPEC_FILE = "study.yaml"
#: the exact copy of the published records
RESULTS_PARQUET = "results.parquet"
#: what every allrwe report holds in its ``<head>`` (report.html.j2)
_GENERATOR = '<meta name="generator" content="allrwe '


def _required(folder: Path) -> None:
    if not folder.is_dir():
        raise UsageError(f"{str(folder)!r} is not a folder")
    missing = [n for n in (MARKER, "provenance.json", SPEC_FILE) if not (folder / n).is_file()]
    if missing:
        raise UsageError(
            f"{str(folder)!r} is not the output folder of allrwe run (no {', '.join(missing)})"
        )


def _provenance(path: Path) -> Provenance:
    try:
        return Provenance.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, AllrweError, AttributeError) as exc:
        raise UsageError(f"{path} cannot be read as the provenance of a run: {exc}") from None


def _records(folder: Path) -> pd.DataFrame:
    """Return the published records: ``results.parquet``, else ``results.csv``.

    Parquet holds the records exactly as the report saw them; the CSV file prefixes text a
    spreadsheet would run as a formula with ``'`` (:func:`allrwe.results.exports.escape_formula`).
    """
    path = folder / RESULTS_PARQUET
    if not path.is_file():
        return read(folder)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # any unreadable file is the same usage error
        raise UsageError(f"{path} cannot be read: {type(exc).__name__}: {exc}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise UsageError(f"{path} lacks column(s) {', '.join(missing)} ({len(frame)} rows)")
    return frame[list(COLUMNS)]


def read_output(out_dir: str | os.PathLike[str]) -> tuple[ResultSet, StudySpec]:
    """Return the published results (with their provenance) and the spec of an output folder.

    Parameters
    ----------
    out_dir : str or path-like
        The output folder of ``allrwe run`` (or :func:`allrwe.study.run_study`).

    Returns
    -------
    results : ResultSet
        The records of ``results.parquet`` (``results.csv`` if there is none) with the
        provenance of ``provenance.json``.
    spec : StudySpec
        The spec of ``study.yaml``.

    Raises
    ------
    UsageError
        The folder is not an allrwe output folder, a file is unreadable, or the spec is not
        the one the provenance names (its SHA-256 differs).
    """
    folder = Path(out_dir)
    _required(folder)
    provenance = _provenance(folder / "provenance.json")
    spec = load_spec(folder / SPEC_FILE)
    found = spec_hash(spec)
    if found != provenance.spec_hash:
        raise UsageError(
            f"{folder / SPEC_FILE} is not the spec of this run: its SHA-256 is {found[:12]}…, "
            f"provenance.json names {provenance.spec_hash[:12]}…"
        )
    records = _records(folder)
    try:
        results = ResultSet(records, provenance)
    except AllrweError as exc:
        raise UsageError(f"{folder} holds unusable results ({len(records)} rows): {exc}") from None
    return results, spec


def _check_target(target: Path) -> None:
    if target.is_dir():
        raise UsageError(f"report target {str(target)!r} is a folder; give a file name")
    if not target.exists():
        return
    with target.open("rb") as handle:
        head = handle.read(4096).decode("utf-8", errors="replace")
    if _GENERATOR not in head:
        raise UsageError(
            f"{str(target)!r} exists and is not an allrwe report; choose a new file with --out"
        )


def rebuild_report(
    out_dir: str | os.PathLike[str], out_file: str | os.PathLike[str] | None = None
) -> Path:
    """Draw ``report.html`` again from an output folder and write it to ``out_file``.

    The figures are not redrawn: the HTML report embeds its own. For a folder written by
    this version of allrwe the file is byte-identical to the run's ``report.html``.

    Parameters
    ----------
    out_dir : str or path-like
        The output folder of a run.
    out_file : str or path-like, optional
        Where to write; default ``OUT_DIR/report-rebuilt.html`` (:data:`REBUILT_FILE`). An
        existing file is replaced only if it is an allrwe report.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    UsageError
        See :func:`read_output`; or the target exists and is not an allrwe report.
    """
    from allrwe.report import build_report, meta_from_results, render_html

    folder = Path(out_dir)
    target = Path(out_file) if out_file is not None else folder / REBUILT_FILE
    _check_target(target)
    results, spec = read_output(folder)
    html = render_html(build_report(results, spec, meta_from_results(results, spec)))
    target.parent.mkdir(parents=True, exist_ok=True)
    # the same call write_report makes, so the bytes (and line ends) are the same
    target.write_text(html, encoding="utf-8")
    return target
