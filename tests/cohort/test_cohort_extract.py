"""``extract_events``: the event helpers give the same answers from the kept rows as from the CDM.

Each CDM is opened twice: ``plain`` reads the tables, ``cached`` has run ``extract_events`` first.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pandas as pd
import pytest

from allrwe.cohort import (
    any_records,
    concept_events,
    condition_events,
    drug_events,
    measurement_values,
    procedure_events,
)
from allrwe.cohort.domains import EVENT_DOMAINS
from allrwe.cohort.events import observation_values
from allrwe.cohort.presence import extract_events
from allrwe.errors import VocabularyError
from allrwe.io.example import example_cdm_path
from allrwe.io.kept import KeptRows
from allrwe.io.source import CdmSource, connect
from allrwe.io.vocabulary import ConceptSet, Vocabulary, expand_sets, load_vocabulary
from allrwe.synth import generate_cdm
from vocab_sets import concept

ALL, B_ALL, PRE_B = 134305, 4082461, 4138008  # PRE_B lies below B_ALL in the example CDM
BLIN, INO = 45892531, 794068

Helper = Callable[[CdmSource, Vocabulary, object, object], ir.Table]
HELPERS: dict[str, Helper] = {
    "drug": drug_events,
    "condition": condition_events,
    "procedure": procedure_events,
    "measurement": measurement_values,
    "observation": observation_values,
}


#: sets beside the bundled ones: an exclusion with its descendants, a set without them, and
#: the adverse-event sets as a site vocabulary reading them from observation only
EXTRA = [
    *(
        cs.model_copy(update={"key": f"{k}_observed", "domain": "observation", "also_in": ()})
        for k, cs in load_vocabulary().sets.items()
        if cs.category == "adverse_event"
    ),
    ConceptSet(
        key="all_but_b_all",
        label="ALL but B-ALL",
        domain="condition",
        category="diagnosis",
        concepts=(concept(ALL), concept(B_ALL, exclude=True)),
    ),
    ConceptSet(
        key="b_all_flat",
        label="B-ALL, no descendants",
        domain="condition",
        category="diagnosis",
        concepts=(concept(B_ALL, descendants=False),),
    ),
]


@dataclass
class Pair:
    """One CDM opened twice, and the rows ``extract_events`` kept on the second connection."""

    name: str
    plain: CdmSource
    cached: KeptRows
    kept: dict[str, int]


@pytest.fixture(scope="module")
def full_vocab() -> Vocabulary:
    return load_vocabulary(extra_sets=EXTRA)


@pytest.fixture(scope="module", params=["emr", "claims", "example"])
def cdm_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The CDMs: synthetic EMR (Parquet) and claims (DuckDB), and the example (DuckDB)."""
    folder = tmp_path_factory.mktemp(f"extract_{request.param}")
    if request.param == "example":  # has concept_ancestor and source concepts
        return example_cdm_path("duckdb", folder)
    return generate_cdm(
        folder / "cdm",
        persons=300,
        seed=7,
        profile=request.param,
        fmt="parquet" if request.param == "emr" else "duckdb",
        params={"population": {"all_patients": 60}},
    ).cdm_url


def copies(url: str, folder: Path) -> tuple[str, str]:
    """Two URLs of the CDM at ``url``: the same Parquet folder, or two copies of a DuckDB file.

    DuckDB refuses a second connection to a file already open in the process with other
    settings, and every connection has a temporary folder of its own; a copy holds the same
    bytes.
    """
    if not url.startswith("duckdb://"):
        return url, url
    path = Path(url.removeprefix("duckdb://"))
    out = []
    for name in ("plain", "cached"):
        folder.joinpath(name).mkdir()
        shutil.copyfile(path, folder / name / path.name)
        out.append(f"duckdb://{folder / name / path.name}")
    return out[0], out[1]


@contextlib.contextmanager
def two(url: str, folder: Path) -> Iterator[tuple[CdmSource, KeptRows]]:
    """Two connections to the CDM at ``url``: one bare, and the rows kept of the other."""
    first, second = copies(url, folder)
    with connect(first) as plain, connect(second) as other, KeptRows(other) as cached:
        yield plain, cached


