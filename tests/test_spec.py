"""Tests of the study specification: loading, defaults, errors with field and line."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from allrwe.errors import StudySpecError
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import (
    DoseScheduleCycles,
    InfusionCycles,
    SingleCycles,
    StudySpec,
    load_spec,
    schema_json,
    spec_from_text,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

MINIMAL = """\
name: minimal
index_groups:
  INO: [inotuzumab_ozogamicin]
study_period:
  start: 2018-01-01
  end: 2021-12-31
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "name",
    [
        "seed000_claims_patterns.yaml",
        "seed001_blinatumomab_emr.yaml",
        "seed003_inotuzumab_outcomes.yaml",
        "seed004_post_hct_relapse.yaml",
    ],
)
def test_examples_load(name: str) -> None:
    spec = load_spec(EXAMPLES / name)
    assert spec.name == name.removesuffix(".yaml")
    assert spec.index_groups
    assert spec.line_of(("index_groups",)) is not None


def test_seed000_example_values() -> None:
    spec = load_spec(EXAMPLES / "seed000_claims_patterns.yaml")
    assert spec.index_groups == {
        "INO": ["inotuzumab_ozogamicin"],
        "BLIN": ["blinatumomab"],
        "CAR-T": ["car_t"],
    }
    assert spec.entry.allow_multiple_groups is True
    assert spec.classification.rr_min_line == 2
    assert spec.inclusion.diagnosis is not None
    assert spec.inclusion.diagnosis.window == (-365, 0)


def test_defaults_of_a_minimal_spec() -> None:
    spec = spec_from_text(MINIMAL)
    assert spec.min_cell_count == 5
    assert spec.entry.allow_multiple_groups is True
    assert spec.inclusion.diagnosis is not None
    assert spec.inclusion.diagnosis.concept_sets == ["all_diagnosis"]
    assert spec.inclusion.diagnosis.window == (-365, 0)
    assert [e.concept_sets for e in spec.inclusion.exclusions] == [["t_lineage_all"]]
    assert spec.setting.window == (-30, 0)
    assert spec.windows.prior_lookback_days is None
    lines = spec.patterns.lines
    assert (lines.regimen_window_days, lines.gap_days) == (28, 60)
    assert lines.gap_exempt == ["tki"]
    assert isinstance(spec.patterns.cycles["blinatumomab"], InfusionCycles)
    assert spec.patterns.cycles["blinatumomab"].max_interruption_days == 7
    assert isinstance(spec.patterns.cycles["inotuzumab_ozogamicin"], DoseScheduleCycles)
    assert isinstance(spec.patterns.cycles["car_t"], SingleCycles)
    out = spec.outcomes
    assert out.response.marrow_blasts_max_pct == 5.0
    assert (out.response.anc_full, out.response.anc_partial) == (1.0, 0.5)
    assert (out.response.platelets_full, out.response.platelets_partial) == (100.0, 50.0)
    assert out.mrd_threshold_pct == 0.01
    assert out.efs_no_cr_window_days == 84
    assert out.landmarks_months == [6.0, 12.0, 24.0]
    assert out.conf_type == "log-log"
    assert spec.safety.treatment_window_days == 30
    assert spec.baseline.lab_window_days == 30


def test_misspelt_field_names_the_field_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "inclusoin:\n  age: {min: 18}\n")
    with pytest.raises(StudySpecError) as info:
        load_spec(path)
    msg = str(info.value)
    assert "line 7" in msg
    assert "unknown field 'inclusoin'" in msg
    assert "did you mean 'inclusion'" in msg
    assert str(path) in msg


def test_misspelt_nested_field_inside_a_tagged_union(tmp_path: Path) -> None:
    text = MINIMAL + "patterns:\n  cycles:\n    blinatumomab:\n      rule: infusion\n"
    text += "      max_interuption_days: 3\n"
    with pytest.raises(StudySpecError) as info:
        load_spec(write(tmp_path, text))
    msg = str(info.value)
    assert "line 11" in msg
    # the union tag pydantic adds ('infusion') is not part of the reported path
    assert "'patterns.cycles.blinatumomab.max_interuption_days'" in msg
    assert "did you mean 'max_interruption_days'" in msg


def test_unknown_concept_set_names_the_field_and_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("[inotuzumab_ozogamicin]", "[inotuzumab_ozogamycin]")
    with pytest.raises(StudySpecError) as info:
        load_spec(write(tmp_path, text))
    msg = str(info.value)
    assert "field 'index_groups.INO[0]'" in msg
    assert "line 3" in msg
    assert "unknown concept set 'inotuzumab_ozogamycin'" in msg
    assert "did you mean 'inotuzumab_ozogamicin'" in msg


