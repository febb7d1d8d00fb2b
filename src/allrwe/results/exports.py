"""Export of suppressed results to CSV, Parquet, XLSX and JSON with deterministic bytes.

Only ``provenance.json`` holds the run's timestamp, so two runs of the same study give
byte-identical ``results.*`` files. Files are written to a temporary folder next to the
output folder and moved into place at the end; ``provenance.json`` goes last and marks a
complete export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from allrwe.errors import DisclosureError, UsageError
from allrwe.results.model import COLUMNS, ResultSet

__all__ = [
    "FORMATS",
    "RESULT_FILES",
    "SIGNIFICANT_DIGITS",
    "escape_formula",
    "export",
    "publishable_records",
]

logger = logging.getLogger(__name__)

#: the formats :func:`export` writes by default
FORMATS = ("csv", "parquet", "xlsx", "json")
#: file name of each format
RESULT_FILES = {fmt: f"results.{fmt}" for fmt in FORMATS}
PROVENANCE_FILE = "provenance.json"
#: non-count values are rounded to this many significant digits before any export, so that
#: float noise from summation order (different backends, thread counts) does not reach files
SIGNIFICANT_DIGITS = 10

# Fixed stamp for XLSX document properties and ZIP entries (the ZIP format's earliest date).
_FIXED_TIME = dt.datetime(1980, 1, 1)
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

_SCHEMA = pa.schema(
    [(c, pa.string()) for c in COLUMNS[:8]]
    + [("value", pa.float64()), ("suppressed", pa.bool_()), ("margin", pa.string())]
)


def _rounded(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Return ``values`` with all but the ``keep`` ones rounded to significant digits.

    Parameters
    ----------
    values : numpy.ndarray of float64
        The values.
    keep : numpy.ndarray of bool
        Values left as they are (counts).

    Returns
    -------
    numpy.ndarray of float64
        A new array: each value read back from its text with :data:`SIGNIFICANT_DIGITS`
        significant digits (``%g``); NaN, infinite and zero values are left as they are too.
    """
    out = values.copy()
    todo = ~keep & np.isfinite(values) & (values != 0)
    out[todo] = [float(f"{v:.{SIGNIFICANT_DIGITS}g}") for v in values[todo].tolist()]
    return out


def _check_publishable(result_set: ResultSet) -> pd.DataFrame:
    """Return the canonical records after checking that they may be exported."""
    summary = result_set.provenance.suppression
    if summary is None:
        raise DisclosureError(
            f"refusing to export {len(result_set)} records that have not been suppressed; "
            "call allrwe.results.suppress(results, min_cell_count=...) first"
        )
    records = result_set.records
    values = records["value"].to_numpy(dtype="float64")
    is_count = (records["estimate_type"] == "count").to_numpy()
    small = is_count & (values >= 1) & (values < summary.hides_below)
    if small.any():
        raise DisclosureError(
            f"{int(small.sum())} visible count record(s) are below the minimum cell count "
            f"{summary.min_cell_count}; refusing to export"
        )
    return records


def publishable_records(result_set: ResultSet) -> pd.DataFrame:
    """Return the records as every export writes them.

    Parameters
    ----------
    result_set : ResultSet
        Suppressed results.

    Returns
    -------
    pandas.DataFrame
        The canonical records with non-count values rounded to :data:`SIGNIFICANT_DIGITS`
        significant digits (counts are integers already).

    Raises
    ------
    DisclosureError
        If the results have not been suppressed, or a visible count is below the threshold
        they were suppressed with.
    """
    records = _check_publishable(result_set)
    values = records["value"].to_numpy(dtype="float64")
    is_count = (records["estimate_type"] == "count").to_numpy()
    records["value"] = _rounded(values, is_count)
    return records


def _format_numbers(values: np.ndarray) -> list[str]:
    """Write each value as the CSV file does, integers without a Python loop.

    Parameters
    ----------
    values : numpy.ndarray of float64
        The values.

    Returns
    -------
    list of str
        ``""`` for NaN, the integer for whole numbers below 1e15 in magnitude, else the
        shortest text that reads back to the same float (``repr``).
    """
    # NaN and infinities fail the first comparison, so they are not taken as integers.
    whole = (np.abs(values) < 1e15) & (values == np.trunc(values))
    other = ~whole & ~np.isnan(values)
    text = np.full(len(values), "", dtype=object)
    text[whole] = values[whole].astype(np.int64).astype(str)
    text[other] = [repr(v) for v in values[other].tolist()]
    return text.tolist()


