"""Ground truth beside the CDM: what was simulated, in the terms the studies count.

Four tables, each sorted by person: ``truth_patients`` (one row per ALL patient),
``truth_cycles`` (novel-agent cycles completed within observation), ``truth_responses`` (index
response assessments) and ``truth_aes`` (adverse events). Record-based flags (prior
chemotherapy, sequences) are computed from the very records written to the CDM, with the
definitions of docs/synthetic-data.md. Events after the end of observation are not part of the
data and appear as null.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from allrwe.synth.aes import AE_CONTEXTS
from allrwe.synth.clinical import ClinicalChunk
from allrwe.synth.concepts import CAUSE_TRM, Concepts
from allrwe.synth.frames import NA
from allrwe.synth.index import RESPONSES
from allrwe.synth.params import INDEX_DRUGS, SUBSEQUENT_CLASSES
from allrwe.synth.patients import BLIN, INO

__all__ = ["EFS_LANDMARK_DAYS", "TRUTH_SCHEMAS", "TRUTH_TABLES", "truth_tables"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: EFS treatment failure: no CR/CRh/CRi within 12 weeks of the index date (seed 001)
EFS_LANDMARK_DAYS = 84
TRUTH_TABLES = ("truth_patients", "truth_cycles", "truth_responses", "truth_aes")
_DATE, _INT, _F, _B, _S = pa.date32(), pa.int64(), pa.float64(), pa.bool_(), pa.string()
TRUTH_SCHEMAS: dict[str, pa.Schema] = {
    "truth_patients": pa.schema(
        [
            ("person_id", _INT),
            ("profile", _S),
            ("lineage", _S),
            ("novel_agent", _B),
            ("sex", _S),
            ("age_at_index", _F),
            ("height_cm", _F),
            ("weight_kg", _F),
            ("bsa_m2", _F),
            ("diagnosis_date", _DATE),
            ("observation_start_date", _DATE),
            ("setting", _S),
            ("disease_status_at_index", _S),
            ("ph_status", _S),
            ("genetic_feature", _S),
            ("cns_involvement", _B),
            ("prior_lines", _INT),
            ("prior_chemo", _B),
            ("prior_hsct", _B),
            ("prior_cart", _B),
            ("prior_ino", _B),
            ("prior_blin", _B),
            ("index_drug", _S),
            ("index_date", _DATE),
            ("line_at_index", _INT),
            ("n_cycles", _INT),
            ("index_end_date", _DATE),
            ("treatment_duration_days", _INT),
            ("discontinued_early", _B),
            ("best_response", _S),
            ("best_response_date", _DATE),
            ("first_remission_date", _DATE),
            ("mrd_measured", _B),
            ("mrd_negative", _B),
            ("mrd_negative_date", _DATE),
            ("relapse_date", _DATE),
            ("hsct_date", _DATE),
            ("cart_date", _DATE),
            ("subsequent_first_class", _S),
            ("subsequent_first_date", _DATE),
            ("ino_then_blin", _B),
            ("blin_then_ino", _B),
            ("death_date", _DATE),
            ("death_recorded", _B),
            ("death_cause", _S),
            ("last_contact_date", _DATE),
            ("efs_event", _B),
            ("efs_time_days", _INT),
            ("os_event", _B),
            ("os_time_days", _INT),
        ]
    ),
    "truth_cycles": pa.schema(
        [
            ("person_id", _INT),
            ("drug", _S),
            ("is_index", _B),
            ("cycle", _INT),
            ("start_date", _DATE),
            ("end_date", _DATE),
            ("n_records", _INT),
            ("infusion_days", _INT),
            ("interruption_start_date", _DATE),
            ("interruption_days", _INT),
            ("discontinued_early", _B),
            ("dose_first", _F),
            ("dose_main", _F),
            ("dose_unit", _S),
        ]
    ),
    "truth_responses": pa.schema(
        [
            ("person_id", _INT),
            ("drug", _S),
            ("cycle", _INT),
            ("assessment_date", _DATE),
            ("response", _S),
            ("mrd_value", _F),
            ("mrd_negative", _B),
            ("marrow_blasts", _F),
            ("anc", _F),
            ("platelets", _F),
            ("wbc", _F),
            ("hemoglobin", _F),
        ]
    ),
    "truth_aes": pa.schema(
        [
            ("person_id", _INT),
            ("term", _S),
            ("grade", _INT),
            ("onset_date", _DATE),
            ("context", _S),
            ("grade_recorded", _B),
        ]
    ),
}


def _date(values: IntArray) -> pa.Array:
    v = np.asarray(values, dtype=np.int64)
    return pa.array(v.astype(np.int32), type=pa.date32(), mask=v == NA)


def _labels(codes: IntArray, labels: tuple[str, ...] | list[str], mask: BoolArray) -> pa.Array:
    return pa.array(np.asarray(labels, dtype=object)[np.maximum(codes, 0)], type=_S, mask=mask)


def _first_dates(owner: IntArray, date: IntArray, sel: BoolArray, n: int) -> IntArray:
    out = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(out, owner[sel], date[sel])
    return np.where(out == np.iinfo(np.int64).max, NA, out)


def _record_flags(chunk: ClinicalChunk, concepts: Concepts) -> dict[str, BoolArray]:
    pts = chunk.pts
    n = pts.n
    drug = chunk.tl.events("drug")
    proc = chunk.tl.events("procedure")
    index = np.where(pts.novel, pts.index, np.iinfo(np.int64).min)
    out: dict[str, BoolArray] = {}
    if len(drug):
        o, c, s = drug["owner"], drug["concept"], drug["start"]
        chemo = np.isin(c, concepts.chemotherapy) & (s < index[o])
        out["prior_chemo"] = np.bincount(o[chemo], minlength=n) > 0
        ino = _first_dates(o, s, c == concepts.drug["inotuzumab_ozogamicin"], n)
        blin = _first_dates(o, s, c == concepts.drug["blinatumomab"], n)
    else:
        out["prior_chemo"] = np.zeros(n, dtype=bool)
        ino = blin = np.full(n, NA, dtype=np.int64)
    out["prior_ino"] = (ino != NA) & (ino < index)
    out["prior_blin"] = (blin != NA) & (blin < index)
    out["ino_then_blin"] = pts.novel & (pts.drug == INO) & (blin != NA) & (ino != NA) & (blin > ino)
    out["blin_then_ino"] = (
        pts.novel & (pts.drug == BLIN) & (ino != NA) & (blin != NA) & (ino > blin)
    )
    for key, cid in (("prior_hsct", concepts.hsct), ("prior_cart", concepts.cart)):
        if len(proc):
            sel = (proc["concept"] == cid) & (proc["date"] < index[proc["owner"]])
            out[key] = np.bincount(proc["owner"][sel], minlength=n) > 0
        else:
            out[key] = np.zeros(n, dtype=bool)
    return out


def _within(dates: IntArray, obs_end: IntArray) -> IntArray:
    return np.where((dates != NA) & (dates <= obs_end), dates, NA)


def _patients(chunk: ClinicalChunk, concepts: Concepts, profile: str) -> pa.Table:
    pts, idx, out = chunk.pts, chunk.idx, chunk.out
    n = pts.n
    novel = pts.novel
    not_novel = ~novel
    flags = _record_flags(chunk, concepts)
    end = pts.obs_end
    relapse = _within(out.relapse, end)
    death = _within(out.death, end)
    first_date = _within(out.first_date, end)
    first_class = np.where(first_date == NA, 0, out.first_class)
    failure = (idx.first_remission == NA) | (idx.first_remission - pts.index > EFS_LANDMARK_DAYS)
    event_day = np.minimum(
        np.where(relapse == NA, np.iinfo(np.int64).max, relapse),
        np.where(death == NA, np.iinfo(np.int64).max, death),
    )
    has_event = event_day != np.iinfo(np.int64).max
    efs_event = failure | has_event
    efs_time = np.where(failure, 1, np.where(has_event, event_day, end) - pts.index)
    os_time = np.where(death != NA, death, end) - pts.index
    cause = (out.cause == CAUSE_TRM).astype(np.int64)
    cols: dict[str, pa.Array] = {
        "person_id": pa.array(pts.pid),
        "profile": pa.array([profile] * n, type=_S),
        "lineage": _labels(pts.t_lineage.astype(np.int64), ("B", "T"), np.zeros(n, bool)),
        "novel_agent": pa.array(novel),
        "sex": _labels((~pts.male).astype(np.int64), ("male", "female"), np.zeros(n, bool)),
        "age_at_index": pa.array(np.round(pts.age, 2)),
        "height_cm": pa.array(pts.height),
        "weight_kg": pa.array(pts.weight),
        "bsa_m2": pa.array(pts.bsa),
        "diagnosis_date": _date(pts.d0),
        "observation_start_date": _date(pts.obs_start),
        "setting": _labels(pts.rr.astype(np.int64), ("ND", "RR"), not_novel),
        "disease_status_at_index": _labels(
            pts.in_cr.astype(np.int64), ("induction", "consolidation"), not_novel
        ),
        "ph_status": _labels(
            (~pts.ph).astype(np.int64), ("positive", "negative"), np.zeros(n, bool)
        ),
        "genetic_feature": _labels(pts.genetics, list(concepts.genetics) or [""], pts.genetics < 0),
        "cns_involvement": pa.array(pts.cns),
        "prior_lines": pa.array(pts.lines, mask=not_novel),
    }
    for key in ("prior_chemo", "prior_hsct", "prior_cart", "prior_ino", "prior_blin"):
        cols[key] = pa.array(flags[key], mask=not_novel)
    best = idx.best
    cols |= {
        "index_drug": _labels(pts.drug, list(INDEX_DRUGS), not_novel),
        "index_date": _date(pts.index),
        "line_at_index": pa.array(pts.lines + 1, mask=not_novel),
        "n_cycles": pa.array(idx.n_cycles, mask=not_novel),
        "index_end_date": _date(idx.end),
        "treatment_duration_days": pa.array(idx.end - pts.index + 1, mask=not_novel),
        "discontinued_early": pa.array(idx.early, mask=not_novel),
        "best_response": _labels(best, list(RESPONSES), not_novel),
        "best_response_date": _date(idx.best_date),
        "first_remission_date": _date(idx.first_remission),
        "mrd_measured": pa.array(idx.mrd_measured, mask=not_novel),
        "mrd_negative": pa.array(idx.mrd_negative_date != NA, mask=not_novel | ~idx.mrd_measured),
        "mrd_negative_date": _date(idx.mrd_negative_date),
        "relapse_date": _date(relapse),
        "hsct_date": _date(_within(out.hsct_date, end)),
        "cart_date": _date(_within(out.cart_date, end)),
        "subsequent_first_class": _labels(first_class, list(SUBSEQUENT_CLASSES), not_novel),
        "subsequent_first_date": _date(first_date),
        "ino_then_blin": pa.array(flags["ino_then_blin"], mask=not_novel),
        "blin_then_ino": pa.array(flags["blin_then_ino"], mask=not_novel),
        "death_date": _date(death),
        "death_recorded": pa.array(chunk.death_recorded),
        "death_cause": _labels(cause, ("progression", "treatment-related"), death == NA),
        "last_contact_date": _date(end),
        "efs_event": pa.array(efs_event, mask=not_novel),
        "efs_time_days": pa.array(efs_time, mask=not_novel),
        "os_event": pa.array(death != NA, mask=not_novel),
        "os_time_days": pa.array(os_time, mask=not_novel),
    }
    return pa.Table.from_pydict(cols, schema=TRUTH_SCHEMAS["truth_patients"])


def _cycles(chunk: ClinicalChunk) -> pa.Table:
    c = chunk.cycles
    schema = TRUTH_SCHEMAS["truth_cycles"]
    if not c:
        return schema.empty_table()
    keep = c["end"] <= chunk.pts.obs_end[c["owner"]]
    c = {k: v[keep] for k, v in c.items()}
    order = np.lexsort((c["cycle"], c["drug"], c["start"], c["owner"]))
    c = {k: v[order] for k, v in c.items()}
    n = c["owner"].size
    blin = c["drug"] == BLIN
    return pa.Table.from_pydict(
        {
            "person_id": pa.array(chunk.pts.pid[c["owner"]]),
            "drug": _labels(c["drug"], list(INDEX_DRUGS), np.zeros(n, bool)),
            "is_index": pa.array(c["is_index"].astype(bool)),
            "cycle": pa.array(c["cycle"].astype(np.int64)),
            "start_date": _date(c["start"]),
            "end_date": _date(c["end"]),
            "n_records": pa.array(c["n_records"].astype(np.int64)),
            "infusion_days": pa.array(c["infusion_days"].astype(np.int64)),
            "interruption_start_date": _date(
                np.where(c["interruption_start"] < 0, NA, c["interruption_start"])
            ),
            "interruption_days": pa.array(c["interruption_days"].astype(np.int64)),
            "discontinued_early": pa.array(c["discontinued_early"].astype(bool)),
            "dose_first": pa.array(c["dose_first"].astype(np.float64)),
            "dose_main": pa.array(c["dose_main"].astype(np.float64)),
            "dose_unit": _labels(blin.astype(np.int64), ("mg", "ug/day"), np.zeros(n, bool)),
        },
        schema=schema,
    )


def _responses(chunk: ClinicalChunk) -> pa.Table:
    schema = TRUTH_SCHEMAS["truth_responses"]
    if not chunk.idx.responses:
        return schema.empty_table()
    r = {k: np.concatenate(v) for k, v in chunk.idx.responses.items()}
    order = np.lexsort((r["cycle"], r["owner"]))
    r = {k: v[order] for k, v in r.items()}
    n = r["owner"].size
    mrd = r["mrd"].astype(np.float64)
    return pa.Table.from_pydict(
        {
            "person_id": pa.array(chunk.pts.pid[r["owner"]]),
            "drug": _labels(r["drug"], list(INDEX_DRUGS), np.zeros(n, bool)),
            "cycle": pa.array(r["cycle"].astype(np.int64)),
            "assessment_date": _date(r["date"]),
            "response": _labels(r["response"], list(RESPONSES), np.zeros(n, bool)),
            "mrd_value": pa.array(mrd, from_pandas=True),
            "mrd_negative": pa.array(mrd < 0.01, mask=np.isnan(mrd)),
            **{
                k: pa.array(r[k].astype(np.float64))
                for k in ("marrow_blasts", "anc", "platelets", "wbc", "hemoglobin")
            },
        },
        schema=schema,
    )


def _aes(chunk: ClinicalChunk, concepts: Concepts) -> pa.Table:
    a = chunk.aes
    order = np.lexsort((a["term"], a["date"], a["owner"]))
    a = {k: v[order] for k, v in a.items()}
    n = a["owner"].size
    return pa.Table.from_pydict(
        {
            "person_id": pa.array(chunk.pts.pid[a["owner"]].astype(np.int64)),
            "term": _labels(a["term"], list(concepts.ae) or [""], np.zeros(n, bool)),
            "grade": pa.array(a["grade"].astype(np.int64)),
            "onset_date": _date(a["date"]),
            "context": _labels(a["context"], list(AE_CONTEXTS), np.zeros(n, bool)),
            "grade_recorded": pa.array(a.get("grade_recorded", np.zeros(n, bool)).astype(bool)),
        },
        schema=TRUTH_SCHEMAS["truth_aes"],
    )


def truth_tables(chunk: ClinicalChunk, concepts: Concepts, profile: str) -> Mapping[str, pa.Table]:
    """Build the chunk's four truth tables, each sorted by person."""
    return {
        "truth_patients": _patients(chunk, concepts, profile),
        "truth_cycles": _cycles(chunk),
        "truth_responses": _responses(chunk),
        "truth_aes": _aes(chunk, concepts),
    }
