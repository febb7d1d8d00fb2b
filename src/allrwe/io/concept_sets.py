"""Concept sets as values: the domains a set may hold, its concepts, and the bounded file read.

The rule this module owns: a concept set is an immutable, validated value (a key, one or more CDM
domains, concepts with the evidence behind each id); :mod:`allrwe.io.vocabulary` gathers the sets
in force and :mod:`allrwe.io.atlas` builds sets from ATLAS JSON, both on top of it.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allrwe.errors import VocabularyError

__all__ = [
    "DOMAINS",
    "LOCAL_CONCEPT_MIN",
    "MAX_VOCABULARY_BYTES",
    "Concept",
    "ConceptSet",
    "Domain",
]

Domain = Literal["drug", "condition", "procedure", "measurement", "observation", "death", "visit"]

#: the CDM domains a concept set may belong to
DOMAINS: tuple[str, ...] = get_args(Domain)


#: concept ids from this one up are local (site-defined) concepts, the OMOP convention
LOCAL_CONCEPT_MIN = 2_000_000_000


class Concept(BaseModel):
    """One concept of a concept set, with where its value comes from.

    ``fixture``: a local id (at least :data:`LOCAL_CONCEPT_MIN`) that only the bundled
    synthetic data and example CDM carry. It claims nothing about the OHDSI vocabularies: on a
    real CDM the set is found by the concept's public ``vocabulary_id`` + ``concept_code`` and
    ``source_codes``, resolved in the CDM's own ``concept`` table at run time
    (:mod:`allrwe.io.vocabulary_resolution`). A fixture is never ``confirmed`` and must name
    such a code.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    concept_id: int
    concept_name: str
    vocabulary_id: str
    concept_code: str | None = None
    confirmed: bool = False
    source: str = ""
    standard: bool = True
    source_codes: dict[str, list[str]] = Field(default_factory=dict)
    note: str | None = None
    include_descendants: bool = True
    exclude: bool = False
    fixture: bool = False

    @model_validator(mode="after")
    def _fixture_is_local_and_coded(self) -> Concept:
        if not self.fixture:
            return self
        if self.concept_id < LOCAL_CONCEPT_MIN or self.confirmed:
            raise ValueError(
                f"concept {self.concept_id}: a fixture is a local id (>= {LOCAL_CONCEPT_MIN:,}) "
                "and never confirmed"
            )
        if not (self.concept_code or any(self.source_codes.values())):
            raise ValueError(
                f"concept {self.concept_id}: a fixture needs a concept_code or source_codes to "
                "resolve in the CDM's vocabulary"
            )
        return self


class ConceptSet(BaseModel):
    """A named set of concepts in one CDM domain.

    ``domain`` names the table the set is read from; ``also_in`` other domains whose tables are
    read too (adverse events: ``condition_occurrence``, where real ETLs put them, and
    ``observation``, where some sites record them with a grade).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = ""
    label: str
    domain: Domain
    category: str
    concepts: tuple[Concept, ...] = ()
    also_in: tuple[Domain, ...] = ()
    drug_class: str | None = None
    unit: str | None = None
    unit_concept_id: int | None = None
    unit_factors: dict[int, float] = Field(default_factory=dict)
    unit_source: str = ""
    value_field: str | None = None
    special_interest: bool = False
    grade_scale: str | None = None

    @field_validator("concepts", "also_in", mode="before")
    @classmethod
    def _tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    def unit_factor(self) -> dict[int, float]:
        """Return, per accepted ``unit_concept_id``, the factor to the set's unit.

        The set's own unit has factor 1, ``unit_factors`` the others (10⁹/L from 10³/µL: 1,
        g/L from g/dL: 10). A record with no unit (null or 0) is taken to be in the set's unit;
        a record in any other unit is left out. Empty when the set names no unit.
        """
        if self.unit_concept_id is None:
            return {}
        return {self.unit_concept_id: 1.0, **self.unit_factors}

    @property
    def read_domains(self) -> tuple[str, ...]:
        """The domains whose tables hold the set's records: ``domain``, then ``also_in``."""
        return tuple(dict.fromkeys((self.domain, *self.also_in)))

    @property
    def concept_ids(self) -> list[int]:
        """Sorted ids of the included (non-excluded) concepts."""
        return sorted({c.concept_id for c in self.concepts if not c.exclude})

    @property
    def excluded_ids(self) -> list[int]:
        """Sorted ids of concepts the set excludes (ATLAS ``isExcluded``)."""
        return sorted({c.concept_id for c in self.concepts if c.exclude})

    @property
    def unconfirmed(self) -> list[Concept]:
        """Concepts whose value no source confirms yet (fixtures claim no value: left out)."""
        return [c for c in self.concepts if not c.confirmed and not c.fixture]

    @property
    def fixtures(self) -> list[Concept]:
        """Local ids of the bundled synthetic and example data (``Concept.fixture``)."""
        return [c for c in self.concepts if c.fixture]


#: largest vocabulary or ATLAS file read (the bundled vocabulary is about 0.1 MB)
MAX_VOCABULARY_BYTES = 16 * 1024 * 1024


def _read_bounded(path: Path, what: str) -> str:
    """Read a regular text file of at most :data:`MAX_VOCABULARY_BYTES` (not a folder or device)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise VocabularyError(f"{what} {str(path)!r} does not exist") from None
    except OSError as exc:
        raise VocabularyError(f"{what} {str(path)!r} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise VocabularyError(f"{what} {str(path)!r} is {kind}; give a YAML file")
    limit = MAX_VOCABULARY_BYTES
    try:
        with path.open("rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise VocabularyError(f"{what} {str(path)!r} cannot be read ({exc.strerror})") from None
    if len(raw) > limit:
        raise VocabularyError(f"{what} {str(path)!r} is larger than {limit // 2**20} MB")
    return raw.decode("utf-8")
