"""Records of concept sets, restricted to a cohort's persons, as lazy Ibis tables.

These helpers are the one way analyses read clinical facts from the CDM. Each takes the source,
the vocabulary, the persons to keep (a :class:`~allrwe.cohort.model.Cohort`, an Ibis table with
``person_id``, or ``None`` for everyone) and one or more concept-set keys or group names, and
returns an Ibis expression; nothing is executed.

Matching (docs/cdm-conventions.md): a record belongs to a set when its standard concept id is one
of the set's concepts, or a descendant of one (when the CDM has ``concept_ancestor`` and the
concept has ``include_descendants``), or when its source concept id is one of them. A record
whose standard concept the set excludes (or is a descendant of an excluded concept flagged
``include_descendants``) never matches. A record that matches several requested sets
appears once per set, labelled in ``concept_set``.

Every event table has ``person_id``, ``concept_set`` (the key of the set, never the group),
``record_id`` (the CDM row id), ``concept_id`` (the standard concept), ``start_date`` and
``end_date`` (dates; a null ``end_date`` falls back to ``start + days_supply - 1`` for a drug
with a positive supply, else to the start date, and an end before the start is the start:
:func:`_end_date`). Value columns keep their OMOP names.
"""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import ibis
import ibis.expr.types as ir

from allrwe.cohort.model import Cohort
from allrwe.errors import CdmSchemaError, VocabularyError
from allrwe.io.cdm import CdmSource
from allrwe.io.kept import KeptRows, rows_for_persons
from allrwe.io.vocabulary import ConceptSet, Vocabulary, expand_with_exclusions

__all__ = [
    "EVENT_DOMAINS",
    "Persons",
    "any_records",
    "concept_events",
    "condition_events",
    "death_dates",
    "drug_events",
    "expand_keys",
    "extract_events",
    "measurement_values",
    "observation_values",
    "procedure_events",
    "recorded_sets",
    "with_unit_factor",
]

#: What an events helper accepts as "whose records".
Persons: TypeAlias = Cohort | ir.Table | None


@dataclass(frozen=True)
class _Domain:
    table: str
    id_col: str
    concept_col: str
    source_col: str
    start_col: str
    end_col: str | None

    @property
    def required(self) -> list[str]:
        """Columns every event query of the domain reads."""
        return ["person_id", self.id_col, self.concept_col, self.start_col]


#: The CDM table and columns of each event domain.
EVENT_DOMAINS: dict[str, _Domain] = {
    "drug": _Domain(
        "drug_exposure",
        "drug_exposure_id",
        "drug_concept_id",
        "drug_source_concept_id",
        "drug_exposure_start_date",
        "drug_exposure_end_date",
    ),
    "condition": _Domain(
        "condition_occurrence",
        "condition_occurrence_id",
        "condition_concept_id",
        "condition_source_concept_id",
        "condition_start_date",
        "condition_end_date",
    ),
    "procedure": _Domain(
        "procedure_occurrence",
        "procedure_occurrence_id",
        "procedure_concept_id",
        "procedure_source_concept_id",
        "procedure_date",
        "procedure_end_date",
    ),
    "measurement": _Domain(
        "measurement",
        "measurement_id",
        "measurement_concept_id",
        "measurement_source_concept_id",
        "measurement_date",
        None,
    ),
    "observation": _Domain(
        "observation",
        "observation_id",
        "observation_concept_id",
        "observation_source_concept_id",
        "observation_date",
        None,
    ),
}

_EXTRA: dict[str, dict[str, str]] = {
    # the source code: an HCPCS code's quantity is billing units (J9229: 0.1 mg each)
    "drug": {"quantity": "float64", "days_supply": "float64", "drug_source_value": "string"},
    "procedure": {},
    # the source code: where ICD-10-CM carries an adverse event's grade (D89.83n, G92.0n)
    "condition": {"condition_source_value": "string"},
    "measurement": {
        "value_as_number": "float64",
        "value_as_concept_id": "int64",
        "unit_concept_id": "int64",
    },
    "observation": {
        "value_as_number": "float64",
        "value_as_concept_id": "int64",
        "unit_concept_id": "int64",
        "observation_source_value": "string",
    },
}


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


def _persons(persons: Persons) -> ir.Table | None:
    if persons is None:
        return None
    if isinstance(persons, Cohort):
        return persons.persons_table()
    return persons.select("person_id").distinct()


