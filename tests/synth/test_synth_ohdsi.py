"""The ohdsi profile is shaped like a real OHDSI ETL (docs/synthetic-data.md, "ohdsi")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from synth_tables import days, truth

from allrwe.io import connect
from allrwe.io.check import check_cdm
from allrwe.io.vocabulary import load_vocabulary
from allrwe.synth import SynthResult, generate_cdm
from allrwe.synth.ohdsi import STANDIN_RANGE
from allrwe.synth.params import profile_text
from conftest import tree_digest

PLACEHOLDER_LOW = 2_000_000_000
_STANDARD_COLUMNS = {
    "condition_occurrence": "condition_concept_id",
    "drug_exposure": "drug_concept_id",
    "procedure_occurrence": "procedure_concept_id",
    "measurement": "measurement_concept_id",
    "observation": "observation_concept_id",
}
_SOURCE_COLUMNS = {
    "condition_occurrence": "condition_source_concept_id",
    "drug_exposure": "drug_source_concept_id",
    "procedure_occurrence": "procedure_source_concept_id",
    "measurement": "measurement_source_concept_id",
    "observation": "observation_source_concept_id",
}


def _t(res: SynthResult, table: str) -> pd.DataFrame:
    return pd.read_parquet(res.out / table)


def _first(key: str) -> int:
    s = load_vocabulary().concept_set(key)
    return next(c.concept_id for c in s.concepts if c.standard and not c.exclude)


def _concept(res: SynthResult) -> pd.DataFrame:
    return _t(res, "concept").set_index("concept_id")


def _code_id(res: SynthResult, vocabulary_id: str, code: str) -> int:
    c = _t(res, "concept")
    hit = c[(c.vocabulary_id == vocabulary_id) & (c.concept_code == code)]
    assert len(hit) == 1, (vocabulary_id, code)
    return int(hit.concept_id.iloc[0])


def test_standard_concepts_no_placeholder_where_a_standard_exists(ohdsi_cdm: SynthResult) -> None:
    concept = _concept(ohdsi_cdm)
    vocab = load_vocabulary()
    # sets whose only concepts are local placeholders (no standard id confirmed) keep them,
    # but for CAR-T administration and ICANS, whose real code the profile writes (stand-ins)
    local_only = {
        c.concept_id
        for key, s in vocab.sets.items()
        if key not in ("car_t_infusion", "icans")
        and all(c.concept_id >= PLACEHOLDER_LOW for c in s.concepts)
        for c in s.concepts
    }
    for table, col in _STANDARD_COLUMNS.items():
        ids = set(_t(ohdsi_cdm, table)[col].unique())
        local = {i for i in ids if i >= PLACEHOLDER_LOW}
        standins = {i for i in local if STANDIN_RANGE[0] <= i < STANDIN_RANGE[1]}
        assert local - standins <= local_only, table
        # every standard column holds standard concepts of the table's domain (or 0)
        described = concept.loc[sorted(ids - {0})]
        assert (described.standard_concept == "S").all(), table
        domain = table.split("_")[0].capitalize()
        assert set(described.domain_id) <= {domain}, table
    # allrwe's placeholders for CAR-T administration and ICANS are never written
    procedures = set(_t(ohdsi_cdm, "procedure_occurrence").procedure_concept_id)
    conditions = set(_t(ohdsi_cdm, "condition_occurrence").condition_concept_id)
    assert _first("car_t_infusion") not in procedures
    assert _code_id(ohdsi_cdm, "CPT4", "0540T") in procedures
    assert _first("icans") not in conditions
    assert _code_id(ohdsi_cdm, "SNOMED", "1230414002") in conditions


def test_vocabulary_tables_describe_every_concept_used(ohdsi_cdm: SynthResult) -> None:
    concept = _concept(ohdsi_cdm)
    used: set[int] = set()
    for table in (*_STANDARD_COLUMNS, "person", "visit_occurrence", "death", "cdm_source"):
        frame = _t(ohdsi_cdm, table)
        for col in frame.columns:
            if col.endswith("concept_id"):
                used |= {int(x) for x in frame[col].dropna().unique()}
    assert used <= set(concept.index)
    assert set(concept.index) == used | {0} or set(concept.index) == used
    rel = _t(ohdsi_cdm, "concept_relationship")
    assert set(rel.relationship_id) == {"Maps to"}
    maps = rel.groupby("concept_id_1").concept_id_2.agg(list)
    # each concept maps to exactly one standard concept (standard ones to themselves)
    assert (maps.map(len) == 1).all()
    targets = concept.loc[[m[0] for m in maps]]
    assert (targets.standard_concept == "S").all()
    sources = set()
    for table, col in _SOURCE_COLUMNS.items():
        sources |= set(_t(ohdsi_cdm, table)[col].dropna().unique()) - {0}
    unmapped = {s for s in sources if concept.loc[s, "vocabulary_id"] == "allrwe synthetic"}
    assert sources - unmapped <= set(maps.index)
    assert _code_id(ohdsi_cdm, "ICD10CM", "D89.833") in maps.index
    assert maps[_code_id(ohdsi_cdm, "ICD10CM", "D89.833")] == [_first("crs")]
    assert maps[_code_id(ohdsi_cdm, "HCPCS", "J9039")] == [_first("blinatumomab")]
    ancestor = _t(ohdsi_cdm, "concept_ancestor")
    standard = set(concept.index[concept.standard_concept == "S"]) - {0}
    selves = ancestor[ancestor.ancestor_concept_id == ancestor.descendant_concept_id]
    assert set(selves.ancestor_concept_id) == standard


def test_source_codes_of_diagnoses_drugs_procedures_and_labs(ohdsi_cdm: SynthResult) -> None:
    co = _t(ohdsi_cdm, "condition_occurrence")
    dx = co[co.condition_concept_id.isin(load_vocabulary().concept_ids("all_diagnosis"))]
    assert set(dx.condition_source_value) == {"C91.00"}
    relapse = co[co.condition_concept_id == _first("relapse")]
    assert set(relapse.condition_source_value) == {"C91.02"}
    assert len(relapse) > 20
    assert (co.condition_source_concept_id.notna()).all()
    de = _t(ohdsi_cdm, "drug_exposure")
    for key, code in (
        ("blinatumomab", "J9039"),
        ("inotuzumab_ozogamicin", "J9229"),
        ("tisagenlecleucel", "Q2042"),
        ("brexucabtagene_autoleucel", "Q2053"),
    ):
        mine = de[de.drug_concept_id == _first(key)]
        assert len(mine) > 0, key
        assert set(mine.drug_source_value) == {code}, key
    chemo = de[de.drug_concept_id == _first("vincristine")]
    assert set(chemo.drug_source_value) == {"11202"}
    po = _t(ohdsi_cdm, "procedure_occurrence")
    assert set(po[po.procedure_concept_id == _first("allo_hsct")].procedure_source_value) == {
        "38240"
    }
    assert set(po[po.procedure_concept_id >= PLACEHOLDER_LOW].procedure_source_value) == {"0540T"}
    # background care: unmapped local codes
    assert (po[po.procedure_concept_id == 0].procedure_source_value.str.startswith("BG-P")).all()
    m = _t(ohdsi_cdm, "measurement")
    platelets = m[m.measurement_concept_id == _first("platelets")]
    assert set(platelets.measurement_source_value) == {"777-3"}
    # background care, and Ph-like B-ALL: its standard concept is an Observation
    obs = _t(ohdsi_cdm, "observation")
    assert set(obs.observation_concept_id) == {0, _first("ph_like")}
    assert set(obs[obs.observation_concept_id == _first("ph_like")].observation_source_value) == {
        "783744003"
    }


def test_inotuzumab_quantity_in_hcpcs_units(ohdsi_cdm: SynthResult) -> None:
    root = str(ohdsi_cdm.out)
    de = _t(ohdsi_cdm, "drug_exposure").assign(start=lambda d: days(d.drug_exposure_start_date))
    ino = de[de.drug_concept_id == _first("inotuzumab_ozogamicin")]
    cycles = truth(root, "cycles")
    cycles = cycles[cycles.drug == "inotuzumab_ozogamicin"].assign(
        start=lambda d: days(d.start_date)
    )
    first = cycles.merge(ino, on=["person_id", "start"])
    assert len(first) > 30
    # J9229 bills 0.1 mg units: quantity = mg x 10
    assert np.allclose(first.quantity, first.dose_first * 10, atol=1e-6)
    blin = de[de.drug_concept_id == _first("blinatumomab")]
    b = truth(root, "cycles").query("drug == 'blinatumomab'")
    step_days = np.where(b.dose_first != b.dose_main, np.minimum(7, b.infusion_days), 0)
    want = b.dose_first * step_days + b.dose_main * (b.infusion_days - step_days)
    # J9039 bills 1 microgram units: quantity = µg
    assert blin.quantity.sum() == pytest.approx(want.sum(), rel=1e-9)


def test_labs_in_us_units(ohdsi_cdm: SynthResult) -> None:
    root = str(ohdsi_cdm.out)
    m = _t(ohdsi_cdm, "measurement").assign(day=lambda d: days(d.measurement_date))
    r = truth(root, "responses").assign(day=lambda d: days(d.assessment_date))
    for key, unit, factor in (("platelets", 8848, 1.0), ("anc", 8848, 1.0),
                              ("hemoglobin", 8713, 0.1)):  # fmt: skip
        sel = m[m.measurement_concept_id == _first(key)]
        assert set(sel.unit_concept_id) == {unit}, key
        got = r.merge(sel, on=["person_id", "day"]).drop_duplicates(["person_id", "day"])
        assert len(got) > 100
        assert np.allclose(got.value_as_number, got[key] * factor), key
    assert set(m[m.unit_concept_id == 8713].unit_source_value) == {"g/dL"}


def test_gaps_missing_weights_and_drug_end_dates(ohdsi_cdm: SynthResult) -> None:
    m = _t(ohdsi_cdm, "measurement")
    height = (m.measurement_concept_id == _first("height")).sum()
    weight = (m.measurement_concept_id == _first("weight")).sum()
    # heights and weights are measured together; 15 % of the weights are missing
    assert 0.75 < weight / height < 0.95
    de = _t(ohdsi_cdm, "drug_exposure")
    admin = de[de.drug_type_concept_id == 32818]
    missing = admin.drug_exposure_end_date.isna()
    assert 0.07 < missing.mean() < 0.13
    assert admin[missing].days_supply.notna().all()
    assert de[de.drug_type_concept_id != 32818].drug_exposure_end_date.notna().all()


def test_adverse_events_are_conditions_graded_only_by_their_code(ohdsi_cdm: SynthResult) -> None:
    aes = truth(str(ohdsi_cdm.out), "aes")
    co = _t(ohdsi_cdm, "condition_occurrence")
    crs = co[co.condition_concept_id == _first("crs")]
    assert set(crs.condition_source_value) <= {f"D89.83{g}" for g in (1, 2, 3, 4, 5, 9)}
    graded = aes[aes.grade_recorded]
    assert set(graded.term) == {"crs", "icans"}
    n_crs = (aes.term == "crs").sum()
    assert len(crs) == n_crs > 20
    # 20 % coded without a grade (D89.839)
    assert 0.05 < (crs.condition_source_value == "D89.839").mean() < 0.4


def test_check_finds_only_the_missing_end_dates(ohdsi_cdm: SynthResult) -> None:
    with connect(ohdsi_cdm.cdm_url) as source:
        report = check_cdm(source, today=dt.date(2100, 1, 1))
    # the profile's missing drug end dates are a warning (the reader fills them in), no error
    assert [f for f in report.findings if f.severity == "error"] == []
    warnings = {(f.rule, f.table, f.column) for f in report.findings if f.severity == "warning"}
    assert warnings == {("null_required", "drug_exposure", "drug_exposure_end_date")}


def _clinical_params() -> dict[str, Any]:
    data = yaml.safe_load(profile_text("ohdsi"))
    for key in ("name", "description", "recording"):
        data.pop(key)
    return data


def test_the_same_patients_as_the_emr_profile(tmp_path: Path) -> None:
    params = _clinical_params() | {"population": {"all_patients": 60}}
    emr = generate_cdm(tmp_path / "emr", persons=600, seed=4, profile="emr", params=params)
    oh = generate_cdm(tmp_path / "oh", persons=600, seed=4, profile="ohdsi",
                      params={"population": {"all_patients": 60}})  # fmt: skip
    for table in ("patients", "cycles", "responses", "aes"):
        a = pd.read_parquet(emr.truth[f"truth_{table}"]).drop(
            columns=["profile", "grade_recorded"], errors="ignore"
        )
        b = pd.read_parquet(oh.truth[f"truth_{table}"]).drop(
            columns=["profile", "grade_recorded"], errors="ignore"
        )
        pd.testing.assert_frame_equal(a, b)
    assert emr.all_patients == oh.all_patients == 60


def test_ohdsi_bytes_do_not_depend_on_the_chunk_size(tmp_path: Path) -> None:
    params = {"population": {"all_patients": 80}}
    a = generate_cdm(tmp_path / "a", persons=2100, seed=9, profile="ohdsi", params=params)
    b = generate_cdm(tmp_path / "b", persons=2100, seed=9, profile="ohdsi", params=params,
                     chunk_size=1024)  # fmt: skip
    assert tree_digest(a.out) == tree_digest(b.out)