@pytest.fixture(scope="module")
def pair(
    cdm_url: str, full_vocab: Vocabulary, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pair]:
    with two(cdm_url, tmp_path_factory.mktemp("pair")) as (plain, cached):
        kept = extract_events(cached, full_vocab)
        yield Pair(cdm_url, plain, cached, kept)


def frame(source: CdmSource, expr: ir.Table) -> pd.DataFrame:
    out = source.execute(expr)
    return out.sort_values(list(out.columns)).reset_index(drop=True)


def same(p: Pair, make: Callable[[CdmSource], ir.Table]) -> pd.DataFrame:
    """Execute the expression on both connections; assert equal frames; return it."""
    want = frame(p.plain, make(p.plain))
    got = frame(p.cached, make(p.cached))
    pd.testing.assert_frame_equal(got, want)
    return got


def reads_cache(p: Pair, expr: ir.Table, table: str) -> bool:
    """Whether the expression reads the rows kept for ``table`` (not the table itself)."""
    kept = p.cached.cached_rows(table)
    assert kept is not None
    sql = str(ibis.to_sql(expr))
    reads_table = re.search(rf'(FROM|JOIN)\s+"?{table}"?(\s|$)', sql) is not None
    uses_kept = kept.table.op().name in sql
    assert uses_kept != reads_table, sql
    return uses_kept


def direct(p: Pair, domain: str, sets: list[ConceptSet]) -> dict[str, int]:
    """Rows of each set counted in pandas on the whole table (the matching rule of events.py)."""
    dom = EVENT_DOMAINS[domain]
    table = p.plain.table(dom.table)
    cols = [c for c in (dom.concept_col, dom.source_col) if c in table.columns]
    rows = p.plain.execute(table.select(*cols))
    expanded = expand_sets(p.plain, sets)
    out = {}
    for cs in sets:
        hit = rows[dom.concept_col].isin(expanded[cs.key])
        if dom.source_col in rows:
            hit |= rows[dom.source_col].isin(cs.concept_ids)
        hit &= ~rows[dom.concept_col].isin(cs.excluded_ids)
        out[cs.key] = int(hit.sum())
    return out


def keys_of(vocab: Vocabulary, domain: str) -> list[str]:
    return [k for k, cs in vocab.sets.items() if cs.domain == domain]


def groups_of(vocab: Vocabulary, domain: str) -> list[str]:
    return [g for g in vocab.groups if any(cs.domain == domain for cs in vocab.members(g))]


def test_extract_keeps_the_rows_of_every_set(pair: Pair, full_vocab: Vocabulary) -> None:
    assert set(pair.kept) == {dom.table for dom in EVENT_DOMAINS.values()}
    for domain, dom in EVENT_DOMAINS.items():
        # a set is kept in every table it is read from (adverse events: conditions, observations)
        sets = [cs for cs in full_vocab.sets.values() if domain in cs.read_domains]
        ids = {i for ids in expand_sets(pair.plain, sets).values() for i in ids}
        ids |= {i for cs in sets for i in cs.concept_ids}
        table = pair.plain.table(dom.table)
        hit = table[dom.concept_col].isin(sorted(ids))
        if dom.source_col in table.columns:
            hit = hit | table[dom.source_col].isin(sorted(ids))
        want = int(pair.plain.execute(table.filter(hit).count()))
        cached = pair.cached.cached_rows(dom.table)
        assert cached is not None
        assert pair.kept[dom.table] == cached.rows == want, dom.table
        assert int(pair.cached.execute(cached.table.count())) == want
        assert cached.ids == frozenset(ids)
    assert pair.kept["drug_exposure"] > 0
    assert pair.kept["condition_occurrence"] > 0
    # the plain connection keeps nothing
    assert pair.plain.kept is None
    assert pair.cached.kept_tables == sorted(pair.kept)


