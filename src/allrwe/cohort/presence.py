"""Whole-CDM reads of the concept sets: keep every set's rows once, and whether a set is recorded.

:func:`extract_events` reads the records of every set once per event table and keeps them for
the run (:class:`~allrwe.io.kept.KeptRows`); :func:`any_records` and :func:`recorded_sets` say
whether the CDM holds anyone's record of a set, which decides "not available" over 0 %.
"""

from __future__ import annotations

from collections.abc import Sequence

from allrwe.cohort.domains import EVENT_DOMAINS, EXTRA_COLUMNS, require_columns
from allrwe.cohort.events import concept_events, expand_keys
from allrwe.cohort.matching import (
    event_table,
    expanded_sets,
    kept_pairs,
    matched_ids,
    matchers_for,
)
from allrwe.errors import VocabularyError
from allrwe.io.cdm import CdmSource
from allrwe.io.kept import KeptRows
from allrwe.io.vocabulary import ConceptSet, Vocabulary

__all__ = ["any_records", "extract_events", "recorded_sets"]


def extract_events(
    source: KeptRows,
    vocab: Vocabulary,
    *,
    domains: Sequence[str] = ("drug", "condition", "procedure", "measurement", "observation"),
) -> dict[str, int]:
    """Read the records of every concept set of ``vocab`` once per event table, and keep them.

    One filtered scan per table (standard or source concept among the ids of all the sets,
    descendants included) materialises the rows and the columns the event helpers read, in the
    engine (:meth:`~allrwe.io.kept.KeptRows.cache_rows`). Every later event query given
    ``source`` on that table whose concepts are among them reads the kept rows instead of the
    table; any other query still reads the table. Results are the same either way, only faster.

    Parameters
    ----------
    source : KeptRows
        The rows kept of the CDM (filled here), which the run then passes on.
    vocab : Vocabulary
        The concept sets in force (all of them are extracted).
    domains : sequence of str
        The event domains to extract.

    Returns
    -------
    dict of str to int
        Rows kept per CDM table (tables absent from the CDM are left out).
    """
    unknown = [d for d in domains if d not in EVENT_DOMAINS]
    if unknown:
        raise ValueError(f"unknown event domain(s) {unknown}: use {list(EVENT_DOMAINS)}")
    by_domain: dict[str, list[ConceptSet]] = {}
    for cs in vocab.sets.values():
        for domain in cs.read_domains if cs.concept_ids else ():
            if domain in domains:
                by_domain.setdefault(domain, []).append(cs)
    expanded_sets(source, [cs for sets in by_domain.values() for cs in sets])
    kept: dict[str, int] = {}
    for domain in domains:
        dom = EVENT_DOMAINS[domain]
        sets = by_domain.get(domain, [])
        if not sets or not source.has(dom.table):
            continue
        table = source.table(dom.table)
        require_columns(table, dom.table, dom.required)
        matchers = matchers_for(source, sets)
        match = [c for c in (dom.concept_col, dom.source_col) if c in table.columns]
        wanted = [
            "person_id",
            dom.id_col,
            dom.concept_col,
            dom.source_col,
            dom.start_col,
            *([dom.end_col] if dom.end_col else []),
            *EXTRA_COLUMNS[domain],
        ]
        columns = [c for c in dict.fromkeys(wanted) if c in table.columns]
        kept[dom.table] = source.cache_rows(
            dom.table, match=match, ids=matched_ids(matchers), columns=columns
        ).rows
    return kept


def any_records(
    source: CdmSource,
    vocab: Vocabulary,
    keys: str | Sequence[str],
    *,
    domains: Sequence[str] = ("drug", "condition", "procedure", "measurement", "observation"),
) -> bool:
    """Whether the CDM holds a record of the sets of ``keys`` (anyone's), in ``domains``.

    The answer of :func:`concept_events` (``persons=None``) having a row. Tables whose kept
    rows (:func:`extract_events`) hold every match answer from the concepts of those rows,
    without a query; the others by one query.

    Raises
    ------
    VocabularyError
        An unknown key, or no set of ``keys`` is in ``domains``.
    """
    sets = expand_keys(vocab, keys)
    if not any(cs.domain in domains for cs in sets):
        raise VocabularyError(f"no concept set of {keys!r} is in the domains {list(domains)}")
    asked = []
    for domain in domains:
        dom = EVENT_DOMAINS[domain]
        in_domain = [cs for cs in sets if cs.domain == domain]
        if not in_domain or not source.has(dom.table):
            continue  # no record, as concept_events finds none
        matchers = matchers_for(source, in_domain)
        table, kept = event_table(source, dom, matchers)
        require_columns(table, dom.table, dom.required)
        if not matchers:
            continue
        if not kept:
            asked.append(domain)
            continue
        by_source = dom.source_col in table.columns
        for concept, source_concept in kept_pairs(source, dom, table):
            if any(m.matches(concept, source_concept, by_source=by_source) for m in matchers):
                return True
    if not asked:
        return False
    ev = concept_events(source, vocab, None, keys, domains=asked)
    return int(source.execute(ev.limit(1).count())) > 0


def recorded_sets(
    source: CdmSource, vocab: Vocabulary, keys: str | Sequence[str] | None = None
) -> dict[str, bool]:
    """Per concept set, whether the CDM holds a record of it (anyone's) in a table it is read from.

    This is how allrwe judges that a fact is *present in the CDM*: a set is present when some
    row of a table it is read from (its domain's table, and those of ``also_in``) matches it,
    by standard concept (descendants included) or by source concept, for any person of the
    CDM, not only the cohort's. A set with no such row is a fact the data source does not
    capture (a claims extract without transplant codes, a hospital without CAR-T), and the
    analyses needing it say "not available" rather than 0. A concept of the set in the CDM's
    ``concept`` table is not enough: an OMOP CDM ships the whole standardised vocabulary,
    whatever its data hold. Tables whose kept rows (:func:`extract_events`) hold every match
    are answered without a query; the others by one query per set.

    Parameters
    ----------
    source : CdmSource
        The CDM.
    vocab : Vocabulary
        The concept sets in force.
    keys : str or sequence of str, optional
        Sets or groups to judge (groups judge each member); all sets when omitted.

    Returns
    -------
    dict of str to bool
        Per set key, ``True`` when the CDM holds a record of it; a set without concepts, or
        read only from tables the CDM lacks, is ``False``. Sets read from no event table
        (``death``, ``visit`` domains) are not judged and left out.
    """
    sets = list(vocab.sets.values()) if keys is None else expand_keys(vocab, keys)
    sets = [cs for cs in sets if any(d in EVENT_DOMAINS for d in cs.read_domains)]
    found = {cs.key: False for cs in sets}
    for domain, dom in EVENT_DOMAINS.items():
        todo = [
            cs for cs in sets if domain in cs.read_domains and cs.concept_ids and not found[cs.key]
        ]
        if not todo or not source.has(dom.table):
            continue
        matchers = matchers_for(source, todo)
        table, kept = event_table(source, dom, matchers)
        require_columns(table, dom.table, dom.required)
        by_source = dom.source_col in table.columns
        if kept:
            pairs = kept_pairs(source, dom, table)
            for m in matchers:
                found[m.key] = any(m.matches(c, sc, by_source=by_source) for c, sc in pairs)
            continue
        for m in matchers:
            hits = table.filter(m.condition(table, dom)).limit(1).count()
            found[m.key] = int(source.execute(hits)) > 0
    return found