def test_unknown_concept_set_in_an_exclusion(tmp_path: Path) -> None:
    text = MINIMAL + "inclusion:\n  exclusions:\n    - {concept_sets: [t_all], window: [null, 0]}\n"
    with pytest.raises(StudySpecError) as info:
        load_spec(write(tmp_path, text))
    assert "field 'inclusion.exclusions[0].concept_sets[0]'" in str(info.value)
    assert "line 9" in str(info.value)


def test_window_that_ends_before_it_starts(tmp_path: Path) -> None:
    text = MINIMAL + "inclusion:\n  diagnosis:\n    window: [10, -365]\n"
    with pytest.raises(StudySpecError) as info:
        load_spec(write(tmp_path, text))
    msg = str(info.value)
    assert "field 'inclusion.diagnosis.window'" in msg
    assert "line 9" in msg
    assert "starts on day 10, after it ends on day -365" in msg


def test_study_period_end_before_start(tmp_path: Path) -> None:
    text = MINIMAL.replace("end: 2021-12-31", "end: 2017-12-31")
    with pytest.raises(StudySpecError) as info:
        load_spec(write(tmp_path, text))
    msg = str(info.value)
    assert "field 'study_period.end'" in msg
    assert "line 6" in msg
    assert "2017-12-31 is before start 2018-01-01" in msg


def test_age_max_below_min() -> None:
    with pytest.raises(StudySpecError, match=r"'inclusion.age.max'.*below min 65"):
        spec_from_text(MINIMAL + "inclusion:\n  age: {min: 65, max: 18}\n")


def test_missing_required_field() -> None:
    with pytest.raises(StudySpecError, match=r"line 1: field 'study_period' is required"):
        spec_from_text("name: x\nindex_groups: {INO: [inotuzumab_ozogamicin]}\n")


def test_duplicate_key_is_refused() -> None:
    with pytest.raises(StudySpecError, match=r"line 3: field 'name' is given twice"):
        spec_from_text("name: a\nmin_cell_count: 3\nname: b\n")


def test_wrong_type_names_field() -> None:
    with pytest.raises(StudySpecError, match=r"line 7: field 'min_cell_count'"):
        spec_from_text(MINIMAL + "min_cell_count: five\n")


def test_novel_agent_classes_must_be_therapy_classes() -> None:
    text = MINIMAL + "patterns:\n  novel_agent_classes: [blinatumomab, gene_therapy]\n"
    with pytest.raises(StudySpecError, match=r"'patterns.novel_agent_classes'.*gene_therapy"):
        spec_from_text(text)


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StudySpecError, match="must hold a mapping"):
        spec_from_text("- a\n- b\n")
    with pytest.raises(StudySpecError, match="does not exist"):
        load_spec(tmp_path / "nope.yaml")


def test_validate_against_reports_every_problem() -> None:
    text = MINIMAL + "safety:\n  adverse_events: [crs, cytokine_storm]\nbaseline:\n  labs: [ldh]\n"
    spec = spec_from_text(text)
    issues = spec.vocabulary_issues(load_vocabulary())
    assert len(issues) == 2
    assert "field 'safety.adverse_events[1]'" in issues[0]
    assert "line 8" in issues[0]
    assert "field 'baseline.labs[0]'" in issues[1]
    with pytest.raises(StudySpecError, match=r"\(and 1 more\)"):
        spec.validate_against(load_vocabulary())


def test_user_vocabulary_makes_a_new_set_known(tmp_path: Path) -> None:
    (tmp_path / "extra.yaml").write_text(
        "concept_sets:\n"
        "  obecabtagene:\n"
        "    label: Obecabtagene autoleucel\n"
        "    domain: drug\n"
        "    category: index_drug\n"
        "    concepts:\n"
        "    - {concept_id: 2000009999, concept_name: obe-cel, vocabulary_id: local}\n",
        encoding="utf-8",
    )
    text = (
        "name: user_vocab\nindex_groups:\n  OBE: [obecabtagene]\n"
        "study_period: {start: 2018-01-01, end: 2021-12-31}\n"
        "vocabulary:\n  paths: [extra.yaml]\n"
    )
    spec = load_spec(write(tmp_path, text))
    assert spec.resolved_vocabulary_paths() == [tmp_path / "extra.yaml"]
    with pytest.raises(StudySpecError, match="unknown concept set 'obecabtagene'"):
        load_spec(write(tmp_path, text.replace("paths: [extra.yaml]", "paths: []")))


def test_spec_is_frozen() -> None:
    spec = spec_from_text(MINIMAL)
    with pytest.raises(ValueError, match="frozen"):
        spec.name = "other"  # type: ignore[misc]