def _text_columns(records: pd.DataFrame) -> list[list[Any]]:
    """Return the columns of :data:`COLUMNS` as lists of cells as the CSV file writes them."""
    columns: list[list[Any]] = [records[c].tolist() for c in COLUMNS]
    columns[8] = _format_numbers(records["value"].to_numpy(dtype="float64"))
    columns[9] = np.where(records["suppressed"].to_numpy(dtype=bool), "TRUE", "FALSE").tolist()
    return columns


#: text a spreadsheet reads as a formula: = + @ (and tab, carriage return) first, or - first
#: with a formula's signs after it (a plain "-30 to 0" stays as it is)
_FORMULA = re.compile(r"[=+@\t\r]|-.*[=+@(!]|-[A-Za-z]", re.DOTALL)


def escape_formula(value: Any) -> Any:
    """Prefix text a spreadsheet would run as a formula with ``'`` (OWASP CSV injection).

    Examples
    --------
    >>> escape_formula("=1+1")[0] == "'"
    True
    >>> escape_formula("-30 to 0"), escape_formula(3.5)
    ('-30 to 0', 3.5)
    """
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def _write_csv(records: pd.DataFrame, provenance: dict[str, Any], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    columns = _text_columns(records)
    for i in (*range(8), 10):
        columns[i] = [escape_formula(v) for v in columns[i]]
    writer.writerows(zip(*columns, strict=True))
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def _write_parquet(records: pd.DataFrame, provenance: dict[str, Any], path: Path) -> None:
    # String columns go to Arrow as they are, without a round trip through Python objects.
    arrays = [pa.array(records[c].astype(str), type=pa.string()) for c in COLUMNS[:8]]
    arrays += [
        pa.array(records["value"].to_numpy(dtype="float64"), from_pandas=True),
        pa.array(records["suppressed"].to_numpy(dtype=bool), type=pa.bool_()),
        pa.array(records["margin"].astype(str), type=pa.string()),
    ]
    table = pa.Table.from_arrays(arrays, schema=_SCHEMA)
    # The provenance without its timestamp travels with the file; the writer's own
    # created_by string depends only on the pyarrow version.
    table = table.replace_schema_metadata(
        {"allrwe.provenance": json.dumps(provenance, sort_keys=True)}
    )
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def _sheet_titles(analyses: Sequence[str]) -> dict[str, str]:
    titles: dict[str, str] = {}
    used = {"_provenance"}
    for name in analyses:
        base = _SHEET_FORBIDDEN.sub("_", name)[:31] or "_"
        title, n = base, 1
        while title.lower() in used:
            n += 1
            title = f"{base[: 31 - len(str(n)) - 1]}~{n}"
        used.add(title.lower())
        titles[name] = title
    return titles


def _xlsx_bytes(records: pd.DataFrame, provenance: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook()
    workbook.remove(workbook.active)
    for analysis, title in _sheet_titles(sorted(set(records["analysis"]))).items():
        sheet = workbook.create_sheet(title)
        sheet.append(list(COLUMNS))
        for row in records[records["analysis"] == analysis].itertuples(index=False):
            cells = [escape_formula(v) for v in row]
            cells[8] = None if math.isnan(cells[8]) else float(cells[8])
            cells[9] = bool(cells[9])
            sheet.append(cells)
    about = workbook.create_sheet("_provenance")
    about.append(["field", "value"])
    for key, value in sorted(provenance.items()):
        about.append([key, escape_formula(value if isinstance(value, str) else json.dumps(value))])
    workbook.properties.creator = "allrwe"
    workbook.properties.created = _FIXED_TIME
    workbook.properties.modified = _FIXED_TIME
    buffer = io.BytesIO()
    # ExcelWriter directly: openpyxl's save() would stamp the current time as "modified".
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    return _normalise_zip(buffer.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a ZIP archive with fixed entry timestamps and attributes."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for name in source.namelist():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(name))
    return out.getvalue()


def _write_xlsx(records: pd.DataFrame, provenance: dict[str, Any], path: Path) -> None:
    path.write_bytes(_xlsx_bytes(records, provenance))


def _json_value(value: float) -> float | int | None:
    if math.isnan(value):
        return None
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def _write_json(records: pd.DataFrame, provenance: dict[str, Any], path: Path) -> None:
    columns: list[list[Any]] = [records[c].tolist() for c in COLUMNS]
    columns[8] = [_json_value(v) for v in records["value"].to_numpy(dtype="float64").tolist()]
    columns[9] = records["suppressed"].to_numpy(dtype=bool).tolist()
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in zip(*columns, strict=True)]
    text = json.dumps(
        {"provenance": provenance, "records": rows}, indent=1, ensure_ascii=False, allow_nan=False
    )
    path.write_bytes((text + "\n").encode("utf-8"))


_WRITERS: dict[str, Callable[[pd.DataFrame, dict[str, Any], Path], None]] = {
    "csv": _write_csv,
    "parquet": _write_parquet,
    "xlsx": _write_xlsx,
    "json": _write_json,
}


def _check_formats(formats: Sequence[str]) -> list[str]:
    if isinstance(formats, str):
        formats = [formats]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(
            f"unknown export format(s) {', '.join(map(repr, unknown))}; valid: {', '.join(FORMATS)}"
        )
    if not formats:
        raise UsageError(f"no export format given; valid: {', '.join(FORMATS)}")
    return [f for f in FORMATS if f in formats]


def _write_all(
    result_set: ResultSet, records: pd.DataFrame, folder: Path, formats: list[str]
) -> list[str]:
    stable = result_set.provenance.to_dict(timestamp=False)
    names = []
    for fmt in formats:
        _WRITERS[fmt](records, stable, folder / RESULT_FILES[fmt])
        names.append(RESULT_FILES[fmt])
    full = result_set.provenance.to_dict(timestamp=True)
    text = json.dumps(full, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (folder / PROVENANCE_FILE).write_bytes(text.encode("utf-8"))
    return [*names, PROVENANCE_FILE]


def _clear(out_dir: Path) -> None:
    for name in [PROVENANCE_FILE, *RESULT_FILES.values()]:
        (out_dir / name).unlink(missing_ok=True)


def _move_into_place(staging: Path, out_dir: Path, names: list[str]) -> None:
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        out_dir.rmdir()
    if not out_dir.exists():
        os.replace(staging, out_dir)
        return
    # The folder holds other files (a report, say): replace ours one by one, the old
    # completion marker first and the new one last, and clear them all if a move fails.
    try:
        _clear(out_dir)
        for name in names:
            os.replace(staging / name, out_dir / name)
    except BaseException:
        _clear(out_dir)
        raise


def export(
    result_set: ResultSet, out_dir: str | os.PathLike[str], formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write suppressed results to ``out_dir``.

    Writes ``results.csv``, ``results.parquet``, ``results.xlsx`` (one sheet per analysis
    plus ``_provenance``), ``results.json`` (provenance and records) for the formats asked,
    and always ``provenance.json``. Rows are sorted; non-count values are rounded to
    :data:`SIGNIFICANT_DIGITS` significant digits, and CSV writes the shortest text that
    reads back to the same float (integers without a decimal point, NaN as an empty field).

    Parameters
    ----------
    result_set : ResultSet
        Suppressed results.
    out_dir : str or path-like
        Output folder; created if missing. Other files in it are left alone; earlier
        ``results.*`` and ``provenance.json`` are replaced.
    formats : sequence of str, default ("csv", "parquet", "xlsx", "json")
        Which result files to write.

    Returns
    -------
    list of pathlib.Path
        The files written, ``provenance.json`` last.

    Raises
    ------
    DisclosureError
        If the results have not been suppressed.
    UsageError
        If a format is unknown or ``out_dir`` is a file.
    """
    out = Path(out_dir)
    chosen = _check_formats(formats)
    if out.exists() and not out.is_dir():
        raise UsageError(f"export folder {str(out)!r} is a file")
    records = publishable_records(result_set)  # refuse before touching the disk
    out.parent.mkdir(parents=True, exist_ok=True)
    # the pid in the name lets a later run remove the folder if this process is killed
    staging = Path(
        tempfile.mkdtemp(
            prefix=f".{out.name}.allrwe-{os.getpid()}-", suffix=".partial", dir=out.parent
        )
    )
    try:
        staging.chmod(0o755)
        names = _write_all(result_set, records, staging, chosen)
        _move_into_place(staging, out, names)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("exported %d records to %s", len(result_set), out)
    return [out / name for name in names]
