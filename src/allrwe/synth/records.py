"""Write a chunk's clinical events as CDM rows (the conventions of docs/cdm-conventions.md)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from allrwe.synth.clinical import ClinicalChunk
from allrwe.synth.concepts import (
    CAUSE_NAMES,
    FEMALE,
    MALE,
    TYPE_CLAIM,
    TYPE_EHR,
    TYPE_EHR_ADMINISTRATION,
    TYPE_PHARMACY_CLAIM,
    Concepts,
)
from allrwe.synth.frames import NA, Tables
from allrwe.synth.params import SynthParams
from allrwe.synth.timeline import KIND_DISPENSE, Status

__all__ = ["TypeConcepts", "clinical_rows", "text_maps", "type_concepts", "year_of"]

IntArray = npt.NDArray[np.int64]


class TypeConcepts:
    """Type concepts of a data source (claims or EHR)."""

    def __init__(self, data_type: str) -> None:
        claims = data_type == "claims"
        self.record = TYPE_CLAIM if claims else TYPE_EHR
        self.administration = TYPE_CLAIM if claims else TYPE_EHR_ADMINISTRATION
        self.dispensing = TYPE_PHARMACY_CLAIM if claims else TYPE_EHR


def type_concepts(params: SynthParams) -> TypeConcepts:
    """Type concepts for the profile's data source."""
    return TypeConcepts(params.recording.data_type)


def year_of(days: IntArray) -> IntArray:
    """Calendar year of dates given as days since 1970-01-01."""
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def _condition_concepts(
    chunk: ClinicalChunk, concepts: Concepts, owner: IntArray, status: IntArray, concept: IntArray
) -> IntArray:
    pts = chunk.pts
    gen_keys = list(concepts.genetics)
    gen_ids = np.array([concepts.genetics[k] for k in gen_keys] or [0], dtype=np.int64)
    ph = np.where(pts.ph[owner], concepts.ph_positive, concepts.ph_negative)
    return np.select(
        [
            status == Status.RELAPSE,
            status == Status.REFRACTORY,
            status == Status.REMISSION,
            status == Status.PH,
            status == Status.GENETICS,
            status == Status.CNS,
            status == Status.REPEAT_DIAGNOSIS,
            status == Status.CHEMO_INTOLERANCE,
        ],
        [
            concepts.relapse,
            concepts.refractory,
            concepts.remission,
            ph,
            gen_ids[np.maximum(pts.genetics[owner], 0)],
            concepts.cns,
            pts.dx_concept[owner],
            concepts.chemo_intolerance,
        ],
        concept,
    )


def _repeat_diagnoses(chunk: ClinicalChunk, every: int) -> tuple[IntArray, IntArray]:
    """One ALL diagnosis per ``every``-day window of ALL-care visits after the diagnosis day."""
    visits = chunk.tl.events("visit")
    if not len(visits) or every <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    owner, start = visits["owner"], visits["start"]
    after = start > chunk.pts.d0[owner]
    owner, start = owner[after], start[after]
    window = (start - chunk.pts.d0[owner]) // every
    order = np.lexsort((start, window, owner))
    owner, start, window = owner[order], start[order], window[order]
    first = np.ones(owner.size, dtype=bool)
    first[1:] = (owner[1:] != owner[:-1]) | (window[1:] != window[:-1])
    return owner[first], start[first]