@pytest.mark.parametrize("domain", list(HELPERS))
def test_every_set_same_with_and_without_the_cache(
    pair: Pair, full_vocab: Vocabulary, domain: str
) -> None:
    helper = HELPERS[domain]
    table = EVENT_DOMAINS[domain].table
    keys = keys_of(full_vocab, domain)
    counts = direct(pair, domain, [full_vocab.sets[k] for k in keys])
    for key in keys:
        got = same(pair, lambda s, k=key: helper(s, full_vocab, None, k))
        assert len(got) == counts[key], key
        assert set(got["concept_set"]) <= {key}
        assert reads_cache(pair, helper(pair.cached, full_vocab, None, key), table), key
        assert not reads_cache(pair, helper(pair.plain, full_vocab, None, key), table), key
    for group in groups_of(full_vocab, domain):
        got = same(pair, lambda s, g=group: helper(s, full_vocab, None, g))
        members = {cs.key for cs in full_vocab.members(group) if cs.domain == domain}
        assert set(got["concept_set"]) <= members, group
    # every set at once
    got = same(pair, lambda s: helper(s, full_vocab, None, keys))
    assert set(got["concept_set"]) <= {k for k in keys if counts[k]}
    found = [k for k in keys if counts[k]]
    if domain in ("drug", "condition"):
        assert len(found) >= 3, counts  # the comparison is not on empty results
    if pair.kept[table]:
        assert found


@pytest.mark.parametrize("domain", ["drug", "condition"])
def test_kept_rows_read_sets_sharing_no_record_in_one_scan(
    pair: Pair, full_vocab: Vocabulary, domain: str
) -> None:
    # Matching source concepts, a scan per set on the table; on the kept rows, only sets one
    # record matches together need scans of their own (same rows, checked above).
    helper = HELPERS[domain]
    keys = keys_of(full_vocab, domain)
    scans_plain = str(ibis.to_sql(helper(pair.plain, full_vocab, None, keys))).count("UNION") + 1
    scans_kept = str(ibis.to_sql(helper(pair.cached, full_vocab, None, keys))).count("UNION") + 1
    assert scans_plain == len([k for k in keys if full_vocab.sets[k].concept_ids])
    assert scans_kept < scans_plain / 2, (scans_kept, scans_plain)


def test_any_records_same_from_the_kept_concepts(pair: Pair, full_vocab: Vocabulary) -> None:
    found = {True: 0, False: 0}
    for key in [*full_vocab.sets, *full_vocab.groups]:
        try:
            want = len(frame(pair.plain, concept_events(pair.plain, full_vocab, None, key))) > 0
        except VocabularyError:  # no set in an event domain
            for source in (pair.plain, pair.cached):
                with pytest.raises(VocabularyError):
                    any_records(source, full_vocab, key)
            continue
        assert any_records(pair.plain, full_vocab, key) == want, key
        assert any_records(pair.cached, full_vocab, key) == want, key
        found[want] += 1
    assert found[True] >= 10
    assert found[False] >= 1


def test_descendants_and_exclusions_with_and_without_the_cache(
    full_vocab: Vocabulary, tmp_path: Path
) -> None:
    url = example_cdm_path("parquet", tmp_path)  # the one CDM with concept_ancestor
    with two(url, tmp_path) as (plain, cached):
        p = Pair(url, plain, cached, extract_events(cached, full_vocab))
        for key in ["all_diagnosis", "all_but_b_all", "b_all_flat"]:
            got = same(p, lambda s, k=key: condition_events(s, full_vocab, None, k))
            n = direct(p, "condition", [full_vocab.sets[key]])[key]
            assert len(got) == n > 0, key
            expr = condition_events(cached, full_vocab, None, key)
            assert reads_cache(p, expr, "condition_occurrence"), key
            concepts = set(got["concept_id"])
            if key == "all_diagnosis":
                assert PRE_B in concepts  # a descendant
            elif key == "b_all_flat":
                assert concepts == {B_ALL}
            else:
                assert not concepts & {B_ALL, PRE_B}


def test_persons_restriction_same_with_and_without_the_cache(
    pair: Pair, full_vocab: Vocabulary
) -> None:
    ids = sorted(int(i) for i in pair.plain.execute(pair.plain.table("person").person_id))
    some = ibis.memtable({"person_id": ids[::2]})
    kept = everyone = 0
    for domain, helper in HELPERS.items():
        for key in [*keys_of(full_vocab, domain)[:3], *groups_of(full_vocab, domain)]:
            got = same(pair, lambda s, h=helper, k=key: h(s, full_vocab, some, k))
            assert set(got["person_id"]) <= set(ids[::2]), key
            every = frame(pair.plain, helper(pair.plain, full_vocab, None, key))
            assert len(got) == int(every["person_id"].isin(ids[::2]).sum()), key
            kept, everyone = kept + len(got), everyone + len(every)
    assert 0 < kept < everyone  # the restriction kept some records and dropped others


