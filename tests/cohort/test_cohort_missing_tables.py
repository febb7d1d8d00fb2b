"""A CDM without optional tables (claims data: no `measurement`) still builds cohorts."""

from __future__ import annotations

from pathlib import Path

from allrwe.cohort import Cohort, build_cohort
from allrwe.cohort.events import measurement_values
from allrwe.io import connect
from allrwe.io.example import example_cdm_path
from allrwe.io.vocabulary import load_vocabulary
from allrwe.spec import load_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _without_measurement(tmp_path: Path) -> tuple[str, Cohort]:
    url = example_cdm_path("parquet", tmp_path)
    folder = Path(url.split("://", 1)[1])
    with_labs = connect(url)
    expected = build_cohort(
        with_labs, load_spec(EXAMPLES / "seed000_claims_patterns.yaml"), load_vocabulary()
    )
    with_labs.close()
    (folder / "measurement.parquet").unlink()
    return url, expected


def test_cohort_builds_without_measurement_table(tmp_path: Path) -> None:
    url, expected = _without_measurement(tmp_path)
    vocab = load_vocabulary()
    with connect(url) as source:
        assert not source.has("measurement")
        cohort = build_cohort(source, load_spec(EXAMPLES / "seed000_claims_patterns.yaml"), vocab)
        labs = source.execute(measurement_values(source, vocab, cohort, ["anc", "mrd"]))
    assert len(labs) == 0
    assert list(labs.columns)[:3] == ["person_id", "concept_set", "record_id"]
    # The claims spec reads no labs for entry, so the cohort is the same with or without them.
    assert sorted(cohort.frame["person_id"]) == sorted(expected.frame["person_id"])
    assert len(cohort) > 0
