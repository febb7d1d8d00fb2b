"""``run_study``: one study from spec to audited report, stage by stage.

connect → check the structure (errors stop the run) → extract the study's records once and
check them → cohort → patterns → pathways → response/endpoints →
survival summaries → baseline → safety → results (suppressed once) → export → report → audit.
Every stage reports to an optional progress callback. Outputs are written to a staging folder
beside ``out_dir`` and moved into place only when the audit of the shareable outputs passes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import yaml

from allrwe.cohort import Cohort, build_cohort, extract_events
from allrwe.errors import (
    AllrweWarning,
    CdmDataError,
    DataQualityWarning,
    DisclosureError,
    StudyWarning,
)
from allrwe.io.check import READ_TABLES, STUDY_TABLES, check_cdm
from allrwe.io.kept import KeptRows
from allrwe.io.source import CdmSource, connect, local_path
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.io.vocabulary_resolution import SetResolution, resolve_vocabulary, unresolved_sets
from allrwe.spec import StudySpec, load_spec
from allrwe.study.output import PATIENT_LEVEL_DIR, StagedOutput, cannot_write, relative_files
from allrwe.study.progress import STAGES, ProgressCallback, StageEvent, StageReporter

if TYPE_CHECKING:
    from allrwe.report.worker import FigureWorker
    from allrwe.results import AuditReport, ResultSet
    from allrwe.study import stages

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


def _source_info(source: CdmSource) -> dict[str, str]:
    info = {"description": source.description}
    if not source.has("cdm_source"):
        return info
    try:
        frame = source.execute(source.table("cdm_source").limit(1))
    except Exception:  # a malformed cdm_source row only loses the description
        logger.debug("cdm_source unreadable", exc_info=True)
        return info
    if frame.empty:
        return info
    row = frame.iloc[0]
    for column in ("cdm_source_name", "source_description", "cdm_version", "vocabulary_version"):
        value = row.get(column)
        if value is not None and not (isinstance(value, float) and np.isnan(value)):
            info[column] = str(value)
    release = row.get("source_release_date")
    if release is not None and not pd.isna(release):
        info["source_release_date"] = str(pd.Timestamp(release).date())
    return info


def _settings(ctx: stages.StudyContext) -> dict[str, Any]:
    """Return the analysis settings the spec does not hold as written, as JSON reads them.

    They go to the provenance; the JSON round trip makes the report drawn by the run and the
    one :func:`allrwe.study.rebuild.rebuild_report` draws from ``provenance.json`` the same.
    """
    from allrwe.results.provenance import canonical_json
    from allrwe.study import stages

    return dict(json.loads(canonical_json({"pathways": stages.pathway_settings(ctx)})))


def _check(source: CdmSource, vocab: Vocabulary, *, data: bool) -> str:
    report = check_cdm(source, vocabulary=vocab, tables=STUDY_TABLES, data=data, read=READ_TABLES)
    if not report.ok:
        first = report.errors[0]
        more = len(report.errors) - 1
        tail = f" (and {more} more error(s)); run allrwe check for details" if more else ""
        raise CdmDataError(f"the CDM fails the check: {first.message}{tail}")
    return f"{len(report.warnings)} warning(s)"


def _resolve(source: CdmSource, vocab: Vocabulary) -> tuple[Vocabulary, dict[str, SetResolution]]:
    """Resolve the sets' source codes in the CDM's vocabulary; warn of sets found nowhere."""
    vocab, resolution = resolve_vocabulary(source, vocab)
    missing = unresolved_sets(resolution, list(vocab.sets))
    if missing:
        warnings.warn(
            f"{len(missing)} concept set(s) have no concept in the CDM's vocabulary "
            f"({', '.join(missing)}): analyses needing them find no record",
            DataQualityWarning,
            stacklevel=2,
        )
    return vocab, resolution


def _extract(kept: KeptRows, vocab: Vocabulary) -> str:
    rows = extract_events(kept, vocab)
    kept.cache_kept_persons_rows()
    return f"{sum(rows.values()):,} records from {len(rows)} tables"


def _cohort(source: CdmSource, spec: StudySpec, vocab: Vocabulary) -> Cohort:
    cohort = build_cohort(source, spec, vocab)
    if not len(cohort):
        # A network study still wants the site's attrition and its zeros back.
        warnings.warn(_empty_cohort_text(cohort, spec, source), StudyWarning, stacklevel=2)
    return cohort


def _empty_cohort_text(cohort: Cohort, spec: StudySpec, source: CdmSource) -> str:
    att = cohort.attrition
    lost = att[att["n_persons"] == 0]
    where = ""
    if not lost.empty:
        first = lost.iloc[0]
        where = (
            f"; step {first['step']!r} ({first['reason']}) leaves group {first['group']!r} empty"
        )
    return f"the cohort of study {spec.name!r} is empty on {source.description}{where}"


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


def _write_spec(spec: StudySpec, folder: Path) -> None:
    data = spec.model_dump(mode="json")
    # in the model's order: the report lists mappings (therapy classes, say) in spec order
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
    (folder / "study.yaml").write_text(text, encoding="utf-8")


def _write_patient_level(tables: dict[str, pd.DataFrame], folder: Path) -> None:
    folder.mkdir()
    (folder / "README.txt").write_text(
        "Person-level tables of an allrwe run. They identify persons: keep them on site and "
        "never share them.\n",
        encoding="utf-8",
    )
    for name, frame in sorted(tables.items()):
        frame.reset_index(drop=True).to_parquet(folder / f"{name}.parquet", index=False)


#: Modules of the stages after ``extract``: the analyses, results and report (SciPy, Jinja2).
#: A run imports them in the background while the engine scans the CDM. matplotlib is not one
#: of them: the static figures are drawn by a worker process (:mod:`allrwe.report.worker`).
LATER_MODULES = (
    "allrwe.study.stages",
    "allrwe.study.adapters",
    "allrwe.results",
    "allrwe.report.structure",
    "allrwe.report.render",
)


def _import_in_background(names: tuple[str, ...]) -> threading.Thread:
    """Start importing ``names`` in a daemon thread and return it.

    The scan of the ``extract`` stage runs inside the engine, which leaves Python free; the
    imports take that time instead of adding about a second to the run. A module that fails
    to import here is imported again by the stage that needs it, which reports the error.
    """

    def work() -> None:
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # reported where the module is used
                logger.debug("background import of %s failed", name, exc_info=True)

    thread = threading.Thread(target=work, name="allrwe-imports", daemon=True)
    thread.start()
    return thread


def _wait_for_figures(figures: FigureWorker) -> None:
    """Wait for the static figures the worker draws (none to wait for if drawn here).

    The audit reads the results and the HTML report, not the PNG and SVG files, so it runs
    while they are drawn; the run ends, and its output is committed, once they are written.
    """
    started = time.perf_counter()
    written = figures.wait()
    logger.debug(
        "waited %.2f s for %d static figure files", time.perf_counter() - started, len(written)
    )


#: ``True``: a hidden count the attacker recovers at the end of a run fails it
#: (``DisclosureError``, exit 1, nothing written); ``False``: a warning naming the records.
#: The suppression attacks its own records and hides more until the attacker finds nothing,
#: so a leak here means that the published files say more than the records it attacked.
FAIL_RUN_ON_LEAKS = True


def _audit(folder: Path, min_cell_count: int) -> AuditReport:
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
    attacked = attack(published.records, min_cell_count, report=published.report)
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


def _analyses(ctx: stages.StudyContext, progress: StageReporter) -> list[pd.DataFrame]:
    from allrwe.study import stages
    from allrwe.study.adapters import attrition_records, cohort_records, link_attrition

    parts = [
        link_attrition(
            cohort_records(ctx.cohort.frame, ctx.groups), attrition_records(ctx.cohort.attrition)
        )
    ]
    steps: list[tuple[str, Callable[[stages.StudyContext], pd.DataFrame], str]] = [
        ("patterns", stages.patterns_stage, "patterns"),
        ("pathways", stages.pathways_stage, "pathways"),
        ("outcomes", stages.outcomes_stage, "response"),
        ("survival", stages.survival_stage, "survival_summary"),
        ("baseline", stages.baseline_stage, "baseline"),
        ("safety", stages.safety_stage, "safety"),
    ]
    for stage, function, analysis in steps:
        with progress.stage(stage) as notes:
            if not len(ctx.cohort):
                notes.append("!empty cohort: only attrition and group sizes are written")
                continue
            records = function(ctx)
            parts.append(records)
            if analysis in ctx.unavailable:
                notes.append("!" + ctx.unavailable[analysis])
            else:
                notes.append(f"{len(records)} records")
    return parts


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
    from allrwe.report.worker import FigureWorker

    spec, vocab = _load(spec_path_or_spec, tuple(vocab_paths))
    # The one spec object the whole run reads holds the threshold, wherever it was given.
    spec = spec.with_min_cell_count(min_cell_count, source="--min-cell-count")
    steps = StageReporter(progress)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # The figure worker ends before the staging folder is committed or removed.
        cdm_path = local_path(cdm_url)
        protect = (cdm_path,) if cdm_path is not None else ()
        with StagedOutput(out_dir, protect=protect) as staged, FigureWorker() as figures:
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


def _created_at(given: str | None) -> str | None:
    if given is not None:
        return given
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        stamp = pd.Timestamp(int(epoch.strip()), unit="s", tz="UTC")
        return stamp.isoformat()
    return None


def _run(
    spec: StudySpec,
    vocab: Vocabulary,
    cdm_url: str | os.PathLike[str] | CdmSource | Any,
    staged: StagedOutput,
    patient_level: bool,
    progress: StageReporter,
    created_at: str | None,
    figures: FigureWorker,
) -> dict[str, Any]:
    with progress.stage("connect") as notes:
        owned = isinstance(cdm_url, str | os.PathLike)
        source = connect(os.fspath(cdm_url)) if isinstance(cdm_url, str | os.PathLike) else None
        source = source or connect(cdm_url)
        notes.append(source.description)
    # the run owns the rows it keeps, and releases them; a source the caller opened stays open
    with source if owned else contextlib.nullcontext(), KeptRows(source) as kept:
        with progress.stage("check") as notes:
            notes.append(_check(source, vocab, data=False))
        with progress.stage("extract") as notes:
            imports = _import_in_background(LATER_MODULES)
            # the static figures are drawn in a process of their own, started now so that
            # its start-up overlaps the scan (the report is drawn here if it cannot start)
            figures.start()
            vocab, resolution = _resolve(source, vocab)
            # One scan per event table; the data rules and every analysis read the kept rows.
            extracted = _extract(kept, vocab)
            notes.append(f"{extracted}; {_check(kept, vocab, data=True)}")
            imports.join()
        from allrwe.report import write_report
        from allrwe.results import ResultSet, export, publishable_records, suppress
        from allrwe.results.links import declare_links
        from allrwe.results.summarised import write_summarised_result
        from allrwe.study import stages
        from allrwe.study.adapters import empty_records

        with progress.stage("cohort") as notes:
            cohort = _cohort(kept, spec, vocab)
            notes.append(_cohort_note(int(cohort.frame["person_id"].nunique()), spec.hides_below))
        ctx = stages.StudyContext(source=kept, spec=spec, vocab=vocab, cohort=cohort)
        ctx.patient_level["cohort"] = cohort.frame
        parts = _analyses(ctx, progress)
        info = _source_info(source)
        # the source stays open (a DuckDB file locked against writers) until the end
        with progress.stage("results") as notes:
            frames = [p for p in parts if len(p)] or [empty_records()]
            raw = ResultSet.create(
                declare_links(pd.concat(frames, ignore_index=True)),
                spec=spec,
                cdm_source=source.description,
                created_at=_created_at(created_at),
            )
            raw = ResultSet(
                raw.records,
                dataclasses.replace(
                    raw.provenance,
                    concept_sets={k: r.to_dict() for k, r in resolution.items()},
                    cdm=info,
                    settings=_settings(ctx),
                ),
            )
            results = suppress(
                raw, min_cell_count=spec.min_cell_count, policy=spec.suppression.policy
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
            _write_spec(spec, staged.path)
            notes.append(f"{len(written)} files")
        with progress.stage("audit") as notes:
            audit = _audit(staged.path, spec.hides_below)
            notes.append(f"{len(audit.files)} files clean")
        if patient_level:
            _write_patient_level(ctx.patient_level, staged.path / PATIENT_LEVEL_DIR)
        _wait_for_figures(figures)
        suppression = results.provenance.suppression
        return {
            "group_sizes": _group_sizes(results),
            "audit": audit,
            "n_records": len(results),
            "suppression": suppression.to_dict() if suppression is not None else {},
            "spec_hash": results.provenance.spec_hash,
            "unavailable": dict(ctx.unavailable),
        }
