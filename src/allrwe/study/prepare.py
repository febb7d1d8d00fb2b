"""The data steps of a run, before any analysis: check the CDM, keep its rows, build the cohort.

The rules this module owns: a CDM error found by the check stops the run (the message names
the first error and counts the others); every concept set is resolved in the CDM's
vocabulary and one found nowhere is a warning; the records of every set are read once per
event table and kept (:class:`~allrwe.io.kept.KeptRows`), with the persons, observation
periods and deaths of their persons; an empty cohort is a warning naming the step that
emptied it, not an error. These steps import nothing heavy: the analyses load meanwhile
(:mod:`allrwe.study.background`).
"""

from __future__ import annotations

import dataclasses
import warnings

from allrwe.cohort import Cohort, build_cohort, extract_events, recorded_sets
from allrwe.errors import CdmDataError, DataQualityWarning, StudyWarning
from allrwe.io.cdm import CdmSource
from allrwe.io.check import READ_TABLES, STUDY_TABLES, check_cdm
from allrwe.io.kept import KeptRows
from allrwe.io.vocabulary import Vocabulary
from allrwe.io.vocabulary_resolution import SetResolution, resolve_vocabulary, unresolved_sets
from allrwe.spec import StudySpec

__all__ = ["check_step", "cohort_step", "extract_step", "recorded_step", "resolve_step"]


def check_step(source: CdmSource, vocab: Vocabulary, *, data: bool) -> str:
    """Check the CDM (``data``: the kept rows too); errors stop the run. Return the note.

    Raises
    ------
    CdmDataError
        The check finds an error; the message names the first and counts the others.
    """
    report = check_cdm(source, vocabulary=vocab, tables=STUDY_TABLES, data=data, read=READ_TABLES)
    if not report.ok:
        first = report.errors[0]
        more = len(report.errors) - 1
        tail = f" (and {more} more error(s)); run allrwe check for details" if more else ""
        raise CdmDataError(f"the CDM fails the check: {first.message}{tail}")
    return f"{len(report.warnings)} warning(s)"


def resolve_step(
    source: CdmSource, vocab: Vocabulary
) -> tuple[Vocabulary, dict[str, SetResolution]]:
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


def recorded_step(
    kept: KeptRows, vocab: Vocabulary, resolution: dict[str, SetResolution]
) -> dict[str, SetResolution]:
    """Judge per set whether the CDM holds a record of it; warn of those it holds none of.

    The analyses needing such a set say "not available" (docs/cdm-conventions.md).
    """
    recorded = recorded_sets(kept, vocab)
    unresolved = set(unresolved_sets(resolution, list(vocab.sets)))
    absent = [k for k, found in recorded.items() if not found and k not in unresolved]
    if absent:
        warnings.warn(
            f"{len(absent)} concept set(s) have no record in the CDM, in any table they are "
            f"read from ({', '.join(absent)}): analyses needing them say 'not available'",
            DataQualityWarning,
            stacklevel=2,
        )
    return {k: dataclasses.replace(r, recorded=recorded.get(k)) for k, r in resolution.items()}


def extract_step(kept: KeptRows, vocab: Vocabulary) -> str:
    """Keep the records of every set (one scan per table) and their persons' rows; the note."""
    rows = extract_events(kept, vocab)
    kept.cache_kept_persons_rows()
    return f"{sum(rows.values()):,} records from {len(rows)} tables"


def cohort_step(source: CdmSource, spec: StudySpec, vocab: Vocabulary) -> Cohort:
    """Build the cohort; an empty one is a warning naming the step that emptied it."""
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
