"""``allrwe merge SITE_DIR... --out DIR``: one table and one report of several sites, pooled.

Reads only each site's ``results.csv``, ``provenance.json`` and ``study.yaml`` (for the
study's name); the sites must have run the same study spec. Writes ``merged.csv``,
``merged.html`` and, when the attacker made the merge hide more, ``merge_hidden.csv`` (what
it hid). Exit codes: 0 ok, 1 the merged outputs fail the audit or a leak cannot be closed,
2 usage.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from allrwe.cli.options import console
from allrwe.errors import DisclosureError, UsageError
from allrwe.report.merged import MERGED_REPORT_FILE, SiteInfo, render_merged
from allrwe.results import audit_outputs
from allrwe.results.merge import MERGED_FILE, merge_frames, read_sites, write_table
from allrwe.results.merge_attack import MergeAudit, secure_merged

__all__ = ["DEFAULT_MIN_CELL_COUNT", "HIDDEN_FILE", "merge", "register"]

#: the threshold when neither the option nor any site's provenance gives one
DEFAULT_MIN_CELL_COUNT = 5
#: what the merge hid beyond the sites' own suppression (written only when it hid something)
HIDDEN_FILE = "merge_hidden.csv"


def _study_name(folder: Path) -> str:
    try:
        data: Any = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return "allrwe study"
    name = data.get("name") if isinstance(data, dict) else None
    return str(name) if name else "allrwe study"


def _threshold(option: int | None, infos: list[SiteInfo]) -> int:
    if option is not None:
        if option < 1:
            raise UsageError(f"--min-cell-count must be at least 1, got {option}")
        return option
    found = [i.min_cell_count for i in infos if i.min_cell_count is not None]
    return max(found, default=DEFAULT_MIN_CELL_COUNT)


def _attack_sentence(audit: MergeAudit) -> str:
    report = audit.report
    outcome = (
        "none given away"
        if report.ok
        else f"{len(report.leaks)} still given away ({report.leaks[0].describe()})"
    )
    return (
        f"The attacker of allrwe audit read the sites' records, the pooled values and the sums "
        f"linking them: {report.n_hidden} hidden count(s), {report.n_constraints} "
        f"constraint(s), {outcome}."
    )


def _write_hidden(out: Path, audit: MergeAudit) -> None:
    path = out / HIDDEN_FILE
    if not audit.hidden:
        path.unlink(missing_ok=True)
        return
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["column", "record"])
        writer.writerows((h.column, h.record) for h in audit.hidden)


def merge(
    sites: Annotated[list[Path], typer.Argument(help="The sites' output folders (two or more).")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder to write merged.csv and merged.html to.")
    ],
    min_cell_count: Annotated[
        int | None,
        typer.Option(
            "--min-cell-count",
            help="Threshold the attacker and the audit check (default: the largest of the "
            "sites' thresholds, else 5).",
        ),
    ] = None,
) -> None:
    """Merge several sites' results: per-site columns, pooled estimates, one report."""
    names, frames = read_sites(sites)
    infos = [
        SiteInfo.from_provenance(name, frame.attrs.get("provenance", {}))
        for name, frame in zip(names, frames, strict=True)
    ]
    threshold = _threshold(min_cell_count, infos)
    merged, audit = secure_merged(
        merge_frames(names, frames), dict(zip(names, frames, strict=True)), threshold
    )
    path = write_table(merged, out)
    _write_hidden(out, audit)
    hidden = [f"{h.column}: {h.record}" for h in audit.hidden]
    html = render_merged(
        merged,
        infos,
        title=_study_name(Path(sites[0])),
        spec_hash=str(frames[0].attrs["provenance"]["spec_hash"]),
        min_cell_count=threshold,
        hidden=hidden,
        attack=_attack_sentence(audit),
    )
    (out / MERGED_REPORT_FILE).write_text(html, encoding="utf-8")
    scan = audit_outputs(out, min_cell_count=threshold)
    if not scan.ok or not audit.report.ok:
        for name in (MERGED_FILE, MERGED_REPORT_FILE, HIDDEN_FILE):
            (out / name).unlink(missing_ok=True)
        if not audit.report.ok:
            raise DisclosureError(
                f"the merged table still gives away {len(audit.report.leaks)} hidden count(s) "
                f"below {threshold}; first: {audit.report.leaks[0].describe()}"
            )
        first = scan.findings[0]
        raise DisclosureError(
            f"the merged outputs fail the audit: {first.file}, {first.location}: {first.rule}"
        )
    say = console(soft_wrap=True).print
    say(f"Merged {len(names)} sites: {path} and {out / MERGED_REPORT_FILE}", highlight=False)
    say(_attack_sentence(audit), highlight=False)
    if hidden:
        say(
            f"The merge hid {len(hidden)} more value(s) (listed in {out / HIDDEN_FILE}):",
            highlight=False,
        )
        for line in hidden:
            say(f"  {line}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``merge`` command to ``app`` (once)."""
    if not any(c.name == "merge" for c in app.registered_commands):
        app.command("merge")(merge)
