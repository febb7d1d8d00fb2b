"""``generate_cdm``: stream a synthetic OMOP CDM to disk in chunks of persons, with its truth."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from allrwe.errors import UsageError
from allrwe.io.source import cdm_url
from allrwe.io.vocabulary import Vocabulary, load_vocabulary
from allrwe.io.write import parquet_dir_to_duckdb
from allrwe.synth.clinical import simulate_clinical
from allrwe.synth.concepts import CDM_V54, resolve_concepts
from allrwe.synth.frames import CDM_TABLES, Tables, cdm_schema, epoch_day, to_arrow
from allrwe.synth.ohdsi import (
    VOCABULARY_TABLES,
    build_ohdsi_vocabulary,
    grade_recorded,
    ohdsi_text_maps,
    shape_frames,
    write_vocabulary_tables,
)
from allrwe.synth.params import SynthParams, load_params
from allrwe.synth.population import background_rows, select_all_patients
from allrwe.synth.records import clinical_rows, text_maps, type_concepts
from allrwe.synth.rng import RNG_BLOCK
from allrwe.synth.truth import TRUTH_SCHEMAS, TRUTH_TABLES, truth_tables
from allrwe.synth.writer import PartWriter

__all__ = ["DEFAULT_CHUNK_SIZE", "SynthResult", "generate_cdm"]

log = logging.getLogger(__name__)

#: persons simulated at once (rounded up to whole random-stream blocks)
DEFAULT_CHUNK_SIZE = 32_768
_MANIFEST = "synth.json"
_STAGING = ".cdm-parquet"


@dataclass(frozen=True)
class SynthResult:
    """Where a synthetic CDM was written and how many rows each table got.

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    fmt : {"parquet", "duckdb"}
        Format of the CDM tables.
    cdm_url : str
        URL for :func:`allrwe.io.connect`.
    tables : dict of str to pathlib.Path
        Each CDM table's folder (Parquet) or the database file (DuckDB).
    truth : dict of str to pathlib.Path
        Each truth table's folder.
    row_counts, truth_row_counts : dict of str to int
        Rows per table.
    persons, all_patients, seed : int
        Size of the population, ALL patients among it, and the seed.
    profile : str
        Name of the profile.
    params : SynthParams
        The resolved parameters.
    """

    out: Path
    fmt: str
    cdm_url: str
    tables: dict[str, Path]
    truth: dict[str, Path]
    row_counts: dict[str, int]
    truth_row_counts: dict[str, int]
    persons: int
    all_patients: int
    seed: int
    profile: str
    params: SynthParams = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "out": str(self.out),
            "format": self.fmt,
            "cdm_url": self.cdm_url,
            "profile": self.profile,
            "persons": self.persons,
            "all_patients": self.all_patients,
            "seed": self.seed,
            "row_counts": dict(self.row_counts),
            "truth_row_counts": dict(self.truth_row_counts),
        }


def _check_args(persons: int, seed: int, fmt: str, chunk_size: int) -> None:
    if not isinstance(persons, int) or persons < 1:
        raise UsageError(f"persons must be a positive integer, got {persons!r}")
    if not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    if fmt not in ("parquet", "duckdb"):
        raise UsageError(f"unknown format {fmt!r}: use parquet or duckdb")
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise UsageError(f"chunk_size must be a positive integer, got {chunk_size!r}")


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"output {str(out)!r} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise UsageError(
                f"output folder {str(out)!r} is not empty; choose another, or overwrite "
                "(--overwrite)"
            )
        if not (out / _MANIFEST).is_file():
            raise UsageError(
                f"output folder {str(out)!r} was not written by allrwe synth; not overwriting it"
            )
        for name in (*CDM_TABLES, *VOCABULARY_TABLES, "truth", _STAGING):
            if (out / name).is_dir():
                shutil.rmtree(out / name)
        for name in ("cdm.duckdb", _MANIFEST):
            (out / name).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _cdm_source(folder: Path, params: SynthParams, seed: int, persons: int) -> None:
    date = pa.array([epoch_day(params.calendar.data_end)], type=pa.int32()).cast(pa.date32())
    values = {
        "cdm_source_name": pa.array([f"allrwe synthetic CDM ({params.name})"]),
        "cdm_source_abbreviation": pa.array([f"allrwe-synth-{params.name}"]),
        "cdm_holder": pa.array(["allrwe"]),
        "source_description": pa.array(
            [f"Synthetic data, profile {params.name}, seed {seed}, {persons} persons"]
        ),
        "source_release_date": date,
        "cdm_release_date": date,
        "cdm_version": pa.array(["5.4"]),
        "cdm_version_concept_id": pa.array([CDM_V54], type=pa.int64()),
        "vocabulary_version": pa.array(
            [
                "synthetic subset of the OHDSI standard vocabularies (allrwe)"
                if params.recording.etl == "ohdsi"
                else "allrwe curated concept sets"
            ]
        ),
    }
    schema = cdm_schema("cdm_source")
    arrays = [values.get(f.name, pa.nulls(1, f.type)) for f in schema]
    (folder / "cdm_source").mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_arrays(arrays, schema=schema), folder / "cdm_source" / "part-00000.parquet"
    )


def _chunks(persons: int, chunk_size: int) -> list[tuple[int, int]]:
    blocks = -(-chunk_size // RNG_BLOCK)
    step = blocks * RNG_BLOCK
    return [(lo, min(lo + step - 1, persons)) for lo in range(1, persons + 1, step)]


def generate_cdm(
    out: str | Path,
    *,
    persons: int,
    seed: int,
    profile: str = "claims",
    fmt: Literal["parquet", "duckdb"] = "parquet",
    params: str | Path | Mapping[str, Any] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    vocabulary: Vocabulary | None = None,
    overwrite: bool = False,
) -> SynthResult:
    """Generate a synthetic OMOP CDM v5.4 and its ground truth.

    Parameters
    ----------
    out : str or pathlib.Path
        Output folder (created; must be empty unless ``overwrite``). Parquet: one folder of
        part files per table, ``<out>/<table>/part-00000.parquet``; DuckDB: ``<out>/cdm.duckdb``.
        The truth goes to ``<out>/truth/<table>/`` in both cases.
    persons : int
        Size of the whole population.
    seed : int
        Seed; the same seed and parameters give byte-identical Parquet files.
    profile : {"claims", "emr", "ohdsi"}
        The bundled profile to start from.
    fmt : {"parquet", "duckdb"}
        Format of the CDM tables.
    params : path or mapping, optional
        Parameters merged over the profile (see ``allrwe/data/synth/<profile>.yaml``), e.g.
        ``{"population": {"all_patients": 20000}}``.
    chunk_size : int
        Persons simulated at once; bounds memory, never changes the data.
    vocabulary : Vocabulary, optional
        Concept sets to take concept ids from; defaults to the bundled ones.
    overwrite : bool, default False
        Replace an earlier output of ``allrwe synth`` in ``out``.

    Returns
    -------
    SynthResult

    Raises
    ------
    UsageError
        Bad arguments or parameters, or an output folder that is not empty.

    Examples
    --------
    >>> import tempfile
    >>> res = generate_cdm(tempfile.mkdtemp(), persons=200, seed=1, profile="emr",
    ...                    params={"population": {"all_patients": 10}})
    >>> res.all_patients
    10
    """
    _check_args(persons, seed, fmt, chunk_size)
    p = load_params(profile, params)
    wanted = p.population.all_patients
    if wanted is not None and wanted > persons:
        raise UsageError(
            f"population.all_patients ({wanted}) exceeds the number of persons ({persons})"
        )
    vocab = vocabulary or load_vocabulary()
    concepts = resolve_concepts(
        vocab, diagnosis_source_vocabulary=p.recording.diagnosis_source_vocabulary
    )
    etl = build_ohdsi_vocabulary(vocab, concepts) if p.recording.etl == "ohdsi" else None
    root = Path(out)
    _prepare(root, overwrite)
    cdm_dir = root if fmt == "parquet" else root / _STAGING
    tables_out = [t for t in CDM_TABLES if t != "cdm_source"]
    schemas = {t: cdm_schema(t) for t in tables_out}
    if etl is not None:
        schemas["drug_exposure"] = cdm_schema("drug_exposure", ("drug_exposure_end_date",))
    writers = {t: PartWriter(cdm_dir / t, schemas[t], persons) for t in tables_out}
    truth_writers = {
        t: PartWriter(root / "truth" / t, TRUTH_SCHEMAS[t], persons) for t in TRUTH_TABLES
    }
    next_id = dict.fromkeys(tables_out, 1)
    texts = text_maps(concepts) if etl is None else ohdsi_text_maps(etl)
    terms = list(concepts.ae)
    types = type_concepts(p)
    n_all = 0
    for lo, hi in _chunks(persons, chunk_size):
        pid = np.arange(lo, hi + 1, dtype=np.int64)
        is_all = select_all_patients(seed, pid, persons=persons, params=p)
        rows = Tables()
        if is_all.any():
            chunk = simulate_clinical(seed, pid[is_all], p, concepts)
            a = chunk.aes
            a["grade_recorded"] = grade_recorded(
                seed, p, terms, chunk.pts.pid[a["owner"]], a["date"], a["term"], a["grade"]
            )
            clinical_rows(chunk, rows, p, concepts)
            for name, table in truth_tables(chunk, concepts, p.name).items():
                truth_writers[name].add(table, through_person=hi)
            starts, ends = chunk.pts.obs_start, chunk.pts.obs_end
            n_all += chunk.pts.n
        else:
            starts = ends = np.zeros(0, dtype=np.int64)
        background_rows(
            seed, pid, is_all, starts, ends, params=p, concepts=concepts, types=types, tables=rows
        )
        frames = {name: rows[name].frame() for name in tables_out}
        if etl is not None:
            frames = shape_frames(frames, etl, p, seed)
        for name in tables_out:
            table = to_arrow(
                name,
                frames[name],
                id_start=next_id[name],
                text=texts.get(name),
                schema=schemas[name],
            )
            next_id[name] += table.num_rows
            writers[name].add(table, through_person=hi)
        for name in TRUTH_TABLES:
            truth_writers[name].add(TRUTH_SCHEMAS[name].empty_table(), through_person=hi)
        log.info("persons %d-%d done (%d ALL patients so far)", lo, hi, n_all)
    for w in (*writers.values(), *truth_writers.values()):
        w.close()
    _cdm_source(cdm_dir, p, seed, persons)
    counts = {t: w.rows for t, w in writers.items()} | {"cdm_source": 1}
    if etl is not None:
        counts |= write_vocabulary_tables(cdm_dir, etl)
    if fmt == "duckdb":
        db = root / "cdm.duckdb"
        parquet_dir_to_duckdb(cdm_dir, db)
        shutil.rmtree(cdm_dir)
        table_paths = dict.fromkeys(counts, db)
        url = cdm_url(db.resolve(), "duckdb")
    else:
        table_paths = {t: root / t for t in counts}
        url = cdm_url(root.resolve(), "parquet")
    result = SynthResult(
        out=root,
        fmt=fmt,
        cdm_url=url,
        tables=table_paths,
        truth={t: root / "truth" / t for t in TRUTH_TABLES},
        row_counts=counts,
        truth_row_counts={t: w.rows for t, w in truth_writers.items()},
        persons=persons,
        all_patients=n_all,
        seed=seed,
        profile=p.name,
        params=p,
    )
    _write_provenance(root, result, profile)
    return result


def _write_provenance(root: Path, result: SynthResult, profile: str) -> None:
    params = result.params.model_dump(mode="json")
    (root / "truth" / "params.yaml").write_text(
        yaml.safe_dump(
            {"profile": profile, "seed": result.seed, "persons": result.persons, "params": params},
            sort_keys=False,
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    manifest = result.to_dict()
    manifest.pop("out")
    manifest.pop("cdm_url")
    (root / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