def test_committed_json_schema_is_current() -> None:
    committed = (
        resources.files("allrwe.data").joinpath("schema/study-spec.schema.json").read_text("utf-8")
    )
    assert committed == schema_json(), (
        'regenerate with: python -c "from allrwe.spec import schema_json; '
        "open('src/allrwe/data/schema/study-spec.schema.json','w').write(schema_json())\""
    )


def test_json_schema_forbids_extra_fields() -> None:
    schema = StudySpec.model_json_schema()
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["InclusionSpec"]["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "index_groups", "study_period"}


def test_seed003_and_seed004_examples_admit_relapsed_refractory_patients_only() -> None:
    for name in ("seed003_inotuzumab_outcomes.yaml", "seed004_post_hct_relapse.yaml"):
        spec = load_spec(EXAMPLES / name)
        assert spec.inclusion.settings == ["RR"]
        assert "prior_hsct" in spec.strata


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min_cell_count: true", "valid integer"),
        ("min_cell_count: 5.0", "valid integer"),
        ("min_cell_count: '5'", "valid integer"),
        ("min_cell_count: 1", "greater than or equal to 2"),
        ("min_cell_count: 0", "greater than or equal to 2"),
        ("suppression: {policy: off}", "'suppression.policy'"),
    ],
)
def test_threshold_is_a_strict_integer_of_at_least_two(text: str, message: str):
    with pytest.raises(StudySpecError, match=re.escape(message)):
        spec_from_text(MINIMAL + text + "\n")


def test_suppression_policy_defaults_to_complementary_and_none_is_explicit():
    assert spec_from_text(MINIMAL).suppression.policy == "complementary"
    assert spec_from_text(MINIMAL).hides_below == 5
    opted_out = spec_from_text(MINIMAL + "suppression: {policy: none}\n")
    assert opted_out.suppression.policy == "none"
    assert opted_out.hides_below == 1
    assert spec_from_text(MINIMAL + "min_cell_count: 11\n").hides_below == 11


def test_concept_set_fields_are_the_fields_typed_concept_set_key() -> None:
    # the fields whose type holds ConceptSetKey, in field order: the vocabulary check reads
    # them from the model (a list item, a dictionary's key or a dictionary's list)
    spec = spec_from_text(MINIMAL)
    named = set(spec.index_groups) | set(spec.patterns.therapy_classes)
    named |= set(spec.outcomes.censor_variants) | set(spec.patterns.cycles)
    fields = list(
        dict.fromkeys(
            tuple(p for p in path[:-1] if p not in named) for path, _ in spec.concept_set_fields()
        )
    )
    assert fields == [
        ("index_groups",),
        ("inclusion", "diagnosis", "concept_sets"),
        ("inclusion", "exclusions", 0, "concept_sets"),
        ("classification", "rr_evidence"),
        ("classification", "rr_prior_therapy"),
        ("classification", "rr_salvage"),
        ("setting", "remission_evidence"),
        ("setting", "mrd_evidence"),
        ("patterns", "cycles"),
        ("patterns", "lines", "gap_exempt"),
        ("patterns", "lines", "allowed_additions"),
        ("patterns", "lines", "line_defining"),
        ("patterns", "lines", "lymphodepletion"),
        ("patterns", "lines", "transplant"),
        ("patterns", "therapy_classes"),
        ("outcomes", "censor_variants"),
        ("safety", "adverse_events"),
        ("safety", "special_interest"),
        ("baseline", "labs"),
    ]


def test_concept_set_keys_given_as_dictionary_keys_carry_their_path() -> None:
    spec = spec_from_text(
        MINIMAL + "patterns:\n  cycles:\n    my_drug: {rule: gap, max_interruption_days: 3}\n"
    )
    cycles = [(p, k) for p, k in spec.concept_set_fields() if p[:2] == ("patterns", "cycles")]
    assert cycles == [(("patterns", "cycles", "my_drug"), "my_drug")]


def test_one_list_of_baseline_variables() -> None:
    from allrwe.analyses.baseline import BASELINE_VARIABLES
    from allrwe.spec import BASELINE_VARIABLE_NAMES, DEFAULT_BASELINE_VARIABLES

    assert list(BASELINE_VARIABLES)[: len(BASELINE_VARIABLE_NAMES)] == list(BASELINE_VARIABLE_NAMES)
    assert StudySpec.model_validate(
        {
            "name": "x",
            "index_groups": {"A": ["a"]},
            "study_period": {"start": "2020-01-01", "end": "2020-12-31"},
        }
    ).baseline.variables == list(DEFAULT_BASELINE_VARIABLES)
    assert DEFAULT_BASELINE_VARIABLES[:3] == ("setting", "age", "age_band")
    assert "treatment_setting" not in DEFAULT_BASELINE_VARIABLES
    assert len(DEFAULT_BASELINE_VARIABLES) == 18  # seed 001 Table 1, chemo intolerance included
