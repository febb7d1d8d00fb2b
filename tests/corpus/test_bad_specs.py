"""Bad study specifications: ``allrwe run`` exits 1 (2 for a missing file) with one message that
names the field and its line, writes nothing, and never shows a traceback.

The files are in ``tests/corpus/specs/``; :data:`BAD_SPECS` says what each must answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from allrwe.errors import AllrweError
from allrwe.spec import load_spec
from corpus.example_runs import cli, example_source

SPECS = Path(__file__).resolve().with_name("specs")


@dataclass(frozen=True)
class BadSpec:
    """What ``allrwe run`` must say about one bad spec file."""

    file: str
    exit_code: int
    fragments: tuple[str, ...]
    defect: str | None = None
    run_defect: str | None = None


BAD_SPECS: tuple[BadSpec, ...] = (
    BadSpec(
        "misspelt_field.yaml",
        1,
        ("line 5", "unknown field 'min_cel_count'", "did you mean 'min_cell_count'?"),
    ),
    BadSpec(
        "misspelt_nested_field.yaml",
        1,
        ("line 6", "unknown field 'inclusion.min_prior_observaton_days'"),
    ),
    BadSpec(
        "unknown_concept_set.yaml",
        1,
        ("line 4", "'index_groups.INO[0]'", "unknown concept set 'inotuzumab_ozogamicn'"),
    ),
    BadSpec(
        "window_end_before_start.yaml",
        1,
        ("line 7", "'inclusion.diagnosis.window'", "starts on day 0, after it ends on day -365"),
    ),
    BadSpec(
        "study_period_reversed.yaml",
        1,
        ("line 6", "'study_period.end'", "end 2020-01-01 is before start 2022-12-31"),
    ),
    BadSpec(
        "negative_min_cell_count.yaml",
        1,
        ("line 5", "'min_cell_count'", "greater than or equal to 2", "(got -5)"),
    ),
    BadSpec("min_cell_count_as_text.yaml", 1, ("line 5", "'min_cell_count'", "(got 'five')")),
    BadSpec("index_groups_as_list.yaml", 1, ("line 2", "'index_groups'", "valid dictionary")),
    BadSpec("empty_index_groups.yaml", 1, ("line 2", "'index_groups'", "at least 1 item")),
    BadSpec("empty_index_group.yaml", 1, ("line 3", "'index_groups.BLIN'", "at least 1 item")),
    BadSpec("unknown_stratum.yaml", 1, ("line 5", "'strata[1]'", "(got 'race')")),
    BadSpec(
        "unknown_cycle_rule.yaml",
        1,
        ("line 7", "'patterns.cycles.blinatumomab'", "'weekly'"),
    ),
    BadSpec(
        "tab_indentation.yaml",
        1,
        ("is not valid YAML", "line 3, column 1", "found character '\\t'"),
    ),
    BadSpec(
        "unclosed_bracket.yaml",
        1,
        ("is not valid YAML", "line 4, column 13", "expected ',' or ']'"),
    ),
    BadSpec("list_not_mapping.yaml", 1, ("must hold a mapping of study fields",)),
    BadSpec("scalar_document.yaml", 1, ("must hold a mapping of study fields",)),
    BadSpec("empty.yaml", 1, ("must hold a mapping of study fields",)),
    BadSpec("comments_only.yaml", 1, ("must hold a mapping of study fields",)),
    BadSpec(
        "latin1_not_utf8.yaml",
        1,
        ("cannot be read", "'utf-8' codec can't decode byte 0xe9 in position 6"),
    ),
    BadSpec("extra_top_level_key.yaml", 1, ("line 5", "unknown field 'cohort'")),
    BadSpec("duplicate_key.yaml", 1, ("line 4", "field 'name' is given twice (first on line 1)")),
    BadSpec(
        "duplicate_nested_key.yaml",
        1,
        ("line 7", "field 'patterns.era_gap_days' is given twice (first on line 6)"),
    ),
    BadSpec(
        "age_range_reversed.yaml", 1, ("line 8", "'inclusion.age.max'", "max 18.0 is below min")
    ),
    BadSpec("conf_level_out_of_range.yaml", 1, ("line 6", "'outcomes.conf_level'", "(got 1.5)")),
    BadSpec(
        "impossible_date.yaml",
        1,
        ("is not valid YAML", "line 4, column 23", "'2021-02-30' is not a valid date"),
    ),
    BadSpec("infinite_number.yaml", 1, ("line 5", "'min_cell_count'", "(got '1e999')")),
    BadSpec(
        "huge_number.yaml",
        1,
        ("line 7", "'patterns.lines.gap_days'", "73050"),
    ),
    BadSpec("missing_name.yaml", 1, ("line 1", "field 'name' is required")),
    BadSpec("missing_study_period.yaml", 1, ("line 1", "field 'study_period' is required")),
    BadSpec(
        "vocabulary_path_traversal.yaml",
        1,
        ("line 6", "'vocabulary.paths'", "etc/passwd", "must hold a mapping"),
    ),
    BadSpec(
        "vocabulary_path_missing.yaml",
        1,
        ("line 6", "'vocabulary.paths'", "no_such_vocabulary.yaml", "does not exist"),
    ),
    BadSpec(
        "vocabulary_path_with_sql.yaml",
        1,
        ("line 6", "'vocabulary.paths'", "x'; DROP TABLE person; --.yaml", "does not exist"),
    ),
    BadSpec("schema_option_with_sql.yaml", 1, ("line 5", "unknown field 'cdm'")),
    # issue 17: integers are decimal integer literals (YAML 1.1 reads 011 as 9, 1:30 as 90)
    BadSpec(
        "min_cell_count_boolean.yaml",
        1,
        ("line 5", "'min_cell_count'", "not a boolean", "(got true)"),
    ),
    BadSpec("min_cell_count_octal.yaml", 1, ("line 5, column 17", "'011' is an octal")),
    BadSpec("min_cell_count_sexagesimal.yaml", 1, ("line 5, column 17", "'1:30' is an octal")),
    BadSpec("min_cell_count_hexadecimal.yaml", 1, ("line 5, column 17", "'0x10'")),
    BadSpec("min_cell_count_as_float.yaml", 1, ("line 5", "valid integer", "(got 5.0)")),
    BadSpec("era_gap_days_binary.yaml", 1, ("line 6, column 17", "'0b101'", "decimal integer")),
    BadSpec("tolerance_sexagesimal.yaml", 1, ("line 7, column 16", "'1:30.5' is a base-60")),
    BadSpec("gap_days_as_float.yaml", 1, ("line 7", "'patterns.lines.gap_days'", "(got 60.5)")),
    BadSpec("severe_grade_boolean.yaml", 1, ("line 6", "'safety.severe_grade'", "not a boolean")),
    BadSpec(
        "window_day_boolean.yaml",
        1,
        ("line 7", "'inclusion.diagnosis.window[0]'", "not a boolean"),
    ),
    # ranges for every number
    BadSpec(
        "landmarks_negative.yaml",
        1,
        ("line 6", "'outcomes.landmarks_months[0]'", "greater than or equal to 0", "(got -6)"),
    ),
    BadSpec(
        "landmarks_huge.yaml",
        1,
        ("line 6", "'outcomes.landmarks_months[2]'", "1200", "(got 1000000)"),
    ),
    BadSpec(
        "landmark_as_exponent_text.yaml",
        1,
        ("line 6", "'outcomes.landmarks_months[1]'", "valid number", "(got '1e6')"),
    ),
    BadSpec("age_min_negative.yaml", 1, ("line 6", "'inclusion.age.min'", "(got -5)")),
    BadSpec("age_max_above_120.yaml", 1, ("line 6", "'inclusion.age.max'", "120", "(got 500)")),
    BadSpec("age_bands_above_120.yaml", 1, ("line 5", "'age_bands[1]'", "120", "(got 200)")),
    BadSpec("age_band_infinite.yaml", 1, ("line 5", "'age_bands[1]'", "finite number")),
    BadSpec("anc_threshold_nan.yaml", 1, ("line 7", "'outcomes.response.anc_full'", "finite")),
    BadSpec(
        "blasts_above_100_percent.yaml",
        1,
        ("line 7", "'outcomes.response.marrow_blasts_max_pct'", "100", "(got 150)"),
    ),
    BadSpec("mrd_threshold_zero.yaml", 1, ("line 6", "'outcomes.mrd_threshold_pct'", "(got 0)")),
    BadSpec(
        "weight_threshold_huge.yaml",
        1,
        ("line 7", "'patterns.dose.weight_threshold_kg'", "(got 5000)"),
    ),
    BadSpec(
        "duration_buckets_zero.yaml",
        1,
        ("line 6", "'patterns.duration_buckets[0]'", "greater than 0"),
    ),
    BadSpec(
        "early_death_days_negative.yaml",
        1,
        ("line 6", "'safety.early_death_days[0]'", "(got -30)"),
    ),
    # lists whose emptiness has no meaning
    BadSpec(
        "duration_buckets_empty.yaml",
        1,
        ("line 6", "'patterns.duration_buckets'", "at least 1 item"),
    ),
    BadSpec("age_bands_empty.yaml", 1, ("line 6", "'age_bands'", "at least 1 item")),
    # group names: reserved, colliding without regard to case, blank
    BadSpec(
        "group_named_overall.yaml",
        1,
        ("line 2", "'index_groups'", "group name 'overall' is reserved"),
    ),
    BadSpec(
        "group_named_overall_upper_case.yaml",
        1,
        ("line 2", "group name 'OVERALL' is reserved"),
    ),
    BadSpec(
        "groups_differ_in_case.yaml",
        1,
        ("line 2", "group names 'BLIN' and 'blin' differ only in case"),
    ),
    BadSpec("group_name_blank.yaml", 1, ("line 2", "a group name is empty")),
    # vocabulary paths: regular files only (a folder, /dev/zero)
    BadSpec(
        "vocabulary_path_folder.yaml",
        1,
        ("line 6", "'vocabulary.paths'", "is a folder; give a YAML file"),
    ),
    BadSpec(
        "vocabulary_path_device.yaml",
        1,
        ("line 6", "'/dev/zero' is not a regular file"),
    ),
    BadSpec(
        "does_not_exist.yaml",
        2,
        ("does_not_exist.yaml", "does not exist"),
    ),
)


def _params(*, run: bool) -> list[object]:
    out = []
    for bad in BAD_SPECS:
        defect = bad.defect or (bad.run_defect if run else None)
        marks = [pytest.mark.xfail(reason=defect, strict=True)] if defect else []
        out.append(pytest.param(bad, id=bad.file.removesuffix(".yaml"), marks=marks))
    return out


def test_every_committed_spec_has_an_expectation() -> None:
    committed = {p.name for p in SPECS.iterdir()}
    listed = {b.file for b in BAD_SPECS}
    assert committed == listed - {"does_not_exist.yaml"}
    assert len(committed) >= 60


@pytest.mark.parametrize("bad", _params(run=False))
def test_load_spec_names_field_and_line(bad: BadSpec) -> None:
    path = SPECS / bad.file
    with pytest.raises(AllrweError) as info:
        load_spec(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in bad.fragments:
        assert fragment in message
    assert info.value.exit_code == bad.exit_code


@pytest.mark.parametrize("bad", _params(run=True))
def test_run_refuses_the_spec_and_writes_nothing(
    bad: BadSpec, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    url = example_source(tmp_path_factory, "duckdb")
    out = tmp_path / "out"
    path = SPECS / bad.file
    code, stdout, stderr = cli("run", str(path), "--cdm", url, "--out", str(out))
    assert "Traceback" not in stdout + stderr
    assert code == bad.exit_code, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("error: ")
    assert str(path) in last
    for fragment in bad.fragments:
        assert fragment in last
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder", ["[draft]", "[/old]"])
def test_brackets_in_a_spec_path_are_printed_not_parsed(
    folder: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    path = tmp_path / folder / "study.yaml"
    path.parent.mkdir(parents=True)
    path.write_bytes((SPECS / "misspelt_field.yaml").read_bytes())
    url = example_source(tmp_path_factory, "duckdb")
    code, stdout, stderr = cli("run", str(path), "--cdm", url, "--out", str(tmp_path / "out"))
    assert "Traceback" not in stdout + stderr
    assert code == 1
    assert f"error: {path}, line 5: unknown field 'min_cel_count'" in stderr


def _alias_bomb(levels: int) -> str:
    lines = ["name: bomb", "index_groups: {BLIN: [blinatumomab]}"]
    lines.append("study_period: {start: 2020-01-01, end: 2022-12-31}")
    lines.append('a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]')
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(3), encoding="utf-8")
    with pytest.raises(AllrweError, match=r"line \d+.*(alias|anchor)"):
        load_spec(path)
