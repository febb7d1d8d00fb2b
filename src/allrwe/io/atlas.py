"""ATLAS concept-set JSON as allrwe concept sets (in a spec's ``vocabulary.paths``, ``--vocab``).

Rules this module owns:

* Shapes read: an ATLAS concept-set expression (``{"items": [...]}``, what ATLAS's concept-set
  "Export" tab gives), the same wrapped with its name (``{"name": ..., "expression": {...}}``,
  as WebAPI returns it), a bare list of items, a list of named sets, and a Circe cohort
  definition (``{"ConceptSets": [{"id", "name", "expression"}]}``, as the OHDSI
  PhenotypeLibrary stores them in ``inst/cohorts/<id>.json``), whose concept sets are all read.
* Each item is ``{"concept": {"CONCEPT_ID", "CONCEPT_NAME", "DOMAIN_ID", "VOCABULARY_ID",
  "STANDARD_CONCEPT", "CONCEPT_CODE", ...}, "isExcluded", "includeDescendants",
  "includeMapped"}``; the flags default to false, as in ATLAS.
* Keys: a file of one set gives it the file's stem (``t_lineage_all.json`` -> ``t_lineage_all``);
  a file of several sets gives each the snake_case of its name. A key that names a set already
  in force (a bundled one, say) keeps that set's domain, category, label and units and takes
  the export's concepts: so an ATLAS export replaces a bundled set by being named after it.
* A new key takes its domain from the concepts' ``DOMAIN_ID`` (the most frequent among the
  included ones; the other domains are read too, as ``also_in``) and the category ``atlas``.
* ``includeMapped`` (source concepts mapped to the concept) has no equivalent here: allrwe reads
  standard concept ids. Such items are read as if it were false, and a warning says so.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from allrwe.errors import VocabularyError
from allrwe.io.concept_sets import DOMAINS, Concept, ConceptSet, Domain, _read_bounded

__all__ = ["ATLAS_CATEGORY", "atlas_sets", "is_atlas_file", "read_atlas"]

logger = logging.getLogger(__name__)

#: the category of a set an ATLAS file adds under a new key
ATLAS_CATEGORY = "atlas"
#: ATLAS ``DOMAIN_ID`` -> allrwe domain
_DOMAINS: dict[str, str] = {d.capitalize(): d for d in DOMAINS}


def is_atlas_file(path: str | Path) -> bool:
    """Return whether a vocabulary path is an ATLAS JSON file (by its ``.json`` suffix)."""
    return Path(path).suffix.lower() == ".json"


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _named_sets(data: Any, where: str) -> list[tuple[str | None, list[Any]]]:
    """Return (name, items) of every concept set in an ATLAS/Circe JSON document."""
    if isinstance(data, dict) and isinstance(data.get("ConceptSets"), list):
        data = data["ConceptSets"]
    if (
        isinstance(data, list)
        and data
        and all(isinstance(d, dict) and "expression" in d for d in data)
    ):
        return [(str(d.get("name") or ""), _items(d["expression"], where)) for d in data]
    name = data.get("name") if isinstance(data, dict) else None
    if isinstance(data, dict) and "expression" in data:
        data = data["expression"]
    return [(str(name) if name else None, _items(data, where))]


def _items(expression: Any, where: str) -> list[Any]:
    items = expression.get("items") if isinstance(expression, dict) else expression
    if not isinstance(items, list) or not items:
        raise VocabularyError(f"{where} holds no concept-set items ('items' is missing or empty)")
    return items


def _concept(item: Any, where: str, source: str) -> tuple[Concept, str]:
    """Return the item's concept and its ATLAS ``DOMAIN_ID``."""
    c = item.get("concept") if isinstance(item, dict) else None
    if not isinstance(c, dict) or "CONCEPT_ID" not in c:
        raise VocabularyError(f"{where} has no concept.CONCEPT_ID")
    try:
        concept_id = int(c["CONCEPT_ID"])
    except (TypeError, ValueError):
        raise VocabularyError(
            f"{where}: concept.CONCEPT_ID {c['CONCEPT_ID']!r} is not an integer"
        ) from None
    concept = Concept(
        concept_id=concept_id,
        concept_name=str(c.get("CONCEPT_NAME") or ""),
        vocabulary_id=str(c.get("VOCABULARY_ID") or ""),
        concept_code=str(c["CONCEPT_CODE"]) if c.get("CONCEPT_CODE") is not None else None,
        standard=c.get("STANDARD_CONCEPT") == "S",
        confirmed=True,
        source=source,
        include_descendants=bool(item.get("includeDescendants", False)),
        exclude=bool(item.get("isExcluded", False)),
    )
    return concept, str(c.get("DOMAIN_ID") or "")


