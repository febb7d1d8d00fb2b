"""Engine queries of the safety tables: graded adverse events per window, deaths and causes.

Record-level work stays in the engine: adverse-event records are joined to the (small) table of
windows and come back as one row per cohort row, window and term with the worst grade.

Adverse events are read where real ETLs put them: ``condition_occurrence`` rows of the sets'
standard Condition concepts, and ``observation`` rows where a site records them there. The grade
comes from the ICD-10-CM source code when it carries one (D89.831-D89.835 cytokine release
syndrome grade 1-5, G92.01-G92.05 ICANS grade 1-5), else from a recorded ``value_as_number``
(observation), else it is unknown (D89.839, G92.00, K76.5 and every other code): never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from allrwe.analyses.safety.windows import WINDOW_COLUMNS
from allrwe.cohort import (
    Cohort,
    condition_events,
    death_dates,
    expand_keys,
    observation_values,
    small_table,
)
from allrwe.cohort.events import Persons
from allrwe.errors import VocabularyError
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import SafetySpec

__all__ = [
    "AE_DOMAINS",
    "UNKNOWN_CAUSE",
    "ae_records",
    "cause_labels",
    "code_grade",
    "deaths",
    "grades_available",
    "term_keys",
    "worst_grades",
]

#: label of a death without a cause concept
UNKNOWN_CAUSE = "unknown"
_EPOCH = np.datetime64("1970-01-01", "D")


#: the CDM domains adverse events are read from (a set: its ``read_domains`` among them)
AE_DOMAINS = ("condition", "observation")
#: ICD-10-CM code prefixes (without the dot) whose last character is the grade 1-5
_GRADED_CODES = ("D8983", "G920")


def term_keys(vocab: Vocabulary, keys: Sequence[str]) -> list[str]:
    """Return the adverse-event set keys (condition or observation domain) ``keys`` stand for."""
    return [cs.key for cs in expand_keys(vocab, list(keys)) if cs.domain in AE_DOMAINS]


def code_grade(code: ir.StringValue) -> ir.FloatingValue:
    """Return the CTCAE grade an ICD-10-CM source code carries, null when it carries none.

    ``D89.83n`` (cytokine release syndrome) and ``G92.0n`` (ICANS) with n in 1-5 give n; the
    dot, case and surrounding blanks do not matter. ``D89.839``, ``G92.00`` and every other
    code (``K76.5``...) give null: the grade is unknown, never guessed.
    """
    norm = code.strip().upper().replace(".", "")
    last = norm.substr(norm.length() - 1, 1)
    graded = ibis.or_(*(norm.startswith(p) & (norm.length() == len(p) + 1) for p in _GRADED_CODES))
    ok = graded & last.isin(["1", "2", "3", "4", "5"])
    return ibis.ifelse(ok, last.cast("float64"), ibis.null().cast("float64"))


def _valid(grade: ir.FloatingValue) -> ir.FloatingValue:
    ok = (grade >= 1) & (grade <= 5) & (grade == grade.floor())
    return ibis.ifelse(ok, grade, ibis.null().cast("float64"))


def ae_records(
    source: CdmSource, vocab: Vocabulary, persons: Persons, keys: Sequence[str]
) -> ir.Table:
    """Return adverse-event records of the sets ``keys`` from condition and observation rows.

    Parameters
    ----------
    source, vocab
        The CDM and the concept sets in force.
    persons : Cohort, ibis.Table or None
        Whose records; ``None`` for everyone.
    keys : sequence of str
        Adverse-event set keys (:func:`term_keys`).

    Returns
    -------
    ibis.Table
        ``person_id, term, start_date, grade``: ``grade`` is the grade of the ICD-10-CM source
        code (:func:`code_grade`), else a valid recorded ``value_as_number`` (1-5, whole), else
        null (grade unknown).
    """
    sets = [vocab.concept_set(k) for k in keys]
    parts = []
    for domain in AE_DOMAINS:
        moved = {
            cs.key: cs.model_copy(update={"domain": domain})
            for cs in sets
            if domain in cs.read_domains
        }
        if not moved:
            continue
        in_domain = Vocabulary(sets={**vocab.sets, **moved}, groups=vocab.groups)
        if domain == "condition":
            ev = condition_events(source, in_domain, persons, list(moved))
            grade = code_grade(ev.condition_source_value)
        else:
            ev = observation_values(source, in_domain, persons, list(moved))
            grade = code_grade(ev.observation_source_value).fill_null(_valid(ev.value_as_number))
        parts.append(
            ev.select(
                person_id="person_id", term="concept_set", start_date="start_date", grade=grade
            )
        )
    if not parts:
        raise VocabularyError(f"no adverse-event set of {list(keys)} is read from {AE_DOMAINS}")
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def grades_available(
    source: CdmSource, vocab: Vocabulary, safety: SafetySpec, keys: Sequence[str]
) -> bool:
    """Whether graded adverse events can be reported (``safety.ae_grades``).

    ``auto``: the CDM holds at least one adverse-event record of the sets with a grade (for
    anyone: from its ICD-10-CM code or a recorded value); claims without graded codes hold
    none, so their graded tables say "not available", never 0.
    """
    if safety.ae_grades != "auto":
        return safety.ae_grades == "recorded"
    if not keys:
        return False
    ev = ae_records(source, vocab, None, list(keys))
    graded = ev.filter(ev.grade.notnull()).limit(1)
    return int(source.execute(graded.count())) > 0


def _dates(day_numbers: pd.Series) -> np.ndarray:
    return (day_numbers.to_numpy(dtype="int64").astype("timedelta64[D]") + _EPOCH).astype(
        "datetime64[s]"
    )


def worst_grades(
    source: CdmSource,
    vocab: Vocabulary,
    cohort: Cohort,
    windows: pd.DataFrame,
    keys: Sequence[str],
) -> pd.DataFrame:
    """Return the worst grade per cohort row, window and term, for onsets inside the window.

    Parameters
    ----------
    source, vocab, cohort
        The CDM, concept sets and cohort.
    windows : pandas.DataFrame
        ``person_id, group, window, w_start, w_end`` (day numbers, both ends inclusive).
    keys : sequence of str
        Adverse-event set keys (:func:`term_keys`).

    Returns
    -------
    pandas.DataFrame
        ``person_id, group, window, term, max_grade, n_records``: ``max_grade`` is the worst
        CTCAE grade (1-5) of the records (:func:`ae_records`), NaN when none of them has one.
    """
    columns = ["person_id", "group", "window", "term", "max_grade", "n_records"]
    if windows.empty or not keys:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame = windows[list(WINDOW_COLUMNS)].assign(
        w_start=_dates(windows["w_start"]), w_end=_dates(windows["w_end"])
    )
    win = small_table(
        frame,
        {
            "person_id": "int64",
            "group": "string",
            "window": "string",
            "w_start": "date",
            "w_end": "date",
        },
    )
    ev = ae_records(source, vocab, cohort, list(keys))
    ev = ev.select(_pid="person_id", term="term", _date="start_date", _grade="grade")
    j = win.join(
        ev, (win.person_id == ev._pid) & (ev._date >= win.w_start) & (ev._date <= win.w_end)
    )
    agg = j.group_by(["person_id", "group", "window", "term"]).agg(
        max_grade=j._grade.max(), n_records=j.count()
    )
    out = source.execute(agg)
    out["max_grade"] = pd.to_numeric(out["max_grade"], errors="coerce").astype("float64")
    return out[columns]


def _concept_names(source: CdmSource, ids: list[int]) -> dict[int, str]:
    if not ids or not source.has("concept"):
        return {}
    concept = source.table("concept")
    found = source.execute(
        concept.filter(concept.concept_id.isin(ids)).select("concept_id", "concept_name")
    )
    return {
        int(cid): name.strip()
        for cid, name in zip(found["concept_id"], found["concept_name"], strict=True)
        if isinstance(name, str) and name.strip()
    }


def _source_values(source: CdmSource, ids: list[int]) -> dict[int, str]:
    """Return the most frequent ``cause_source_value`` per cause concept (ties: alphabetical)."""
    if not ids or not source.has("death"):
        return {}
    death = source.table("death")
    if "cause_source_value" not in death.columns or "cause_concept_id" not in death.columns:
        return {}
    sel = death.filter(death.cause_concept_id.isin(ids) & death.cause_source_value.notnull())
    counted = sel.group_by(["cause_concept_id", "cause_source_value"]).agg(n=sel.count())
    found = source.execute(counted)
    found = found.sort_values(
        ["cause_concept_id", "n", "cause_source_value"], ascending=[True, False, True]
    ).drop_duplicates("cause_concept_id")
    return {
        int(cid): str(text).strip()
        for cid, text in zip(found["cause_concept_id"], found["cause_source_value"], strict=True)
        if str(text).strip()
    }


def cause_labels(source: CdmSource, vocab: Vocabulary, causes: Sequence[float]) -> dict[int, str]:
    """Label each cause-of-death concept id.

    In order: the label of the allrwe concept set holding the concept, the CDM's
    ``concept.concept_name``, the most frequent ``death.cause_source_value`` recorded with it
    (local concepts), else ``"concept <id>"``. A missing or 0 cause is labelled ``"unknown"``
    by :func:`deaths`.
    """
    ids = sorted({int(c) for c in causes if not pd.isna(c) and int(c) != 0})
    if not ids:
        return {}
    to_set = vocab.concept_to_set(list(vocab.sets))
    labels = {cid: vocab.sets[to_set[cid]].label for cid in ids if cid in to_set}
    for lookup in (_concept_names, _source_values):
        rest = [cid for cid in ids if cid not in labels]
        labels.update(lookup(source, rest))
    return {cid: labels.get(cid, f"concept {cid}") for cid in ids}


def deaths(source: CdmSource, vocab: Vocabulary, cohort: Cohort) -> pd.DataFrame:
    """Return ``person_id, death_date, cause`` of the cohort's persons (one row per person)."""
    out = source.execute(death_dates(source, cohort))
    labels = cause_labels(source, vocab, out["cause_concept_id"].tolist())
    cause = [
        UNKNOWN_CAUSE if pd.isna(c) or int(c) == 0 else labels[int(c)]
        for c in out["cause_concept_id"]
    ]
    return pd.DataFrame(
        {
            "person_id": out["person_id"].to_numpy(dtype="int64"),
            "death_date": pd.to_datetime(out["death_date"]).to_numpy(),
            "cause": np.asarray(cause, dtype=object),
        }
    )
