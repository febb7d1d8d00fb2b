"""``run_study``: one study from spec to audited report, step by step.

The runner only sequences the steps of :mod:`allrwe.study.prepare` (check, extract, cohort),
:mod:`allrwe.study.pipeline` (the analyses, the results) and the report, export and audit,
times each and reports it to an optional progress callback (:data:`STAGES`). It owns the run's
resources: the CDM connection it opened, the rows the run keeps (:class:`~allrwe.io.KeptRows`,
released at the end), the staging folder (moved into place only when the audit of the
shareable outputs passes) and the figure workers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from allrwe.errors import AllrweWarning, DisclosureError
from allrwe.io.kept import KeptRows
from allrwe.io.metadata import cdm_metadata
from allrwe.io.source import CdmSource, connect, local_path
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.spec import StudySpec, load_spec
from allrwe.study.background import LATER_MODULES, import_in_background, wait_for_figures
from allrwe.study.output import (
    PATIENT_LEVEL_DIR,
    StagedOutput,
    cannot_write,
    provenance_time,
    relative_files,
    write_patient_level,
    write_spec,
)
from allrwe.study.prepare import (
    check_step,
    cohort_step,
    extract_step,
    recorded_step,
    resolve_step,
)
from allrwe.study.progress import STAGES, ProgressCallback, StageEvent, StageReporter

if TYPE_CHECKING:
    from allrwe.report.worker import FigureWorkers
    from allrwe.results import AuditReport, ResultSet

__all__ = ["STAGES", "ProgressCallback", "RunSummary", "StageEvent", "run_study"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """What a run produced.

    Attributes
    ----------
    out_dir : pathlib.Path
        The output folder.
    report : pathlib.Path
        The HTML report.
    files : list of str
        Every file written, relative to ``out_dir`` (POSIX paths, sorted).
    group_sizes : dict of str to str
        Persons per index group as published (suppressed sizes read ``"<N"``).
    audit : AuditReport
        The audit of the shareable outputs (everything but ``patient_level/``); always ok.
    n_records : int
        Result records exported.
    suppression : dict
        The suppression summary of the provenance.
    spec_hash : str
        SHA-256 of the study spec.
    unavailable : dict of str to str
        Analyses the data could not support, with the reason.
    warnings : list of str
        Warnings raised during the run (also logged).
    patient_level : pathlib.Path or None
        The folder of person-level tables, when asked for.
    """

    out_dir: Path
    report: Path
    files: list[str]
    group_sizes: dict[str, str]
    audit: AuditReport
    n_records: int
    suppression: dict[str, int]
    spec_hash: str
    unavailable: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    patient_level: Path | None = None


def _load(
    spec: str | os.PathLike[str] | StudySpec, vocab_paths: tuple[Path, ...]
) -> tuple[StudySpec, Vocabulary]:
    # load_spec reads the spec's own vocabulary files and names the field and line of a bad
    # one; the extra files of the command line come on top.
    loaded = spec if isinstance(spec, StudySpec) else load_spec(spec)
    vocab = load_vocabulary([*loaded.resolved_vocabulary_paths(), *vocab_paths])
    return loaded.validate_against(vocab), vocab


def _group_sizes(results: ResultSet) -> dict[str, str]:
    rec = results.records
    rows = rec[(rec["analysis"] == "cohort") & (rec["estimate_name"] == "count")]
    summary = results.provenance.suppression
    minimum = summary.hides_below if summary is not None else 1
    return {
        str(g): (f"<{minimum}" if bool(s) else f"{int(v)}")
        for g, v, s in zip(rows["group"], rows["value"], rows["suppressed"], strict=True)
    }


def export_formats(spec: StudySpec) -> list[str]:
    """Return the result formats: CSV and Parquet, plus XLSX and JSON if in ``report.formats``."""
    extra = [f for f in ("xlsx", "json") if f in spec.report.formats]
    return ["csv", "parquet", *extra]


#: ``True``: a hidden count the attacker recovers at the end of a run fails it
#: (``DisclosureError``, exit 1, nothing written); ``False``: a warning naming the records.
#: The suppression attacks its own records and hides more until the attacker finds nothing,
#: so a leak here means that the published files say more than the records it attacked.
FAIL_RUN_ON_LEAKS = True


def _audit(folder: Path, min_cell_count: int, cache: dict[bytes, Any] | None = None) -> AuditReport:
    from allrwe.results import audit_outputs
    from allrwe.results.attack import attack
    from allrwe.results.published import read_published

    report = audit_outputs(folder, min_cell_count=min_cell_count)
    if not report.ok:
        first = report.findings[0]
        raise DisclosureError(
            f"the output audit failed ({len(report.findings)} finding(s)); first: "
            f"{first.file}, {first.location}: {first.rule}; nothing was written"
        )
    published = read_published(folder)
    attacked = attack(
        published.records,
        min_cell_count,
        report=published.report,
        figures=published.figures,
        cache=cache,
    )
    if not attacked.ok:
        message = (
            f"the attacker recovers {len(attacked.leaks)} hidden count(s) below "
            f"{min_cell_count} from the published numbers; first: "
            f"{attacked.leaks[0].describe()}"
        )
        if FAIL_RUN_ON_LEAKS:
            raise DisclosureError(f"{message}; nothing was written")
        warnings.warn(message, AllrweWarning, stacklevel=2)
    return report


def _cohort_note(n_persons: int, minimum: int) -> str:
    """Return the cohort stage's progress note; a size below ``minimum`` reads ``<minimum``."""
    shown = f"<{minimum}" if 0 < n_persons < minimum else f"{n_persons}"
    return f"{shown} persons"