def test_concept_events_same_with_and_without_the_cache(pair: Pair, full_vocab: Vocabulary) -> None:
    for group in full_vocab.groups:
        got = same(pair, lambda s, g=group: concept_events(s, full_vocab, None, g))
        domains = {cs.domain for cs in full_vocab.members(group)}
        assert set(got["domain"]) <= domains, group
    for domain in EVENT_DOMAINS:
        cs = full_vocab.sets[keys_of(full_vocab, domain)[0]]
        key = cs.key
        got = same(pair, lambda s, k=key: concept_events(s, full_vocab, None, k))
        assert len(got) == direct(pair, cs.domain, [cs])[key], key
        assert set(got["domain"]) <= {cs.domain}
    mixed = ["car_t", "all_diagnosis", "mrd", "crs", "blinatumomab"]
    got = same(pair, lambda s: concept_events(s, full_vocab, None, mixed))
    assert {"drug", "condition"} <= set(got["domain"])


def test_sets_outside_the_extraction_read_the_table(cdm_url: str, tmp_path: Path) -> None:
    vocab = load_vocabulary()
    only_blin = Vocabulary(sets={"blinatumomab": vocab.sets["blinatumomab"]}, groups={})
    blin_plus = ConceptSet(
        key="blin_plus_ino",
        label="blinatumomab or inotuzumab",
        domain="drug",
        category="index_drug",
        concepts=(concept(BLIN), concept(INO)),
    )
    wider = load_vocabulary(extra_sets=[blin_plus])
    with two(cdm_url, tmp_path) as (plain, cached):
        p = Pair(cdm_url, plain, cached, extract_events(cached, only_blin))
        assert set(p.kept) == {"drug_exposure"}
        assert cached.cached_rows("condition_occurrence") is None
        kept = cached.cached_rows("drug_exposure")
        assert kept is not None
        assert kept.ids == frozenset({BLIN})
        counts = direct(p, "drug", [wider.sets[k] for k in keys_of(wider, "drug")])
        assert counts["inotuzumab_ozogamicin"] > 0
        assert counts["blinatumomab"] > 0
        for key in ["inotuzumab_ozogamicin", "index_drugs", "blin_plus_ino", "chemotherapy"]:
            got = same(p, lambda s, k=key: drug_events(s, wider, None, k))
            if key in counts:
                assert len(got) == counts[key], key
            assert not reads_cache(p, drug_events(cached, wider, None, key), "drug_exposure")
        assert len(same(p, lambda s: drug_events(s, wider, None, "index_drugs"))) == sum(
            counts[k] for k in wider.groups["index_drugs"]
        )
        # the extracted set still reads the kept rows, and the other tables their whole table
        got = same(p, lambda s: drug_events(s, wider, None, "blinatumomab"))
        assert len(got) == counts["blinatumomab"] == kept.rows
        assert reads_cache(p, drug_events(cached, wider, None, "blinatumomab"), "drug_exposure")
        cond = same(p, lambda s: condition_events(s, wider, None, "all_diagnosis"))
        assert len(cond) == direct(p, "condition", [wider.sets["all_diagnosis"]])["all_diagnosis"]
        assert len(cond) > 0


def test_domains_limit_the_extraction(cdm_url: str, full_vocab: Vocabulary, tmp_path: Path) -> None:
    with two(cdm_url, tmp_path) as (plain, cached):
        kept = extract_events(cached, full_vocab, domains=("drug", "procedure"))
        assert set(kept) == {"drug_exposure", "procedure_occurrence"}
        assert cached.cached_rows("condition_occurrence") is None
        assert cached.cached_rows("measurement") is None
        p = Pair(cdm_url, plain, cached, kept)
        got = same(p, lambda s: condition_events(s, full_vocab, None, "all_diagnosis"))
        assert len(got) > 0
        # extracting again replaces the kept rows
        again = extract_events(cached, full_vocab, domains=("drug",))
        assert again == {"drug_exposure": kept["drug_exposure"]}
        assert cached.cached_rows("procedure_occurrence") is not None  # left as it was
        same(p, lambda s: drug_events(s, full_vocab, None, "index_drugs"))
