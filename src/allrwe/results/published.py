"""Read back what an allrwe output folder publishes, as an attacker would.

:func:`read_published` gathers the records of every results file of a folder
(``results.csv``, ``results.parquet``, ``results.json``, ``results.xlsx``): a value shown in
any of them counts as published, a count hidden in all of them as hidden. The minimum cell
count comes from ``provenance.json``. See ``docs/results-model.md`` (the attacker).
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allrwe.errors import UsageError
from allrwe.results.model import COLUMNS, ROW_ID_COLUMNS

__all__ = [
    "DAYS_PER_MONTH",
    "PROVENANCE_FILE",
    "REPORT_FILE",
    "REPORT_PRECISION",
    "RESULT_FILES",
    "FigureNumber",
    "Published",
    "figure_numbers",
    "read_published",
    "report_curves",
]

#: the provenance file that marks a complete allrwe export
PROVENANCE_FILE = "provenance.json"
#: the results files an output folder may hold, in the order they are read
RESULT_FILES = ("results.parquet", "results.csv", "results.json", "results.xlsx")
_KEYS = [*ROW_ID_COLUMNS, "estimate_type"]
#: the HTML report, whose figures embed their data as JSON
REPORT_FILE = "report.html"
#: the report's figures round their values to six decimals: half of the last one
REPORT_PRECISION = 5e-7
#: the report draws curves in months of this many days (allrwe.analyses.survival has the
#: same constant; results sits below analyses, a test keeps the two equal)
DAYS_PER_MONTH = 30.4375
_FIGURE_DATA = re.compile(
    r'<script type="application/json" id="allrwe-figures">(.*?)</script>', re.DOTALL
)
_CURVE_CHARTS = {"km": "survival_curve", "cif": "cumulative_incidence_curve"}


@dataclass(frozen=True)
class Published:
    """The records an output folder publishes.

    Parameters
    ----------
    root : pathlib.Path
        The output folder.
    records : pandas.DataFrame
        One row per record (columns :data:`allrwe.results.model.COLUMNS`); ``value`` is NaN
        where no file shows it.
    files : tuple of str
        The results files read.
    min_cell_count : int or None
        The threshold recorded in ``provenance.json`` (``None`` when it records none).
    report : pandas.DataFrame or None
        The curve values the HTML report's figures draw (see :func:`report_curves`).
    figures : tuple of FigureNumber
        The numbers the report's inline SVG figures print in their number-at-risk tables
        (see :func:`figure_numbers`).
    """

    root: Path
    records: pd.DataFrame
    files: tuple[str, ...]
    min_cell_count: int | None
    report: pd.DataFrame | None = None
    figures: tuple[FigureNumber, ...] = ()


@dataclass(frozen=True)
class FigureNumber:
    """A number an inline SVG figure of the report prints in its number-at-risk table.

    Parameters
    ----------
    figure : str
        The figure's accessible name (its title).
    row : str
        The row's label (a group).
    column : int
        The column (0 for the first axis tick).
    text : str
        The text printed (``"–"`` where the risk set is hidden).
    """

    figure: str
    row: str
    column: int
    text: str

    @property
    def value(self) -> int | None:
        """Int or None: the number printed, ``None`` when the text is not a whole number."""
        text = self.text.replace(",", "").strip()
        return int(text) if text.isdigit() else None

    def name(self) -> str:
        """Return a readable name: ``report.html/<figure>/<row>/at risk #<column>``."""
        return f"{REPORT_FILE}/{self.figure}/{self.row}/at risk #{self.column}"


_SVG = re.compile(r"<svg\b(.*?)>(.*?)</svg>", re.DOTALL)
_SVG_LABEL = re.compile(r'aria-label="([^"]*)"')
_SVG_TEXT = re.compile(r"<text\b([^>]*)>([^<]*)</text>")
#: the heading of the number-at-risk table under a curve figure (report.render.svg)
_AT_RISK = "Number at risk"