def _warning_text(caught: list[warnings.WarningMessage]) -> list[str]:
    out = []
    for w in caught:
        if issubclass(w.category, AllrweWarning | RuntimeWarning):
            text = f"{w.category.__name__}: {w.message}"
            if text not in out:
                out.append(text)
                logger.info("%s", text)
    return out


def run_study(
    spec_path_or_spec: str | os.PathLike[str] | StudySpec,
    cdm_url: str | os.PathLike[str] | CdmSource | Any,
    out_dir: str | os.PathLike[str],
    *,
    min_cell_count: int | None = None,
    patient_level: bool = False,
    progress: ProgressCallback | None = None,
    vocab_paths: tuple[Path, ...] = (),
    created_at: str | None = None,
) -> RunSummary:
    """Run a study: cohort, analyses, suppression, export, report and audit.

    Parameters
    ----------
    spec_path_or_spec : str, path-like or StudySpec
        The study specification (YAML file) or an already loaded spec.
    cdm_url : str, path-like, CdmSource, Ibis backend or SparkSession
        The CDM: a URL or path (see :func:`allrwe.io.connect`; opened and closed here), or
        an open :class:`~allrwe.io.CdmSource`, Ibis backend or SparkSession, which the run
        reads from and leaves open.
    out_dir : str or path-like
        Output folder: created, or replaced if it holds an earlier run's output.
    min_cell_count : int, optional
        Counts from 1 to this minus 1 are suppressed; replaces the spec's ``min_cell_count``
        (validated the same way) in the one spec object the run reads.
    patient_level : bool, default False
        Also write person-level tables to ``out_dir/patient_level/`` (not for sharing; the
        audit covers everything else).
    progress : callable, optional
        Called with a :class:`StageEvent` when each stage starts and ends.
    vocab_paths : tuple of pathlib.Path, default ()
        Extra vocabulary YAML files (after the spec's own).
    created_at : str, optional
        Timestamp of the run for the provenance; default now (``SOURCE_DATE_EPOCH`` when set).

    Returns
    -------
    RunSummary

    Raises
    ------
    StudySpecError
        The spec is invalid.
    UsageError, CdmConnectionError
        The CDM cannot be opened; the output folder cannot be used.
    CdmDataError
        The CDM check finds errors.
    DisclosureError
        The output audit finds a small cell or a person identifier (nothing is written).
    """
    from allrwe.report.worker import FigureWorkers

    spec, vocab = _load(spec_path_or_spec, tuple(vocab_paths))
    # The one spec object the whole run reads holds the threshold, wherever it was given.
    spec = spec.with_min_cell_count(min_cell_count, source="--min-cell-count")
    steps = StageReporter(progress)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # The figure workers end before the staging folder is committed or removed.
        cdm_path = local_path(cdm_url)
        protect = (cdm_path,) if cdm_path is not None else ()
        with StagedOutput(out_dir, protect=protect) as staged, FigureWorkers() as figures:
            try:
                summary = _run(
                    spec, vocab, cdm_url, staged, patient_level, steps, created_at, figures
                )
            except OSError as exc:
                # a full disk, a folder made read-only or removed under the run
                raise cannot_write(staged.out, exc) from exc
            out = staged.commit()
        messages = _warning_text(caught)
    return RunSummary(
        out_dir=out,
        report=out / "report.html",
        files=relative_files(out),
        warnings=messages,
        patient_level=out / PATIENT_LEVEL_DIR if patient_level else None,
        **summary,
    )


