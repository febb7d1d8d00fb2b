"""ATLAS concept-set and Circe cohort JSON as vocabulary files (allrwe.io.atlas)."""

from __future__ import annotations

import json
import logging
from importlib import resources
from pathlib import Path

import pytest

from allrwe.cli.app import main
from allrwe.errors import StudySpecError, VocabularyError
from allrwe.io.atlas import ATLAS_CATEGORY, atlas_sets, is_atlas_file, read_atlas
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import load_spec

DEMO_SPEC = Path(str(resources.files("allrwe.data") / "studies" / "demo.yaml"))
FIXTURES = Path(__file__).parent / "atlas"
T_ALL = FIXTURES / "t_lineage_all.json"
COHORT = FIXTURES / "neutropenia_cohort.json"


def test_an_export_named_after_a_bundled_set_replaces_its_concepts_only() -> None:
    bundled = load_vocabulary().concept_set("t_lineage_all")
    vocab = load_vocabulary([T_ALL])
    found = vocab.concept_set("t_lineage_all")
    assert (found.domain, found.category, found.label) == (
        bundled.domain,
        bundled.category,
        bundled.label,
    )
    assert found.concept_ids == [4082462, 4143997, 4221907]
    flags = {c.concept_id: c.include_descendants for c in found.concepts}
    assert flags == {4082462: True, 4143997: False, 4221907: True}
    assert {c.source for c in found.concepts} == {"ATLAS export t_lineage_all.json"}


def test_a_circe_cohort_gives_each_concept_set_under_its_snake_case_name() -> None:
    sets = atlas_sets(COHORT, load_vocabulary().sets)
    assert sorted(sets) == ["neutropenia_or_leukopenia", "neutrophil_absolute_count"]
    neutropenia = sets["neutropenia_or_leukopenia"]
    assert (neutropenia.domain, neutropenia.also_in) == ("condition", ("observation",))
    assert neutropenia.category == ATLAS_CATEGORY
    assert neutropenia.label == "Neutropenia or leukopenia"
    assert neutropenia.concept_ids == [320073, 435224, 42872951]
    assert neutropenia.excluded_ids == [434895]
    counts = sets["neutrophil_absolute_count"]
    assert (counts.domain, counts.also_in) == ("measurement", ())
    assert [c.concept_code for c in counts.concepts] == ["26499-4", "751-8", "753-4"]


def test_include_mapped_is_read_without_mapped_concepts_and_said(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="allrwe.io.atlas"):
        found = read_atlas(COHORT)
    assert [name for name, _ in found] == ["Neutropenia or leukopenia", "Neutrophil absolute count"]
    assert "1 item(s) include mapped source concepts" in caplog.text


def test_a_spec_can_name_a_set_from_an_atlas_file(tmp_path: Path) -> None:
    (tmp_path / "cohort.json").write_bytes(COHORT.read_bytes())
    demo = DEMO_SPEC.read_text(encoding="utf-8")
    assert "concept_sets: [t_lineage_all]" in demo
    text = demo.replace(
        "concept_sets: [t_lineage_all]", "concept_sets: [neutropenia_or_leukopenia]"
    )
    spec = tmp_path / "study.yaml"
    spec.write_text(text + "\nvocabulary: {paths: [cohort.json]}\n", encoding="utf-8")
    loaded = load_spec(spec)
    assert loaded.inclusion.exclusions[0].concept_sets == ["neutropenia_or_leukopenia"]
    spec.write_text(text, encoding="utf-8")  # without the ATLAS file the key is unknown
    with pytest.raises(StudySpecError, match="neutropenia_or_leukopenia"):
        load_spec(spec)


def test_vocab_command_reads_an_atlas_file_given_with_vocab(capsys) -> None:
    code = main(["vocab", "neutrophil_absolute_count", "--vocab", str(COHORT), "--json"])
    out = capsys.readouterr().out
    assert code == 0
    shown = json.loads(out)
    assert [c["concept_id"] for c in shown["concepts"]] == [3017732, 3013650, 3017501]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "is not JSON: line 1"),
        ('{"items": []}', "holds no concept-set items"),
        ('{"items": [{"concept": {"CONCEPT_NAME": "x"}}]}', "item 0 has no concept.CONCEPT_ID"),
        ('{"items": [{"concept": {"CONCEPT_ID": "abc"}}]}', "'abc' is not an integer"),
        (
            '{"items": [{"concept": {"CONCEPT_ID": 4002, "DOMAIN_ID": "Spec Anatomic Site"}}]}',
            "DOMAIN_ID 'Spec Anatomic Site' is not one allrwe reads",
        ),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "new_set.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError, match=message):
        load_vocabulary([path])


def test_only_json_paths_are_atlas_files() -> None:
    assert is_atlas_file("sets/T.JSON")
    assert not is_atlas_file("sets/vocabulary.yaml")
