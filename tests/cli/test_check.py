"""``allrwe check``: exit codes, one-line reasons, JSON, read-only access."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pytest

from allrwe.cli.app import main
from cdm_files import to_arrow
from mini_cdm import base_cdm, death


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def clinical_nine() -> dict:
    cdm = base_cdm()
    cdm["visit_occurrence"] = [
        {
            "visit_occurrence_id": 1,
            "person_id": 1,
            "visit_concept_id": 9202,
            "visit_start_date": "2020-01-01",
            "visit_end_date": "2020-01-01",
            "visit_type_concept_id": 32817,
        }
    ]
    cdm["procedure_occurrence"] = [
        {
            "procedure_occurrence_id": 1,
            "person_id": 2,
            "procedure_concept_id": 2108456,
            "procedure_date": "2021-03-01",
            "procedure_type_concept_id": 32817,
        }
    ]
    cdm["death"] = [death(3, "2022-12-31")]
    return cdm


def test_valid_cdm_of_the_nine_clinical_tables_exits_0(tmp_cdm, capsys):
    code, out, err = run(capsys, "--cdm", tmp_cdm(clinical_nine()))
    assert code == 0
    assert err == ""
    assert "passes the check: 0 error(s), 0 warning(s)" in " ".join(out.split())


def test_missing_person_exits_1_naming_it(tmp_cdm, capsys):
    cdm = base_cdm()
    del cdm["person"]
    code, out, err = run(capsys, "--cdm", tmp_cdm(cdm))
    assert code == 1
    assert err.count("\n") == 1
    assert "required table 'person' is missing" in err
    assert "missing_table" in out


def test_missing_required_column_exits_1(tmp_cdm, capsys):
    cdm = base_cdm()
    for row in cdm["measurement"]:
        del row["measurement_date"]
    code, _, err = run(capsys, "--cdm", tmp_cdm(cdm))
    assert code == 1
    assert "measurement has no required column 'measurement_date'" in err


def test_drug_ending_before_start_exits_1_with_the_row_count(tmp_cdm, capsys):
    cdm = base_cdm()
    for row in cdm["drug_exposure"]:
        row["drug_exposure_end_date"] = "2019-06-01"
    code, _, err = run(capsys, "--cdm", tmp_cdm(cdm))
    assert code == 1
    assert (
        "2 drug_exposure rows end (drug_exposure_end_date) before they start "
        "(drug_exposure_start_date)" in err
    )


def test_warnings_alone_exit_0(tmp_cdm, capsys):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["quantity"] = -1.0
    code, out, err = run(capsys, "--cdm", tmp_cdm(cdm))
    assert code == 0
    assert err == ""
    assert "negative_quantity" in out


@pytest.mark.parametrize(
    "url",
    ["mysql://host/db", "ftp:///tmp/x"],
)
def test_unknown_scheme_exits_2_in_one_line(capsys, url):
    code, out, err = run(capsys, "--cdm", url)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "unknown URL scheme" in err


@pytest.mark.parametrize(
    "url",
    ["duckdb://{tmp}/absent.duckdb", "parquet://{tmp}/absent", "{tmp}/absent.duckdb"],
)
def test_missing_path_exits_2(tmp_path, capsys, url):
    code, out, err = run(capsys, "--cdm", url.format(tmp=tmp_path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "does not exist" in err


def test_parquet_person_id_as_text_exits_1_naming_table_and_column(tmp_cdm, capsys):
    cdm = base_cdm()
    person = to_arrow("person", cdm["person"])
    cdm["person"] = person.set_column(0, "person_id", person["person_id"].cast(pa.string()))
    code, out, err = run(capsys, "--cdm", tmp_cdm(cdm, kind="parquet"))
    assert code == 1
    assert "person.person_id is stored as string; integer expected" in err
    assert "column_type" in out


def test_json_report(tmp_cdm, capsys):
    cdm = base_cdm()
    cdm["drug_exposure"][0]["drug_exposure_end_date"] = "2019-06-01"
    cdm["measurement"][0]["value_as_number"] = -2.0
    code, out, err = run(capsys, "--cdm", tmp_cdm(cdm), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False
    assert report["summary"] == {"error": 1, "warning": 1, "info": 0}
    assert [
        (f["severity"], f["rule"], f["table"], f["column"], f["rows"]) for f in report["findings"]
    ] == [
        ("error", "end_before_start", "drug_exposure", "drug_exposure_end_date", 1),
        ("warning", "negative_lab_value", "measurement", "value_as_number", 1),
    ]
    assert "end_before_start" not in err or err.count("\n") == 1


def test_vocab_file_changes_the_lab_rules(tmp_cdm, capsys, tmp_path):
    cdm = base_cdm()
    cdm["measurement"][0]["unit_concept_id"] = 8713  # g/dL: no unit of ANC
    url = tmp_cdm(cdm)
    code, out, _ = run(capsys, "--cdm", url, "--json")
    assert code == 0
    assert [f["rule"] for f in json.loads(out)["findings"]] == ["unexpected_unit"]
    site = tmp_path / "site.yaml"
    site.write_text(
        "concept_sets:\n  anc:\n    label: ANC\n    domain: measurement\n    category: lab\n"
        "    unit_concept_id: 8713\n    concepts:\n"
        "      - {concept_id: 3013650, concept_name: ANC, vocabulary_id: LOINC}\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "--cdm", url, "--json", "--vocab", str(site))
    assert code == 0
    assert json.loads(out)["findings"] == []


def test_check_opens_the_duckdb_file_read_only(tmp_cdm, capsys):
    url = tmp_cdm(clinical_nine())
    path = Path(url.removeprefix("duckdb://"))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    files_before = sorted(p.name for p in path.parent.iterdir())
    code, _, _ = run(capsys, "--cdm", url)
    assert code == 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in path.parent.iterdir()) == files_before


def test_unreadable_database_exits_2(tmp_path, capsys):
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"this is not a database" * 100)
    code, out, err = run(capsys, "--cdm", f"duckdb://{broken}")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "cannot open DuckDB file" in err


def test_folder_without_parquet_exits_2(tmp_path, capsys):
    code, _, err = run(capsys, "--cdm", f"parquet://{tmp_path}")
    assert code == 2
    assert "holds no <table>.parquet file or folder" in err