def clinical_rows(
    chunk: ClinicalChunk, tables: Tables, params: SynthParams, concepts: Concepts
) -> None:
    """Append the ALL patients' CDM rows (all but background care) to ``tables``."""
    pts = chunk.pts
    pid = pts.pid
    types = type_concepts(params)
    ref_day = np.where(pts.novel, pts.index, pts.d0)
    tables["person"].add(
        person_id=pid,
        gender_concept_id=np.where(pts.male, MALE, FEMALE),
        year_of_birth=year_of(ref_day) - np.floor(pts.age).astype(np.int64),
        race_concept_id=0,
        ethnicity_concept_id=0,
    )
    tables["observation_period"].add(
        person_id=pid,
        observation_period_start_date=pts.obs_start,
        observation_period_end_date=pts.obs_end,
        period_type_concept_id=types.record,
    )
    tl = chunk.tl
    drug = tl.events("drug")
    if len(drug):
        tables["drug_exposure"].add(
            person_id=pid[drug["owner"]],
            drug_concept_id=drug["concept"],
            drug_exposure_start_date=drug["start"],
            drug_exposure_end_date=drug["end"],
            drug_type_concept_id=np.where(
                drug["kind"] == KIND_DISPENSE, types.dispensing, types.administration
            ),
            quantity=drug["quantity"].astype(np.float64),
            days_supply=drug["days_supply"],
        )
    proc = tl.events("procedure")
    if len(proc):
        tables["procedure_occurrence"].add(
            person_id=pid[proc["owner"]],
            procedure_concept_id=proc["concept"],
            procedure_date=proc["date"],
            procedure_type_concept_id=types.record,
        )
    visits = tl.events("visit")
    if len(visits):
        tables["visit_occurrence"].add(
            person_id=pid[visits["owner"]],
            visit_concept_id=visits["concept"],
            visit_start_date=visits["start"],
            visit_end_date=visits["end"],
            visit_type_concept_id=types.record,
        )
    _condition_rows(chunk, tables, params, concepts, types.record)
    if params.recording.labs:
        meas = tl.events("measurement")
        if len(meas):
            tables["measurement"].add(
                person_id=pid[meas["owner"]],
                measurement_concept_id=meas["concept"],
                measurement_date=meas["date"],
                measurement_type_concept_id=types.record,
                value_as_number=meas["value"].astype(np.float64),
                unit_concept_id=meas["unit"],
            )
    if params.recording.adverse_events and chunk.aes["owner"].size:
        terms = np.array(list(concepts.ae.values()), dtype=np.int64)
        aes = chunk.aes
        tables["observation"].add(
            person_id=pid[aes["owner"]],
            observation_concept_id=terms[aes["term"]],
            observation_date=aes["date"],
            observation_type_concept_id=types.record,
            value_as_number=aes["grade"].astype(np.float64),
        )
    dead = np.flatnonzero(chunk.death_recorded)
    tables["death"].add(
        person_id=pid[dead],
        death_date=chunk.out.death[dead],
        death_type_concept_id=types.record,
        cause_concept_id=chunk.out.cause[dead],
    )


def _condition_rows(
    chunk: ClinicalChunk, tables: Tables, params: SynthParams, concepts: Concepts, typ: int
) -> None:
    pid = chunk.pts.pid
    cond = chunk.tl.events("condition")
    owner, status, date = cond["owner"], cond["status"], cond["date"]
    keep = cond["recorded"].astype(bool)
    rep_owner, rep_date = _repeat_diagnoses(chunk, params.recording.diagnosis_repeat_days)
    owner = np.concatenate([owner[keep], rep_owner])
    date = np.concatenate([date[keep], rep_date])
    concept = np.concatenate([cond["concept"][keep], chunk.pts.dx_concept[rep_owner]])
    status = np.concatenate([status[keep], np.full(rep_owner.size, Status.REPEAT_DIAGNOSIS)])
    cid = _condition_concepts(chunk, concepts, owner, status, concept)
    # findings whose standard concept is in the Observation domain go where an ETL puts them
    obs = np.isin(cid, list(concepts.observation_findings)) & (status == Status.GENETICS)
    if obs.any():
        tables["observation"].add(
            person_id=pid[owner[obs]],
            observation_concept_id=cid[obs],
            observation_date=date[obs],
            observation_type_concept_id=typ,
            value_as_number=np.full(int(obs.sum()), np.nan),
        )
        owner, status, date, cid = owner[~obs], status[~obs], date[~obs], cid[~obs]
    is_dx = np.isin(status, (Status.DIAGNOSIS, Status.REPEAT_DIAGNOSIS))
    source = concepts.diagnosis_source if concepts.diagnosis_source is not None else NA
    tables["condition_occurrence"].add(
        person_id=pid[owner],
        condition_concept_id=cid,
        condition_start_date=date,
        condition_type_concept_id=typ,
        condition_source_concept_id=np.where(is_dx, source, NA),
    )


def text_maps(concepts: Concepts) -> dict[str, dict[str, tuple[str, dict[int, str]]]]:
    """Return the derived text columns of each table: source values from concept ids."""
    dx = {}
    if concepts.diagnosis_source is not None and concepts.diagnosis_source_value:
        dx[concepts.diagnosis_source] = concepts.diagnosis_source_value
    return {
        "drug_exposure": {"drug_source_value": ("drug_concept_id", concepts.drug_source_value)},
        "procedure_occurrence": {
            "procedure_source_value": ("procedure_concept_id", concepts.procedure_source_value)
        },
        "condition_occurrence": {"condition_source_value": ("condition_source_concept_id", dx)},
        "death": {
            "cause_source_value": (
                "cause_concept_id",
                {**CAUSE_NAMES, int(concepts.all_standard[0]): "acute lymphoblastic leukaemia"},
            )
        },
    }