def read_atlas(path: str | Path) -> list[tuple[str | None, list[tuple[Concept, str]]]]:
    """Read every concept set of an ATLAS or Circe JSON file.

    Parameters
    ----------
    path : str or pathlib.Path
        The JSON file.

    Returns
    -------
    list of (name, concepts)
        Each set's name (``None`` for a bare expression) and its concepts with their ATLAS
        ``DOMAIN_ID``.

    Raises
    ------
    VocabularyError
        The file is missing, not JSON, or a set has no items or an item no concept id.
    """
    p = Path(path)
    text = _read_bounded(p, "ATLAS concept-set file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VocabularyError(
            f"ATLAS concept-set file {str(p)!r} is not JSON: line {exc.lineno}: {exc.msg}"
        ) from None
    out = []
    mapped = 0
    for n, (name, items) in enumerate(_named_sets(data, repr(str(p)))):
        label = f"{str(p)!r}, set {name or n}"
        concepts = [
            _concept(item, f"{label}, item {i}", f"ATLAS export {p.name}")
            for i, item in enumerate(items)
        ]
        mapped += sum(bool(isinstance(i, dict) and i.get("includeMapped")) for i in items)
        out.append((name, concepts))
    if mapped:
        logger.warning(
            "%s: %d item(s) include mapped source concepts; allrwe reads standard concept "
            "ids only, so they are read without their mapped concepts",
            p.name,
            mapped,
        )
    return out


def _domains(concepts: list[tuple[Concept, str]], where: str) -> tuple[Domain, tuple[Domain, ...]]:
    counts = Counter(d for c, d in concepts if not c.exclude) or Counter(d for _, d in concepts)
    unknown = sorted(d for d in counts if d not in _DOMAINS)
    if unknown:
        raise VocabularyError(
            f"{where}: DOMAIN_ID {', '.join(repr(d) for d in unknown)} is not one allrwe reads "
            f"({', '.join(sorted(_DOMAINS))}); name the file after a set in force to keep its "
            "domain"
        )
    ordered = [cast(Domain, _DOMAINS[d]) for d, _ in counts.most_common()]
    return ordered[0], tuple(ordered[1:])


def atlas_sets(path: str | Path, in_force: Mapping[str, ConceptSet]) -> dict[str, ConceptSet]:
    """Return the concept sets of an ATLAS or Circe JSON file, keyed for allrwe.

    Parameters
    ----------
    path : str or pathlib.Path
        The JSON file.
    in_force : mapping of str to ConceptSet
        The sets in force so far (bundled and earlier files): a key found there keeps that
        set's domain, category, label and units.

    Returns
    -------
    dict of str to ConceptSet

    Raises
    ------
    VocabularyError
        See :func:`read_atlas`; also a new key whose concepts are in no domain allrwe reads,
        or a name that gives no key.
    """
    p = Path(path)
    found = read_atlas(p)
    out: dict[str, ConceptSet] = {}
    for name, concepts in found:
        key = _snake(p.stem) if len(found) == 1 else _snake(name or "")
        if not key:
            raise VocabularyError(f"{str(p)!r}: concept set {name!r} has no name to key it by")
        members = tuple(c for c, _ in concepts)
        if key in in_force:
            out[key] = in_force[key].model_copy(update={"key": key, "concepts": members})
            continue
        domain, also_in = _domains(concepts, f"{str(p)!r}, set {key!r}")
        out[key] = ConceptSet(
            key=key,
            label=name or key,
            domain=domain,
            also_in=also_in,
            category=ATLAS_CATEGORY,
            concepts=members,
        )
    return out