def _run(
    spec: StudySpec,
    vocab: Vocabulary,
    cdm_url: str | os.PathLike[str] | CdmSource | Any,
    staged: StagedOutput,
    patient_level: bool,
    progress: StageReporter,
    created_at: str | None,
    figures: FigureWorkers,
) -> dict[str, Any]:
    with progress.stage("connect") as notes:
        owned = isinstance(cdm_url, str | os.PathLike)
        source = connect(os.fspath(cdm_url)) if isinstance(cdm_url, str | os.PathLike) else None
        source = source or connect(cdm_url)
        notes.append(source.description)
    # the run owns the rows it keeps, and releases them; a source the caller opened stays open
    with source if owned else contextlib.nullcontext(), KeptRows(source) as kept:
        with progress.stage("check") as notes:
            notes.append(check_step(source, vocab, data=False))
        with progress.stage("extract") as notes:
            imports = import_in_background(LATER_MODULES)
            vocab, resolution = resolve_step(source, vocab)
            # One scan per event table; the data rules and every analysis read the kept rows.
            extracted = extract_step(kept, vocab)
            resolution = recorded_step(kept, vocab, resolution)
            notes.append(f"{extracted}; {check_step(kept, vocab, data=True)}")
            imports.join()
        # The static figures are drawn by processes of their own (about 0.5 s of CPU each to
        # start), started once the scan is done: it keeps both CPUs busy, while the analyses
        # and the suppression run in one thread (the figures are drawn here if none starts).
        figures.start()
        from allrwe.report import write_report
        from allrwe.results import export, publishable_records
        from allrwe.results.summarised import write_summarised_result
        from allrwe.study.pipeline import results_step, run_analyses
        from allrwe.study.stages import RunInputs

        with progress.stage("cohort") as notes:
            cohort = cohort_step(kept, spec, vocab)
            notes.append(_cohort_note(int(cohort.frame["person_id"].nunique()), spec.hides_below))
        analyses = run_analyses(RunInputs(kept, spec, vocab, cohort), progress)
        # the source stays open (a DuckDB file locked against writers) until the end
        info = cdm_metadata(kept)
        # the attacker's solved parts: the suppression's attacks fill it, and the final attack
        # of the published files meets most parts again (bounds by digest: nothing is assumed)
        attack_cache: dict[bytes, Any] = {}
        with progress.stage("results") as notes:
            results = results_step(
                analyses,
                spec,
                cdm=info,
                resolution=resolution,
                created_at=provenance_time(created_at),
                attack_cache=attack_cache,
            )
            notes.append(f"{len(results)} records")
        with progress.stage("report") as notes:
            # The report shows the published (rounded) records, the provenance and the spec
            # only, so that allrwe report rebuilds it byte for byte from the output folder.
            shown = results.with_records(publishable_records(results), results.provenance)
            files = write_report(shown, spec, staged.path, figures=figures)
            notes.append(f"{len(files)} files")
        with progress.stage("export") as notes:
            written = export(results, staged.path, formats=export_formats(spec))
            cdm_name = info.get("cdm_source_name") or source.description
            written.append(write_summarised_result(results, staged.path, cdm_name=cdm_name))
            write_spec(spec, staged.path)
            notes.append(f"{len(written)} files")
        with progress.stage("audit") as notes:
            audit = _audit(staged.path, spec.hides_below, attack_cache)
            notes.append(f"{len(audit.files)} files clean")
        if patient_level:
            write_patient_level(analyses.patient_level, staged.path / PATIENT_LEVEL_DIR)
        wait_for_figures(figures)
        suppression = results.provenance.suppression
        return {
            "group_sizes": _group_sizes(results),
            "audit": audit,
            "n_records": len(results),
            "suppression": suppression.to_dict() if suppression is not None else {},
            "spec_hash": results.provenance.spec_hash,
            "unavailable": dict(analyses.unavailable),
        }
