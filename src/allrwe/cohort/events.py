"""Records of concept sets, restricted to a cohort's persons, as lazy Ibis tables.

These helpers are the one way analyses read clinical facts from the CDM. Each takes the source,
the vocabulary, the persons to keep (a :class:`~allrwe.cohort.model.Cohort`, an Ibis table with
``person_id``, or ``None`` for everyone) and one or more concept-set keys or group names, and
returns an Ibis expression; nothing is executed.

How a record matches a set is :mod:`allrwe.cohort.matching`'s rule; the tables and columns of
each domain are :mod:`allrwe.cohort.domains`'; whole-CDM reads (keeping every set's rows, whether
a set is recorded at all) are :mod:`allrwe.cohort.presence`'s. A record that matches several
requested sets appears once per set, labelled in ``concept_set``.

Every event table has ``person_id``, ``concept_set`` (the key of the set, never the group),
``record_id`` (the CDM row id), ``concept_id`` (the standard concept), ``start_date`` and
``end_date`` (dates; a null ``end_date`` falls back to ``start + days_supply - 1`` for a drug
with a positive supply, else to the start date, and an end before the start is the start:
:func:`_end_date`). Value columns keep their OMOP names.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import TypeAlias

import ibis
import ibis.expr.types as ir

from allrwe.cohort.domains import EVENT_DOMAINS, EXTRA_COLUMNS, Domain, require_columns
from allrwe.cohort.matching import event_table, kept_pairs, match_layers, matchers_for
from allrwe.cohort.model import Cohort
from allrwe.errors import VocabularyError
from allrwe.io.cdm import CdmSource
from allrwe.io.kept import rows_for_persons
from allrwe.io.vocabulary import ConceptSet, Vocabulary

__all__ = [
    "Persons",
    "concept_events",
    "condition_events",
    "death_dates",
    "drug_events",
    "expand_keys",
    "measurement_values",
    "observation_values",
    "procedure_events",
    "with_unit_factor",
]

#: What an events helper accepts as "whose records".
Persons: TypeAlias = Cohort | ir.Table | None


def expand_keys(vocab: Vocabulary, keys: str | Sequence[str]) -> list[ConceptSet]:
    """Return the distinct concept sets that keys (set keys or group names) stand for, in order.

    Raises
    ------
    VocabularyError
        A key is neither a set nor a group.
    """
    wanted = [keys] if isinstance(keys, str) else list(keys)
    out: dict[str, ConceptSet] = {}
    for key in wanted:
        for cs in vocab.members(key):
            out.setdefault(cs.key, cs)
    return list(out.values())


def persons_table(persons: Persons) -> ir.Table | None:
    if persons is None:
        return None
    if isinstance(persons, Cohort):
        return persons.persons_table()
    return persons.select("person_id").distinct()


def _domain_events(
    source: CdmSource,
    vocab: Vocabulary,
    persons: Persons,
    keys: str | Sequence[str],
    domain: str,
    *,
    strict: bool,
) -> ir.Table | None:
    sets = [cs for cs in expand_keys(vocab, keys) if cs.domain == domain]
    if not sets:
        if strict:
            raise VocabularyError(f"none of the concept sets {keys!r} is in the {domain!r} domain")
        return None
    dom = EVENT_DOMAINS[domain]
    extra = EXTRA_COLUMNS[domain]
    if not source.has(dom.table):
        # An optional table that is absent (claims data without `measurement`) holds no
        # records; the analyses then report "not available" rather than failing.
        return _empty(source.table("person"), extra)
    matchers = matchers_for(source, sets)
    table, kept = event_table(source, dom, matchers)
    require_columns(table, dom.table, dom.required)
    by_source = dom.source_col in table.columns
    layers = match_layers(matchers, by_source=by_source)
    if len(layers) > 1 and kept:
        # Every layer is a scan of its own; the kept rows tell which sets really share a
        # record, and sets that share none are found by one scan, which is a smaller query
        # to compile and to run (27 sets of the line rules: one scan instead of 27).
        pairs = kept_pairs(source, dom, table)
        layers = match_layers(matchers, by_source=by_source, pairs=pairs)
    keep = persons_table(persons)
    if keep is not None:
        table = table.semi_join(keep, "person_id")
    start = table[dom.start_col].cast("date")
    end: ir.DateValue = start
    if dom.end_col is not None and dom.end_col in table.columns:
        end = _end_date(table, dom, start, drug=domain == "drug")
    base = {
        "person_id": table.person_id.cast("int64"),
        "record_id": table[dom.id_col].cast("int64"),
        "concept_id": table[dom.concept_col].cast("int64"),
        "start_date": start,
        "end_date": end,
    }
    values = {
        name: (table[name] if name in table.columns else ibis.null()).cast(dtype)
        for name, dtype in extra.items()
    }
    parts = []
    for layer in layers:
        conds = [m.condition(table, dom) for m in layer]
        label = ibis.cases(*((c, m.key) for c, m in zip(conds, layer, strict=True)))
        sel = table.filter(functools.reduce(operator.or_, conds)).select(
            person_id=base["person_id"],
            concept_set=label.cast("string"),
            record_id=base["record_id"],
            concept_id=base["concept_id"],
            start_date=base["start_date"],
            end_date=base["end_date"],
            **values,
        )
        parts.append(sel)
    if not parts:
        return _empty(table, extra)
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def _end_date(table: ir.Table, dom: Domain, start: ir.DateValue, *, drug: bool) -> ir.DateValue:
    """Return a record's last day: the recorded end, else (drugs) the supply, else the start.

    The CDM v5.4 convention for ``drug_exposure_end_date``, which the OHDSI drug-era scripts
    also apply when it is null: the recorded end date if there is one; else, for a drug with
    a positive ``days_supply``, ``start + days_supply - 1`` (the end is inclusive: a 7-day
    supply from day 1 ends on day 7); else the start date (a single day). A recorded end
    before the start (an OHDSI Data Quality Dashboard failure) is taken to be the start.
    """
    assert dom.end_col is not None
    fallback = start
    if drug and "days_supply" in table.columns:
        days = table.days_supply.cast("int64")
        fallback = ibis.ifelse(days >= 1, start + (days - 1).as_interval("D"), start)
    end = table[dom.end_col].cast("date").fill_null(fallback)
    return ibis.ifelse(end < start, start, end)


def _empty(table: ir.Table, extra: dict[str, str]) -> ir.Table:
    cols: dict[str, ir.Value] = {
        "person_id": ibis.null().cast("int64"),
        "concept_set": ibis.null().cast("string"),
        "record_id": ibis.null().cast("int64"),
        "concept_id": ibis.null().cast("int64"),
        "start_date": ibis.null().cast("date"),
        "end_date": ibis.null().cast("date"),
    }
    cols.update({name: ibis.null().cast(dtype) for name, dtype in extra.items()})
    return table.limit(0).select(**cols)


def _required_events(
    source: CdmSource, vocab: Vocabulary, persons: Persons, keys: str | Sequence[str], domain: str
) -> ir.Table:
    """Return :func:`_domain_events` of ``domain``, which must hold one of the sets."""
    out = _domain_events(source, vocab, persons, keys, domain, strict=True)
    assert out is not None  # strict: no set of the domain raised VocabularyError
    return out


def drug_events(
    source: CdmSource, vocab: Vocabulary, persons: Persons, keys: str | Sequence[str]
) -> ir.Table:
    """Drug exposures of the drug-domain sets among ``keys``.

    Parameters
    ----------
    source : CdmSource
        The CDM.
    vocab : Vocabulary
        Concept sets in force.
    persons : Cohort, ibis.Table or None
        Whose records (semi-join on ``person_id``); ``None`` for everyone.
    keys : str or sequence of str
        Set keys and/or group names; sets of other domains among them are skipped.

    Returns
    -------
    ibis.Table
        ``person_id, concept_set, record_id, concept_id, start_date, end_date, quantity,
        days_supply`` (``quantity`` and ``days_supply`` as float64).

    Raises
    ------
    VocabularyError
        An unknown key, or none of the sets is in the drug domain.
    CdmSchemaError
        ``drug_exposure`` lacks a needed column.
    """
    return _required_events(source, vocab, persons, keys, "drug")


def condition_events(
    source: CdmSource, vocab: Vocabulary, persons: Persons, keys: str | Sequence[str]
) -> ir.Table:
    """Condition occurrences of the condition-domain sets among ``keys``.

    Returns ``person_id, concept_set, record_id, concept_id, start_date, end_date,
    condition_source_value``; see
    :func:`drug_events` for the parameters.
    """
    return _required_events(source, vocab, persons, keys, "condition")


def procedure_events(
    source: CdmSource, vocab: Vocabulary, persons: Persons, keys: str | Sequence[str]
) -> ir.Table:
    """Procedure occurrences of the procedure-domain sets among ``keys``.

    Returns ``person_id, concept_set, record_id, concept_id, start_date, end_date``; see
    :func:`drug_events` for the parameters.
    """
    return _required_events(source, vocab, persons, keys, "procedure")


def measurement_values(
    source: CdmSource, vocab: Vocabulary, persons: Persons, keys: str | Sequence[str]
) -> ir.Table:
    """Measurements of the measurement-domain sets among ``keys``.

    Returns ``person_id, concept_set, record_id, concept_id, start_date, end_date`` (both the
    measurement date), ``value_as_number, value_as_concept_id, unit_concept_id``. Units are not
    converted here: :func:`with_unit_factor` gives the factor to the set's unit.
    """
    return _required_events(source, vocab, persons, keys, "measurement")


def with_unit_factor(values: ir.Table, vocab: Vocabulary) -> ir.Table:
    """Add ``unit_factor``: what turns a record's ``value_as_number`` into its set's unit.

    The factor of the record's ``unit_concept_id`` among the set's accepted units
    (:meth:`~allrwe.io.vocabulary.ConceptSet.unit_factor`: 10³/µL to 10⁹/L 1, g/dL to g/L 10);
    1 for a record with no unit (null or 0: taken to be in the set's unit) and for a set that
    names no unit; null for any other unit (the record is left out by the analyses).

    Parameters
    ----------
    values : ibis.Table
        Records of :func:`measurement_values` (``concept_set``, ``unit_concept_id``).
    vocab : Vocabulary
        The concept sets in force.
    """
    unit = values.unit_concept_id
    one = ibis.literal(1.0, type="float64")
    branches = []
    for key in sorted(set(vocab.sets)):
        factors = vocab.sets[key].unit_factor()
        if factors:
            known = ibis.cases(*((unit == u, f) for u, f in sorted(factors.items())), else_=None)
            branches.append((values.concept_set == key, known.cast("float64")))
    factor = ibis.cases(*branches, else_=one) if branches else one
    factor = ibis.ifelse(unit.isnull() | (unit == 0), one, factor)
    return values.mutate(unit_factor=factor)


def observation_values(
    source: CdmSource, vocab: Vocabulary, persons: Persons, keys: str | Sequence[str]
) -> ir.Table:
    """Observations of the observation-domain sets among ``keys`` (e.g. graded adverse events).

    Returns the columns of :func:`measurement_values` and ``observation_source_value``;
    ``value_as_number`` holds the CTCAE grade of an adverse event a site records here
    (docs/cdm-conventions.md).
    """
    return _required_events(source, vocab, persons, keys, "observation")


def concept_events(
    source: CdmSource,
    vocab: Vocabulary,
    persons: Persons,
    keys: str | Sequence[str],
    *,
    domains: Sequence[str] = ("drug", "condition", "procedure", "measurement", "observation"),
) -> ir.Table:
    """Return records of sets of any event domain, in one table.

    Each set is read from the table of its own domain, so a group mixing drugs and procedures
    (``car_t``: products as drugs, the infusion as a procedure) works. Returns
    ``person_id, concept_set, domain, record_id, concept_id, start_date, end_date``.

    Raises
    ------
    VocabularyError
        An unknown key, or no set of ``keys`` is in ``domains``.
    """
    parts = []
    for domain in domains:
        t = _domain_events(source, vocab, persons, keys, domain, strict=False)
        if t is not None:
            parts.append(
                t.select(
                    "person_id",
                    "concept_set",
                    domain=ibis.literal(domain, type="string"),
                    record_id="record_id",
                    concept_id="concept_id",
                    start_date="start_date",
                    end_date="end_date",
                )
            )
    if not parts:
        raise VocabularyError(f"no concept set of {keys!r} is in the domains {list(domains)}")
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def death_dates(source: CdmSource, persons: Persons) -> ir.Table:
    """Return the earliest death record of each person: ``person_id, death_date, cause_concept_id``.

    A CDM without a ``death`` table yields an empty table of that shape.
    """
    if not source.has("death"):
        person = source.table("person")
        return person.limit(0).select(
            person_id=person.person_id.cast("int64"),
            death_date=ibis.null().cast("date"),
            cause_concept_id=ibis.null().cast("int64"),
        )
    keep = persons_table(persons)
    death = source.table("death") if keep is None else rows_for_persons(source, "death", keep)
    require_columns(death, "death", ["person_id", "death_date"])
    if keep is not None:
        death = death.semi_join(keep, "person_id")
    cause = death.cause_concept_id if "cause_concept_id" in death.columns else ibis.null()
    death = death.select(
        person_id=death.person_id.cast("int64"),
        death_date=death.death_date.cast("date"),
        cause_concept_id=cause.cast("int64"),
    )
    w = ibis.window(group_by="person_id", order_by=["death_date", "cause_concept_id"])
    ranked = death.mutate(_rn=ibis.row_number().over(w))
    return ranked.filter(ranked._rn == 0).drop("_rn")
