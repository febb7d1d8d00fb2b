"""The study specification's root: :class:`StudySpec`, the checks across its sections, the schema.

Every section forbids unknown fields and is frozen, so a misspelt field fails and a spec does
not change once read. Field types say what a value may be (integers given as integers, days
within ±200 years); a field whose type holds :data:`~allrwe.spec.concepts.ConceptSetKey` names
concept sets, which :meth:`StudySpec.validate_against` checks against a vocabulary. Checks that
need more than one field are validators of the section holding them. Reading the YAML, and
the messages that name a field's line, are :mod:`allrwe.spec.loader`'s.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from allrwe.errors import StudySpecError
from allrwe.spec.analyses import (
    BaselineSpec,
    OutcomesSpec,
    SafetySpec,
)
from allrwe.spec.cohort import (
    ClassificationSpec,
    EntrySpec,
    InclusionSpec,
    SettingSpec,
    StudyPeriod,
    WindowsSpec,
)
from allrwe.spec.concepts import ConceptSetKey, concept_set_fields
from allrwe.spec.paths import Path_, dotted, resolve_line, show_value
from allrwe.spec.pathways import PathwaysSpec
from allrwe.spec.therapy import (
    PatternsSpec,
)
from allrwe.spec.types import (
    MAX_DAYS,
    AgeCuts,
    Section,
)

if TYPE_CHECKING:
    from allrwe.io.vocabulary import Vocabulary

__all__ = [
    "MIN_CELL_COUNT_FLOOR",
    "RESERVED_GROUP_NAMES",
    "ReportFormat",
    "ReportSpec",
    "Stratum",
    "StudySpec",
    "SuppressionPolicy",
    "SuppressionSpec",
    "VocabularySpec",
    "schema_json",
]


ReportFormat = Literal["html", "xlsx", "json"]
_HTML: ReportFormat = "html"


class ReportSpec(Section):
    """Report metadata."""

    title: str | None = None
    subtitle: str | None = None
    authors: list[str] = Field(default_factory=list)
    formats: list[ReportFormat] = Field(default_factory=lambda: [_HTML])


class VocabularySpec(Section):
    """Extra vocabulary YAML files (relative paths are resolved against the spec file)."""

    paths: list[Path] = Field(default_factory=list)


#: group names the results already use (compared without regard to case)
RESERVED_GROUP_NAMES = frozenset({"overall"})

Stratum = Literal[
    "ph_status",
    "setting",
    "treatment_setting",
    "age_band",
    "sex",
    "line",
    "group",
    "prior_hsct",
    "relapse_category",
    "post_hct_relapse",
    "relapse_site",
    "gvhd_at_index",
]


SuppressionPolicy = Literal["complementary", "per_cell", "none"]


class SuppressionSpec(Section):
    """How small counts are kept from the outputs (docs/results-model.md).

    ``complementary`` (default): small counts and every cell that would let them be worked out
    from totals are hidden; ``per_cell``: small counts only (OHDSI/DARWIN export practice,
    weaker: a hidden count may be recovered from totals); ``none``: nothing is hidden, an
    explicit opt-out that the report states.
    """

    policy: SuppressionPolicy = "complementary"


#: The smallest count a study may publish; 1 would hide nothing (use ``policy: none``).
MIN_CELL_COUNT_FLOOR = 2


class StudySpec(Section):
    """A whole study: cohort, windows, patterns and the settings of the other analyses."""

    name: str = Field(min_length=1)
    description: str = ""
    min_cell_count: Annotated[int, Field(strict=True, ge=MIN_CELL_COUNT_FLOOR, le=MAX_DAYS)] = (
        Field(
            default=5,
            description="counts from 1 to this minus 1 are suppressed; an integer of at least "
            "2 (to publish every count, set suppression.policy: none)",
        )
    )
    suppression: SuppressionSpec = Field(default_factory=SuppressionSpec)
    index_groups: dict[str, Annotated[list[ConceptSetKey], Field(min_length=1)]] = Field(
        min_length=1
    )
    study_period: StudyPeriod
    entry: EntrySpec = Field(default_factory=EntrySpec)
    inclusion: InclusionSpec = Field(default_factory=InclusionSpec)
    classification: ClassificationSpec = Field(default_factory=ClassificationSpec)
    setting: SettingSpec = Field(default_factory=SettingSpec)
    windows: WindowsSpec = Field(default_factory=WindowsSpec)
    patterns: PatternsSpec = Field(default_factory=PatternsSpec)
    pathways: PathwaysSpec = Field(default_factory=PathwaysSpec)
    strata: list[Stratum] = Field(default_factory=list)
    crossed_strata: list[Annotated[list[Stratum], Field(min_length=2)]] = Field(
        default_factory=list,
        description="strata crossed with each other (outcomes, Table 1, safety), e.g. "
        "[[setting, treatment_setting], [ph_status, treatment_setting]] (seed 001 table 2)",
    )
    age_bands: AgeCuts = Field(default_factory=lambda: [35.0, 55.0])
    outcomes: OutcomesSpec = Field(default_factory=OutcomesSpec)
    safety: SafetySpec = Field(default_factory=SafetySpec)
    baseline: BaselineSpec = Field(default_factory=BaselineSpec)
    report: ReportSpec = Field(default_factory=ReportSpec)
    vocabulary: VocabularySpec = Field(default_factory=VocabularySpec)

    @field_validator("pathways")
    @classmethod
    def _split_classes_known(cls, value: PathwaysSpec, info: ValidationInfo) -> PathwaysSpec:
        patterns = info.data.get("patterns")
        classes = patterns.therapy_classes if patterns is not None else {}
        unknown = [c for c in value.split_event_cohorts if c not in classes]
        if unknown:
            raise ValueError(
                f"split_event_cohorts {unknown} not among therapy_classes {sorted(classes)}"
            )
        if "completion" in value.by and (patterns is None or patterns.completion is None):
            raise ValueError(
                "by: 'completion' needs patterns.completion (when the index treatment counts "
                "as completed), e.g. patterns: {completion: {min_cycles: 1}}"
            )
        return value

    @model_validator(mode="after")
    def _destinations_need_setting(self) -> StudySpec:
        if self.patterns.destinations_by and "setting" not in self.strata:
            raise ValueError(
                "patterns.destinations_by counts destinations within each setting: add "
                "'setting' to strata, e.g. strata: [setting]"
            )
        return self

    @field_validator("index_groups")
    @classmethod
    def _group_names(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for name in value:
            if not name.strip():
                raise ValueError("a group name is empty")
            if name.casefold() in RESERVED_GROUP_NAMES:
                raise ValueError(f"group name {name!r} is reserved (the overall column)")
            other = seen.setdefault(name.casefold(), name)
            if other != name:
                raise ValueError(
                    f"group names {other!r} and {name!r} differ only in case (they would share "
                    "file names and report anchors)"
                )
        return value

    _lines: dict[Path_, int] = PrivateAttr(default_factory=dict)
    _origin: str = PrivateAttr(default="study spec")

    @property
    def origin(self) -> str:
        """Where the spec came from (its file path, or ``"study spec"``)."""
        return self._origin

    def line_of(self, path: Path_) -> int | None:
        """Return the YAML line (1-based) of a field path, or of its nearest ancestor."""
        return resolve_line(self._lines, path)

    def concept_set_fields(self) -> Iterator[tuple[Path_, str]]:
        """Yield ``(field path, key)`` for every concept-set key or group the spec names.

        The fields are those typed :data:`~allrwe.spec.concepts.ConceptSetKey`, in field order.
        """
        return concept_set_fields(self)

    def vocabulary_issues(self, vocab: Vocabulary) -> list[str]:
        """Return one message per concept-set key the vocabulary does not know."""
        known = list(vocab.sets) + list(vocab.groups)
        issues = []
        for path, key in self.concept_set_fields():
            if key in vocab:
                continue
            close = difflib.get_close_matches(key, known, n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            issues.append(self._where(path) + f"unknown concept set {key!r}{hint}")
        return issues

    def validate_against(self, vocab: Vocabulary) -> StudySpec:
        """Check every concept-set key against ``vocab``; return ``self`` if all are known.

        Raises
        ------
        StudySpecError
            Naming the field path (and YAML line) of the first unknown key, and how many more
            there are.
        """
        issues = self.vocabulary_issues(vocab)
        if issues:
            more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
            raise StudySpecError(issues[0] + more)
        return self

    @property
    def hides_below(self) -> int:
        """int: counts from 1 to this minus 1 are hidden (1 under ``suppression.policy: none``)."""
        return 1 if self.suppression.policy == "none" else self.min_cell_count

    def with_min_cell_count(self, value: int | None, *, source: str) -> StudySpec:
        """Return the spec with ``min_cell_count`` replaced, validated like the YAML field.

        The run reads the threshold from this one object only, so a value given on the
        command line and the same value in the spec give identical outputs.

        Parameters
        ----------
        value : int or None
            The new threshold; ``None`` returns ``self``.
        source : str
            Where the value comes from (for the error message), e.g. ``"--min-cell-count"``.

        Returns
        -------
        StudySpec

        Raises
        ------
        StudySpecError
            If ``value`` is not an integer of at least 2.
        """
        if value is None:
            return self
        data = self.model_dump()
        data["min_cell_count"] = value
        try:
            spec = StudySpec.model_validate(data)
        except ValidationError as exc:
            msg = exc.errors()[0]["msg"]
            raise StudySpecError(
                f"{source}: {msg} (got {show_value(value)}); to publish every count set "
                "suppression.policy: none in the spec"
            ) from None
        spec._lines = self._lines
        spec._origin = self._origin
        return spec

    def resolved_vocabulary_paths(self) -> list[Path]:
        """Return the vocabulary paths, resolved against the directory of the spec file."""
        return [self.resolve(p) for p in self.vocabulary.paths]

    def resolve(self, path: Path) -> Path:
        """Return ``path`` resolved against the directory of the spec file (else the cwd)."""
        base = Path(self._origin).parent if self._origin != "study spec" else Path.cwd()
        return path if path.is_absolute() else base / path

    def _where(self, path: Path_) -> str:
        line = self.line_of(path)
        at = f", line {line}" if line is not None else ""
        return f"{self._origin}{at}: field {dotted(path)!r}: "


def schema_json() -> str:
    """Return the JSON schema of :class:`StudySpec`, as committed in ``data/schema/``."""
    return json.dumps(StudySpec.model_json_schema(), indent=2, sort_keys=True) + "\n"
