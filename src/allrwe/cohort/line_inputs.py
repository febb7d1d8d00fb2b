"""The inputs of the line-of-therapy rules for a cohort's persons, and the line at index.

Which sets play which role in :mod:`allrwe.cohort.lines` (:func:`line_roles`), which records
are the algorithm's events (:func:`line_event_keys`), and reading them (:func:`line_inputs`).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from allrwe.cohort.events import concept_events, expand_keys
from allrwe.cohort.line_summary import line_at
from allrwe.cohort.lines import LineRoles, assign_lines
from allrwe.cohort.model import (
    Cohort,
)
from allrwe.io.source import CdmSource
from allrwe.io.vocabulary import Vocabulary
from allrwe.spec import StudySpec

__all__ = ["cohort_line_inputs", "line_event_keys", "line_inputs", "line_roles", "lines_at_index"]


def _set_keys(vocab: Vocabulary, keys: Sequence[str]) -> frozenset[str]:
    return frozenset(cs.key for cs in expand_keys(vocab, keys)) if keys else frozenset()


def line_roles(spec: StudySpec, vocab: Vocabulary) -> LineRoles:
    """Resolve the role lists of ``patterns.lines`` (keys or groups) to set keys."""
    lines = spec.patterns.lines
    return LineRoles(
        gap_exempt=_set_keys(vocab, lines.gap_exempt),
        allowed_additions=_set_keys(vocab, lines.allowed_additions),
        line_defining=_set_keys(vocab, lines.line_defining),
        lymphodepletion=_set_keys(vocab, lines.lymphodepletion),
        transplant=_set_keys(vocab, lines.transplant),
        line_defining_label=lines.line_defining[0] if lines.line_defining else "line_defining",
        transplant_label=lines.transplant[0] if lines.transplant else "transplant",
    )


def line_event_keys(spec: StudySpec) -> list[str]:
    """Keys (sets or groups) whose records are the events of the line-of-therapy algorithm.

    Every therapy class, the index groups' sets, lymphodepletion and transplant sets; supportive
    drugs (corticosteroids) are not anticancer events.
    """
    keys: dict[str, None] = {}
    for class_keys in spec.patterns.therapy_classes.values():
        keys.update(dict.fromkeys(class_keys))
    for group_keys in spec.index_groups.values():
        keys.update(dict.fromkeys(group_keys))
    lines = spec.patterns.lines
    keys.update(dict.fromkeys([*lines.lymphodepletion, *lines.transplant, *lines.line_defining]))
    return list(keys)


def line_inputs(
    source: CdmSource, spec: StudySpec, vocab: Vocabulary, persons: ir.Table
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Execute the anticancer events and disease-status records the line rules need.

    Returns
    -------
    events : pandas.DataFrame
        ``person_id, concept_set, start_date, end_date``.
    status : pandas.DataFrame
        ``person_id, date, kind`` (``"remission"`` or ``"rr"``).
    """
    ev = concept_events(
        source, vocab, persons, line_event_keys(spec), domains=("drug", "procedure")
    )
    events = source.execute(ev.select("person_id", "concept_set", "start_date", "end_date"))
    parts = []
    remission = [*spec.setting.remission_evidence, *spec.setting.mrd_evidence]
    for kind, keys in (("remission", remission), ("rr", spec.classification.rr_evidence)):
        if keys:
            st = concept_events(source, vocab, persons, keys)
            parts.append(
                st.select("person_id", date="start_date", kind=ibis.literal(kind, type="string"))
            )
    if parts:
        status = source.execute(parts[0] if len(parts) == 1 else ibis.union(*parts))
    else:
        status = pd.DataFrame(columns=["person_id", "date", "kind"])
    return events, status


def cohort_line_inputs(
    source: CdmSource, vocab: Vocabulary, cohort: Cohort
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return :func:`line_inputs` of the cohort's persons, kept ones when read with ``vocab``."""
    kept = cohort.line_records
    if kept is not None and kept.vocab is vocab:
        return kept.events, kept.status
    return line_inputs(source, cohort.spec, vocab, cohort.persons_table())


def lines_at_index(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    status: pd.DataFrame,
    spec: StudySpec,
    roles: LineRoles,
) -> tuple[list[int | None], pd.DataFrame]:
    """Return the line of therapy at each row's index, and the assigned lines."""
    assigned = assign_lines(
        events,
        spec.patterns.lines,
        roles,
        status=status,
    )
    keys = zip(frame["person_id"], frame["index_set"], frame["index_date"], strict=True)
    return line_at(assigned, keys), assigned