def _require(table: ir.Table, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise CdmSchemaError(f"table {name!r} lacks column(s) {missing} that allrwe needs")


_Signature: TypeAlias = tuple[str, tuple[tuple[int, bool, bool], ...]]

#: A set's included and excluded concept ids, descendants included
_Expansion: TypeAlias = tuple[frozenset[int], frozenset[int]]


def _signature(cs: ConceptSet) -> _Signature:
    return (cs.key, tuple((c.concept_id, c.include_descendants, c.exclude) for c in cs.concepts))


def _expanded(source: CdmSource, sets: Sequence[ConceptSet]) -> list[_Expansion]:
    """Return each set's included and excluded ids with descendants; one query for new sets.

    The answers are remembered by the kept rows (:attr:`KeptRows.expansions`, keyed by the set
    key and concepts, which never change during a run); a reader without kept rows asks again.
    """
    known: dict[_Signature, _Expansion] = {} if source.kept is None else source.kept.expansions
    todo = [cs for cs in sets if _signature(cs) not in known]
    if todo:
        expanded = expand_with_exclusions(source, todo)
        for cs in todo:
            included, excluded = expanded[cs.key]
            known[_signature(cs)] = (frozenset(included), frozenset(excluded))
    return [known[_signature(cs)] for cs in sets]


@dataclass(frozen=True)
class _Matcher:
    key: str
    standard: frozenset[int]
    source: frozenset[int]
    excluded: frozenset[int]

    def condition(self, table: ir.Table, dom: _Domain) -> ir.BooleanValue:
        cond = table[dom.concept_col].isin(sorted(self.standard))
        if self.source and dom.source_col in table.columns:
            # Source concepts (e.g. ICD-10-CM codes) match the set's own ids, never descendants.
            cond = cond | table[dom.source_col].isin(sorted(self.source))
        if self.excluded:
            cond = cond & ~table[dom.concept_col].isin(sorted(self.excluded))
        return cond

    def matches(self, concept: int | None, source_concept: int | None, *, by_source: bool) -> bool:
        """Whether :meth:`condition` keeps a record of these concepts (SQL's logic of nulls).

        ``by_source``: the table has the source concept column.
        """
        cond = _member(concept, self.standard)
        if self.source and by_source:
            cond = _or(cond, _member(source_concept, self.source))
        if self.excluded:
            excluded = _member(concept, self.excluded)
            cond = _and(cond, None if excluded is None else not excluded)
        return cond is True


def _member(value: int | None, ids: frozenset[int]) -> bool | None:
    """``value IN (ids)`` in SQL: null for a null value; Ibis writes an empty list as false."""
    if not ids:
        return False
    return None if value is None else value in ids


def _or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _matchers(source: CdmSource, sets: Sequence[ConceptSet]) -> list[_Matcher]:
    # Descendants are looked up once (a small query on concept_ancestor) and then pasted as
    # literals, which keeps the event query a plain filter every engine plans well.
    sets = [cs for cs in sets if cs.concept_ids]
    return [
        _Matcher(cs.key, included, frozenset(cs.concept_ids), excluded)
        for cs, (included, excluded) in zip(sets, _expanded(source, sets), strict=True)
    ]


#: The concept and source concept of a record (``None`` for a null or an absent column).
_Pair: TypeAlias = tuple[int | None, int | None]


def _kept_pairs(source: CdmSource, dom: _Domain, kept: ir.Table) -> frozenset[_Pair]:
    """Return the distinct concept and source concept of the rows kept for ``dom``'s table."""
    columns = [c for c in (dom.concept_col, dom.source_col) if c in kept.columns]
    assert source.kept is not None  # only called on kept rows
    found = source.kept.kept_values(dom.table, columns)
    ids = [tuple(None if v is None else int(v) for v in row) for row in found]
    return frozenset((row[0], row[1] if len(row) > 1 else None) for row in ids)


def _layers(
    matchers: list[_Matcher], *, by_source: bool, pairs: frozenset[_Pair] | None = None
) -> list[list[_Matcher]]:
    """Split sets into layers such that a record matches at most one set of a layer.

    Within a layer a single filtered scan labelled by a CASE expression finds every set's
    records. Two sets clash when a record may match both; a set joins the first layer holding
    no set it clashes with. Without ``pairs``, on the standard concept alone sets with shared
    ids clash; when the source concept is matched too, a record may match one set by its
    standard concept and another by its source concept (T-ALL coded with a source code of
    ALL), so every two sets clash. With ``pairs`` (the distinct concept and source concept of
    every record the query can read, see :func:`_kept_pairs`), two sets clash only when one of
    the pairs matches both.
    """
    if pairs is not None:
        clashes = _pair_clashes(matchers, pairs, by_source=by_source)
    elif by_source:
        clashes = set(itertools.combinations(range(len(matchers)), 2))
    else:
        clashes = {
            (i, j)
            for i, j in itertools.combinations(range(len(matchers)), 2)
            if matchers[i].standard & matchers[j].standard
        }
    layers: list[list[int]] = []
    for i in range(len(matchers)):
        for members in layers:
            if not any((j, i) in clashes for j in members):
                members.append(i)
                break
        else:
            layers.append([i])
    return [[matchers[i] for i in members] for members in layers]


def _pair_clashes(
    matchers: Sequence[_Matcher], pairs: frozenset[_Pair], *, by_source: bool
) -> set[tuple[int, int]]:
    """Index pairs ``(i, j)``, ``i < j``, of the sets that one of ``pairs`` matches both.

    A pair matches a set when its concept is one of the set's ids or (``by_source``) its source
    concept one of the set's own ids. Exclusions are left aside: a set matches at most these.
    """
    by_standard: dict[int, list[int]] = {}
    by_source_id: dict[int, list[int]] = {}
    for i, m in enumerate(matchers):
        for cid in m.standard:
            by_standard.setdefault(cid, []).append(i)
        for cid in m.source if by_source else ():
            by_source_id.setdefault(cid, []).append(i)
    clashes: set[tuple[int, int]] = set()
    for concept, source_concept in pairs:
        hit = set(by_standard.get(concept, ()) if concept is not None else ())
        if source_concept is not None:
            hit.update(by_source_id.get(source_concept, ()))
        clashes.update(itertools.combinations(sorted(hit), 2))
    return clashes


def _ids(matchers: Sequence[_Matcher]) -> set[int]:
    """Every concept id the matchers look for, in the standard or the source column."""
    return set().union(*(m.standard | m.source for m in matchers))


def _event_table(
    source: CdmSource, dom: _Domain, matchers: Sequence[_Matcher]
) -> tuple[ir.Table, bool]:
    """Return the rows :func:`extract_events` kept when they hold every match, else the table.

    The flag says whether the rows are the kept ones.
    """
    cached = None if source.kept is None else source.kept.cached_rows(dom.table)
    if cached is not None and cached.covers(_ids(matchers)):
        return cached.table, True
    return source.table(dom.table), False


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
    _expanded(source, [cs for sets in by_domain.values() for cs in sets])
    kept: dict[str, int] = {}
    for domain in domains:
        dom = EVENT_DOMAINS[domain]
        sets = by_domain.get(domain, [])
        if not sets or not source.has(dom.table):
            continue
        table = source.table(dom.table)
        _require(table, dom.table, dom.required)
        matchers = _matchers(source, sets)
        match = [c for c in (dom.concept_col, dom.source_col) if c in table.columns]
        wanted = [
            "person_id",
            dom.id_col,
            dom.concept_col,
            dom.source_col,
            dom.start_col,
            *([dom.end_col] if dom.end_col else []),
            *_EXTRA[domain],
        ]
        columns = [c for c in dict.fromkeys(wanted) if c in table.columns]
        kept[dom.table] = source.cache_rows(
            dom.table, match=match, ids=_ids(matchers), columns=columns
        ).rows
    return kept


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
    extra = _EXTRA[domain]
    if not source.has(dom.table):
        # An optional table that is absent (claims data without `measurement`) holds no
        # records; the analyses then report "not available" rather than failing.
        return _empty(source.table("person"), extra)
    matchers = _matchers(source, sets)
    table, kept = _event_table(source, dom, matchers)
    _require(table, dom.table, dom.required)
    by_source = dom.source_col in table.columns
    layers = _layers(matchers, by_source=by_source)
    if len(layers) > 1 and kept:
        # Every layer is a scan of its own; the kept rows tell which sets really share a
        # record, and sets that share none are found by one scan, which is a smaller query
        # to compile and to run (27 sets of the line rules: one scan instead of 27).
        pairs = _kept_pairs(source, dom, table)
        layers = _layers(matchers, by_source=by_source, pairs=pairs)
    keep = _persons(persons)
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


def _end_date(table: ir.Table, dom: _Domain, start: ir.DateValue, *, drug: bool) -> ir.DateValue:
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
        matchers = _matchers(source, in_domain)
        table, kept = _event_table(source, dom, matchers)
        _require(table, dom.table, dom.required)
        if not matchers:
            continue
        if not kept:
            asked.append(domain)
            continue
        by_source = dom.source_col in table.columns
        for concept, source_concept in _kept_pairs(source, dom, table):
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
        matchers = _matchers(source, todo)
        table, kept = _event_table(source, dom, matchers)
        _require(table, dom.table, dom.required)
        by_source = dom.source_col in table.columns
        if kept:
            pairs = _kept_pairs(source, dom, table)
            for m in matchers:
                found[m.key] = any(m.matches(c, sc, by_source=by_source) for c, sc in pairs)
            continue
        for m in matchers:
            hits = table.filter(m.condition(table, dom)).limit(1).count()
            found[m.key] = int(source.execute(hits)) > 0
    return found


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
    keep = _persons(persons)
    death = source.table("death") if keep is None else rows_for_persons(source, "death", keep)
    _require(death, "death", ["person_id", "death_date"])
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