def figure_numbers(html: str) -> list[FigureNumber]:
    """Return the numbers the inline SVG figures of a report print under their curves.

    A curve figure (``allrwe.report.render.svg``) prints, after a text starting with
    ``"Number at risk"``, one row per group: its label (anchored at its end), then one
    number per axis tick. Every other text of a figure is a title, a key, an axis tick or a
    category, none of them a count.

    Parameters
    ----------
    html : str
        The report's text.

    Returns
    -------
    list of FigureNumber
    """
    out: list[FigureNumber] = []
    for found in _SVG.finditer(html):
        label = _SVG_LABEL.search(found.group(1))
        figure = unescape(label.group(1)) if label else ""
        row, column, in_table = "", 0, False
        for attrs, content in _SVG_TEXT.findall(found.group(2)):
            text = unescape(content)
            if text.startswith(_AT_RISK):
                in_table, row = True, ""
                continue
            if not in_table:
                continue
            if 'text-anchor="end"' in attrs:
                row, column = text, 0
                continue
            out.append(FigureNumber(figure, row, column, text))
            column += 1
    return out


def _read_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return frame


def _read_parquet(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path)


def _read_json(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    rows = data.get("records", []) if isinstance(data, dict) else data
    return pd.DataFrame(rows)


def _read_xlsx(path: Path) -> pd.DataFrame:
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        frames = []
        for sheet in workbook.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            if not rows or list(rows[0][: len(COLUMNS)]) != list(COLUMNS):
                continue  # the provenance sheet
            frames.append(pd.DataFrame([r[: len(COLUMNS)] for r in rows[1:]], columns=COLUMNS))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    finally:
        workbook.close()


_READERS = {
    "results.parquet": _read_parquet,
    "results.csv": _read_csv,
    "results.json": _read_json,
    "results.xlsx": _read_xlsx,
}


def _normalise(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    missing = [c for c in _KEYS if c not in frame.columns]
    if missing or "value" not in frame.columns:
        raise UsageError(
            f"{name} is not an allrwe results file: it lacks column(s) "
            f"{', '.join(missing or ['value'])}"
        )
    out = pd.DataFrame({c: frame[c].astype(object).where(frame[c].notna(), "") for c in _KEYS})
    out = out.astype(str)
    values = (
        frame["value"].replace("", np.nan) if frame["value"].dtype == object else frame["value"]
    )
    out["value"] = pd.to_numeric(values, errors="coerce").astype("float64")
    margin = frame["margin"] if "margin" in frame.columns else pd.Series([""] * len(frame))
    out["margin"] = margin.astype(object).where(margin.notna(), "").astype(str).to_numpy()
    return out


def _min_cell_count(root: Path) -> int | None:
    path = root / PROVENANCE_FILE
    if not path.is_file():
        return None
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} cannot be read as JSON ({type(exc).__name__})") from exc
    suppression = data.get("suppression") if isinstance(data, dict) else None
    value = suppression.get("min_cell_count") if isinstance(suppression, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_published(path: str | Path) -> Published:
    """Read every results file of an allrwe output folder into one records table.

    Parameters
    ----------
    path : str or pathlib.Path
        The output folder of ``allrwe run`` / ``allrwe demo``.

    Returns
    -------
    Published

    Raises
    ------
    UsageError
        If ``path`` is not a folder, holds no ``provenance.json`` nor results file, or a
        results file lacks the record columns.
    """
    root = Path(path)
    if not root.is_dir():
        raise UsageError(f"{str(root)!r} is not a folder; give the output folder of allrwe run")
    present = [name for name in RESULT_FILES if (root / name).is_file()]
    if not present:
        raise UsageError(
            f"{str(root)!r} is not an allrwe output folder: it holds no {' / '.join(RESULT_FILES)}"
        )
    frames = []
    for name in present:
        try:
            raw = _READERS[name](root / name)
        except UsageError:
            raise
        except Exception as exc:  # any parse failure is the user's file, not a bug
            raise UsageError(f"{name} in {root} cannot be read ({type(exc).__name__})") from exc
        frames.append(_normalise(raw, name))
    union = pd.concat(frames, ignore_index=True)
    # A value shown in any file is published; the margin field is the same in all files.
    records = (
        union.groupby(_KEYS, sort=False, dropna=False)
        .agg(value=("value", "first"), margin=("margin", "first"))
        .reset_index()
    )
    records["suppressed"] = records["value"].isna() & (records["estimate_type"] == "count")
    records = records[list(COLUMNS)]
    report = None
    figures: list[FigureNumber] = []
    if (root / REPORT_FILE).is_file():
        html = (root / REPORT_FILE).read_text(encoding="utf-8")
        report = report_curves(html, records)
        figures = figure_numbers(html)
    return Published(root, records, tuple(present), _min_cell_count(root), report, tuple(figures))


def _curve_variables(records: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Map figure ids (``km-os-hsct-car-t``) to their curve analysis and variable."""
    out = {}
    for analysis, chart in (("survival_curve", "km"), ("cumulative_incidence_curve", "cif")):
        variables = records.loc[records["analysis"] == analysis, "variable"].unique().tolist()
        for variable in variables:
            slug = re.sub(r"[^a-z0-9]+", "-", str(variable).lower()).strip("-")
            out[f"{chart}-{slug}"] = (analysis, str(variable))
    return out


def report_curves(html: str, records: pd.DataFrame) -> pd.DataFrame:
    """Return the curve values the report's figures embed as JSON, as numeric records.

    Reads the ``allrwe-figures`` JSON block of a report with Plotly figures; a report that
    draws its figures as inline SVG has none, and gives no records (its paths are not read).

    Each named line of a Kaplan-Meier (``km-*``) or cumulative incidence (``cif-*``) figure
    whose name is a group (``"BLIN"``) or a group and cause (``"BLIN: relapse"``) becomes one
    ``survival`` (or cause) record per point, at the day the month value stands for.

    Parameters
    ----------
    html : str
        The report's text.
    records : pandas.DataFrame
        The published records (to tell groups and curve variables).

    Returns
    -------
    pandas.DataFrame
        Records (columns :data:`allrwe.results.model.COLUMNS`) of estimate type ``numeric``,
        rounded to :data:`REPORT_PRECISION`.
    """
    found = _FIGURE_DATA.search(html)
    rows: list[dict[str, Any]] = []
    if found is None:
        return pd.DataFrame(rows, columns=list(COLUMNS))
    try:
        figures = json.loads(found.group(1))
    except ValueError:
        return pd.DataFrame(rows, columns=list(COLUMNS))
    curves = _curve_variables(records)
    groups = set(records["group"].astype(str))
    for figure_id, spec in figures.items() if isinstance(figures, dict) else []:
        if figure_id not in curves:
            continue
        analysis, variable = curves[figure_id]
        for trace in spec.get("data", []):
            name = trace.get("name")
            if not isinstance(name, str) or trace.get("mode") != "lines":
                continue
            group, _, cause = name.partition(": ")
            if group not in groups:
                continue
            estimate = cause or "survival"
            for x, y in zip(trace.get("x") or [], trace.get("y") or [], strict=False):
                if x is None or y is None or x <= 0:
                    continue
                day = round(float(x) * DAYS_PER_MONTH)
                rows.append(
                    dict(
                        zip(
                            COLUMNS,
                            [
                                analysis,
                                group,
                                "overall",
                                "overall",
                                variable,
                                str(day),
                                estimate,
                                "numeric",
                                float(y),
                                False,
                                "",
                            ],
                            strict=True,
                        )
                    )
                )
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.drop_duplicates(subset=list(ROW_ID_COLUMNS), keep="last")
