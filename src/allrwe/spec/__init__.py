"""The study specification: one YAML file that says what a study computes.

:func:`load_spec` reads the YAML and returns a frozen :class:`StudySpec`; every error names the
field and its YAML line. :meth:`StudySpec.validate_against` checks that every concept-set key
the spec uses exists in a vocabulary. The JSON schema is :func:`schema_json`, committed as
``allrwe/data/schema/study-spec.schema.json``. The package's rooms:

- :mod:`allrwe.spec.model`: :class:`StudySpec`, the root, with the checks that span sections
  (group names, split classes known), suppression, report and vocabulary, and the schema;
- :mod:`allrwe.spec.cohort`, :mod:`allrwe.spec.therapy`, :mod:`allrwe.spec.pathways`,
  :mod:`allrwe.spec.analyses`: the sections of the cohort, of therapy patterns, of treatment
  pathways, and of outcomes, safety and baseline (with the one list of built-in baseline
  variables);
- :mod:`allrwe.spec.types`: value types, bounds and the frozen section base;
- :mod:`allrwe.spec.loader`: the strict, line-tracking YAML loader and its error messages;
- :mod:`allrwe.spec.concepts`: the :data:`ConceptSetKey` marker and the walker that finds
  every concept-set key a spec names;
- :mod:`allrwe.spec.paths`: field paths, and how messages show them.

It imports only :mod:`allrwe.errors` at import time, so every layer may import it.
"""

from allrwe.spec.analyses import (
    BASELINE_VARIABLE_NAMES,
    DEFAULT_BASELINE_VARIABLES,
    AfterIndexEndpoint,
    AfterIndexSpec,
    BaselineSpec,
    OutcomesSpec,
    ResponseThresholds,
    SafetySpec,
)
from allrwe.spec.cohort import (
    AgeRange,
    ClassificationSpec,
    CohortRef,
    DiagnosisCriterion,
    EntrySpec,
    Exclusion,
    InclusionSpec,
    SettingSpec,
    StudyPeriod,
    WindowsSpec,
)
from allrwe.spec.concepts import CONCEPT_SET, ConceptSetKey, concept_set_fields
from allrwe.spec.loader import load_spec, spec_from_text
from allrwe.spec.model import (
    MIN_CELL_COUNT_FLOOR,
    RESERVED_GROUP_NAMES,
    ReportFormat,
    ReportSpec,
    Stratum,
    StudySpec,
    SuppressionPolicy,
    SuppressionSpec,
    VocabularySpec,
    schema_json,
)
from allrwe.spec.paths import Path_
from allrwe.spec.pathways import (
    TP_DEFAULTS,
    PathwayBy,
    PathwaysSpec,
)
from allrwe.spec.therapy import (
    CROSSED_THERAPY_BY,
    CompletionSpec,
    CycleRule,
    DoseScheduleCycles,
    DoseSpec,
    GapCycles,
    InfusionCycles,
    LinesSpec,
    PatternsSpec,
    PriorChemoCourseSpec,
    SingleCycles,
)
from allrwe.spec.types import (
    MAX_AGE,
    MAX_DAYS,
    MAX_MONTHS,
    Age,
    AgeCuts,
    Count,
    DayCuts,
    Float,
    Int,
    MonthCuts,
    NonNegInt,
    Percent,
    PosInt,
    Window,
)

__all__ = [
    "BASELINE_VARIABLE_NAMES",
    "CONCEPT_SET",
    "CROSSED_THERAPY_BY",
    "DEFAULT_BASELINE_VARIABLES",
    "MAX_AGE",
    "MAX_DAYS",
    "MAX_MONTHS",
    "MIN_CELL_COUNT_FLOOR",
    "RESERVED_GROUP_NAMES",
    "TP_DEFAULTS",
    "AfterIndexEndpoint",
    "AfterIndexSpec",
    "Age",
    "AgeCuts",
    "AgeRange",
    "BaselineSpec",
    "ClassificationSpec",
    "CohortRef",
    "CompletionSpec",
    "ConceptSetKey",
    "Count",
    "CycleRule",
    "DayCuts",
    "DiagnosisCriterion",
    "DoseScheduleCycles",
    "DoseSpec",
    "EntrySpec",
    "Exclusion",
    "Float",
    "GapCycles",
    "InclusionSpec",
    "InfusionCycles",
    "Int",
    "LinesSpec",
    "MonthCuts",
    "NonNegInt",
    "OutcomesSpec",
    "Path_",
    "PathwayBy",
    "PathwaysSpec",
    "PatternsSpec",
    "Percent",
    "PosInt",
    "PriorChemoCourseSpec",
    "ReportFormat",
    "ReportSpec",
    "ResponseThresholds",
    "SafetySpec",
    "SettingSpec",
    "SingleCycles",
    "Stratum",
    "StudyPeriod",
    "StudySpec",
    "SuppressionPolicy",
    "SuppressionSpec",
    "VocabularySpec",
    "Window",
    "WindowsSpec",
    "concept_set_fields",
    "load_spec",
    "schema_json",
    "spec_from_text",
]
