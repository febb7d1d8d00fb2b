"""Curated concept sets: the bundled vocabulary, user overrides, ATLAS imports, descendants.

The bundled sets live in ``allrwe/data/vocabulary/default.yaml``. A user file has the same shape
(``concept_sets`` and ``groups``); a set it names replaces the bundled set of that key, and new keys
are added. An ATLAS concept-set JSON export becomes one set. When the CDM carries
``concept_ancestor``, :func:`expand_descendants` adds every descendant of a set's concepts.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
)

from allrwe.errors import VocabularyError
from allrwe.io.atlas import atlas_sets
from allrwe.io.concept_sets import (
    DOMAINS,
    LOCAL_CONCEPT_MIN,
    Concept,
    ConceptSet,
    Domain,
    _read_bounded,
)

if TYPE_CHECKING:
    from allrwe.io.cdm import CdmSource

__all__ = [
    "DOMAINS",
    "LOCAL_CONCEPT_MIN",
    "Concept",
    "ConceptSet",
    "Vocabulary",
    "expand_descendants",
    "expand_sets",
    "expand_with_exclusions",
    "load_atlas_concept_set",
    "load_vocabulary",
]


class _VocabularyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    description: str = ""
    concept_sets: dict[str, ConceptSet] = Field(default_factory=dict)
    groups: dict[str, list[str]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Vocabulary:
    """The concept sets and groups in force for a study.

    Parameters
    ----------
    sets : Mapping[str, ConceptSet]
        Concept sets by key.
    groups : Mapping[str, tuple[str, ...]]
        Named groups of set keys (e.g. ``chemotherapy``).
    """

    sets: Mapping[str, ConceptSet]
    groups: Mapping[str, tuple[str, ...]]

    def __contains__(self, key: object) -> bool:
        return key in self.sets or key in self.groups

    def concept_set(self, key: str) -> ConceptSet:
        """Return the set ``key``; raise :class:`VocabularyError` naming close matches."""
        try:
            return self.sets[key]
        except KeyError:
            raise VocabularyError(_unknown(key, list(self.sets) + list(self.groups))) from None

    def members(self, key: str) -> list[ConceptSet]:
        """Return the sets a key stands for: one set, or every member of a group."""
        if key in self.sets:
            return [self.sets[key]]
        if key in self.groups:
            return [self.concept_set(k) for k in self.groups[key]]
        raise VocabularyError(_unknown(key, list(self.sets) + list(self.groups)))

    def concept_ids(self, key: str) -> list[int]:
        """Sorted concept ids of a set or a group."""
        return sorted({i for s in self.members(key) for i in s.concept_ids})

    def by_category(self, category: str) -> list[ConceptSet]:
        """Every set of a category (e.g. ``chemotherapy``), in key order."""
        return [s for k, s in sorted(self.sets.items()) if s.category == category]

    def concept_to_set(self, keys: Iterable[str]) -> dict[int, str]:
        """Map each concept id of the given sets or groups to the key of its set."""
        out: dict[int, str] = {}
        for key in keys:
            for s in self.members(key):
                for cid in s.concept_ids:
                    out.setdefault(cid, s.key)
        return out


def _unknown(key: str, known: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown concept set {key!r}{hint}"


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(_read_bounded(path, "vocabulary file"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        # PyYAML's text spans several lines (context, snippet, caret): keep the first
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        raise VocabularyError(
            f"vocabulary file {str(path)!r} is not valid YAML: {at}{first}"
        ) from exc
    if not isinstance(data, dict):
        raise VocabularyError(f"vocabulary file {str(path)!r} must hold a mapping")
    return data


def _parse(data: dict[str, Any], origin: str) -> _VocabularyFile:
    try:
        parsed = _VocabularyFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise VocabularyError(f"{origin}: field {where!r}: {err['msg']}") from None
    keyed = {k: s.model_copy(update={"key": k}) for k, s in parsed.concept_sets.items()}
    return parsed.model_copy(update={"concept_sets": keyed})


@functools.cache
def _bundled() -> _VocabularyFile:
    # Read once a process (its sets are frozen), with libyaml's safe loader where PyYAML has
    # it: the pure-Python loader takes about 0.1 s for this file.
    text = resources.files("allrwe.data").joinpath("vocabulary/default.yaml").read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return _parse(yaml.load(text, Loader=loader), "bundled vocabulary")


def load_atlas_concept_set(
    path: str | Path, *, key: str, domain: Domain, category: str, label: str | None = None
) -> ConceptSet:
    """Read an ATLAS concept-set JSON export as a :class:`ConceptSet`.

    Parameters
    ----------
    path : str or pathlib.Path
        The JSON export (``{"items": [{"concept": {...}, "isExcluded": ..., "includeDescendants":
        ...}]}``, or a bare list of such items, or an ``expression`` wrapper).
    key, domain, category : str
        Key, CDM domain and category the set gets in allrwe.
    label : str, optional
        Display label; defaults to the export's ``name`` or the key.

    Returns
    -------
    ConceptSet
    """
    p = Path(path)
    try:
        data = json.loads(_read_bounded(p, "ATLAS concept-set file"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise VocabularyError(f"ATLAS concept-set file {str(p)!r} is not JSON: {exc}") from exc
    name = data.get("name") if isinstance(data, dict) else None
    if isinstance(data, dict) and "expression" in data:
        data = data["expression"]
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise VocabularyError(f"ATLAS concept-set file {str(p)!r} has no 'items'")
    concepts = []
    for i, item in enumerate(items):
        c = item.get("concept", {}) if isinstance(item, dict) else {}
        if "CONCEPT_ID" not in c:
            raise VocabularyError(f"{str(p)!r}: item {i} has no concept.CONCEPT_ID")
        concepts.append(
            Concept(
                concept_id=int(c["CONCEPT_ID"]),
                concept_name=str(c.get("CONCEPT_NAME", "")),
                vocabulary_id=str(c.get("VOCABULARY_ID", "")),
                concept_code=str(c["CONCEPT_CODE"]) if "CONCEPT_CODE" in c else None,
                standard=c.get("STANDARD_CONCEPT") == "S",
                confirmed=True,
                source=f"ATLAS export {p.name}",
                include_descendants=bool(item.get("includeDescendants", False)),
                exclude=bool(item.get("isExcluded", False)),
            )
        )
    return ConceptSet(
        key=key,
        label=label or name or key,
        domain=domain,
        category=category,
        concepts=tuple(concepts),
    )


def load_vocabulary(
    paths: Sequence[str | Path] = (), *, extra_sets: Sequence[ConceptSet] = ()
) -> Vocabulary:
    """Load the bundled concept sets, then apply user files and extra sets in order.

    Parameters
    ----------
    paths : sequence of path
        User YAML files; a set key they define replaces the bundled one, groups likewise.
        A ``.json`` path is an ATLAS concept-set (or Circe cohort) export, read by
        :func:`allrwe.io.atlas.atlas_sets`.
    extra_sets : sequence of ConceptSet
        Sets built in code or read with :func:`load_atlas_concept_set`; they replace same-key sets.

    Returns
    -------
    Vocabulary

    Raises
    ------
    VocabularyError
        A file is missing or malformed, or a group names an unknown set.

    Examples
    --------
    >>> vocab = load_vocabulary()
    >>> vocab.concept_ids("blinatumomab")
    [45892531]
    """
    base = _bundled()
    sets = dict(base.concept_sets)
    groups = {k: tuple(v) for k, v in base.groups.items()}
    for path in paths:
        if Path(path).suffix.lower() == ".json":  # ATLAS/Circe JSON: allrwe.io.atlas
            sets.update(atlas_sets(path, sets))
            continue
        user = _parse(_read_yaml(Path(path)), str(path))
        sets.update(user.concept_sets)
        groups.update({k: tuple(v) for k, v in user.groups.items()})
    for extra in extra_sets:
        sets[extra.key] = extra
    for gname, members in groups.items():
        missing = [m for m in members if m not in sets]
        if missing:
            raise VocabularyError(f"group {gname!r} names unknown concept set(s) {missing}")
    return Vocabulary(sets=sets, groups=groups)


def expand_descendants(source: CdmSource, concept_set: ConceptSet) -> list[int]:
    """Return a set's concept ids plus their descendants in the CDM's ``concept_ancestor``.

    Concepts flagged ``include_descendants`` bring their descendants; excluded concepts
    (ATLAS ``isExcluded``) are removed, with their descendants when they are flagged
    ``include_descendants`` too. The descendant look-up runs in the database engine; without a
    ``concept_ancestor`` table the set's own ids are returned.

    Parameters
    ----------
    source : CdmSource
        The CDM (its vocabulary tables).
    concept_set : ConceptSet
        The set to expand.

    Returns
    -------
    list of int
        Sorted, distinct concept ids.

    Examples
    --------
    >>> import tempfile
    >>> from allrwe.io.example import example_cdm_path
    >>> from allrwe.io.source import connect
    >>> vocab = load_vocabulary()
    >>> all_dx = vocab.concept_set("all_diagnosis")
    >>> with connect(example_cdm_path("duckdb", tempfile.mkdtemp())) as cdm:
    ...     ids = expand_descendants(cdm, all_dx)
    >>> 4082462 in all_dx.concept_ids, 4082462 in ids  # T-ALL is a descendant of ALL
    (False, True)
    """
    return expand_sets(source, [concept_set])[concept_set.key]


def expand_sets(source: CdmSource, concept_sets: Sequence[ConceptSet]) -> dict[str, list[int]]:
    """Return :func:`expand_descendants` of many sets, by key, with one query for all of them.

    Parameters
    ----------
    source : CdmSource
        The CDM (its ``concept_ancestor``, when present).
    concept_sets : sequence of ConceptSet
        The sets to expand (one per key).

    Returns
    -------
    dict of str to list of int
        For each set's key, its sorted concept ids with descendants, exclusions removed.
    """
    both = expand_with_exclusions(source, concept_sets)
    return {key: included for key, (included, _) in both.items()}


def expand_with_exclusions(
    source: CdmSource, concept_sets: Sequence[ConceptSet]
) -> dict[str, tuple[list[int], list[int]]]:
    """Return, by key, each set's included and excluded concept ids, descendants added.

    The included ids are those of :func:`expand_sets`; the excluded ones are the excluded
    concepts with their descendants where flagged (a record whose standard concept is among
    them never belongs to the set, whatever its source concept). One query for all sets.
    """
    roots = sorted(
        {c.concept_id for cs in concept_sets for c in cs.concepts if c.include_descendants}
    )
    below = _descendants(source, roots) if roots and source.has("concept_ancestor") else {}
    out: dict[str, tuple[list[int], list[int]]] = {}
    for cs in concept_sets:
        picked: dict[bool, set[int]] = {False: set(), True: set()}
        for c in cs.concepts:
            picked[c.exclude].add(c.concept_id)
            if c.include_descendants:
                picked[c.exclude] |= below.get(c.concept_id, set())
        out[cs.key] = (sorted(picked[False] - picked[True]), sorted(picked[True]))
    return out


def _descendants(source: CdmSource, roots: list[int]) -> dict[int, set[int]]:
    ca = source.table("concept_ancestor")
    expr = (
        ca.filter(ca.ancestor_concept_id.isin(roots))
        .select(root=ca.ancestor_concept_id, concept_id=ca.descendant_concept_id)
        .distinct()
    )
    frame = source.execute(expr)
    out: dict[int, set[int]] = {}
    for root, concept in zip(frame["root"], frame["concept_id"], strict=True):
        out.setdefault(int(root), set()).add(int(concept))
    return out
