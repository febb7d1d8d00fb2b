"""Export to omopgenerics' ``summarised_result``: the shape DARWIN EU and OHDSI R tools read.

The column specification is omopgenerics' (``resultColumns()``; vignette "A summarised
result", darwin-eu/omopgenerics ``articles/summarised_result.md``): 13 character columns
(``result_id`` an integer), every field filled except ``variable_level``; name-level pairs
(``group``, ``strata``, ``additional``) with ``overall`` when there is none; ``estimate_name``
in snake_case; ``estimate_type`` one of ``estimateTypeChoices()``. The settings travel in the
same file as rows with ``variable_name == "settings"`` (as ``exportSummarisedResult`` writes
them), one row per setting and ``result_id``, with ``result_type``, ``package_name``,
``package_version``, ``group``, ``strata``, ``additional`` and ``min_cell_count``.

Mapping from allrwe's records (``docs/network.md`` has the table): one ``result_id`` per
analysis (``result_type`` is the analysis name), the group as ``cohort_name``, strata as
they are, counts as ``integer``, a suppressed value as ``-`` (omopgenerics' marker) and a
value that is not estimable (a median not reached, say) as ``NA``. Curves (``*_curve``) are
published on a fixed grid of :data:`CURVE_GRID_DAYS` days, with the time as
``additional_name = "time"`` and ``additional_level`` its number of days; their per-event-time
count rows (``*_curve_counts``) are left out (the risk tables hold counts on a grid already).

:func:`check_summarised_result` checks a file against every rule omopgenerics 1.3.6's
``importSummarisedResult()`` applies when it reads one (``newSummarisedResult``,
``validateSummarisedResult``; darwin-eu/omopgenerics ``R/classSummarisedResult.R`` and
``R/importSummarisedResult.R`` at commit 241d891), and two of allrwe's own for its tools
(values readable as their type; no count its ``suppress()`` would hide).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd

from allrwe import __version__
from allrwe.results.curve_grid import CURVE_GRID_DAYS, curve_on_grid
from allrwe.results.curve_grid import curve_records as _curve_records
from allrwe.results.exports import publishable_records
from allrwe.results.model import ResultSet

__all__ = [
    "CURVE_GRID_DAYS",
    "SUMMARISED_COLUMNS",
    "SUMMARISED_FILE",
    "check_summarised_result",
    "curve_on_grid",
    "to_summarised_result",
    "write_summarised_result",
]

#: omopgenerics' ``resultColumns()``, in order
SUMMARISED_COLUMNS = (
    "result_id",
    "cdm_name",
    "group_name",
    "group_level",
    "strata_name",
    "strata_level",
    "variable_name",
    "variable_level",
    "estimate_name",
    "estimate_type",
    "estimate_value",
    "additional_name",
    "additional_level",
)

#: the file written beside ``results.csv``
SUMMARISED_FILE = "summarised_result.csv"

#: allrwe estimate type -> omopgenerics estimate type
_TYPES = {
    "count": "integer",
    "numeric": "numeric",
    "percentage": "percentage",
    "date": "date",
    "character": "character",
}
#: estimate names of the survival curve, as CohortSurvival names them
_CURVE_NAMES = {
    "survival": "estimate",
    "lower": "estimate_95CI_lower",
    "upper": "estimate_95CI_upper",
}
_SUPPRESSED = "-"
_OVERALL = "overall"


def _snake(name: str) -> str:
    """Return ``name`` in snake_case (omopgenerics requires it of ``estimate_name``).

    Examples
    --------
    >>> _snake("n persons (95% CI)")
    'n_persons_95_ci'
    """
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_") or "value"


def _values(records: pd.DataFrame) -> pd.Series:
    values = records["value"].astype("float64")
    is_count = records["estimate_type"].eq("count")
    text = values.map(lambda v: f"{v:.10g}").astype(object)
    text[is_count] = values[is_count].map(lambda v: f"{v:.0f}")
    text[values.isna()] = None  # not estimable: NA, as R writes it
    text[records["suppressed"].astype(bool)] = _SUPPRESSED
    return text


def _rows(records: pd.DataFrame, ids: dict[str, int], cdm_name: str) -> pd.DataFrame:
    group = records["group"].astype(str)
    is_overall = group.eq(_OVERALL)
    time = records["time_days"] if "time_days" in records else pd.Series(np.nan, records.index)
    has_time = time.notna()
    names = records["estimate_name"].astype(str)
    curve = records["analysis"].eq("survival_curve")
    names[curve] = names[curve].map(lambda n: _CURVE_NAMES.get(n, n))
    return pd.DataFrame(
        {
            "result_id": records["analysis"].map(ids).astype("int64"),
            "cdm_name": cdm_name,
            "group_name": np.where(is_overall, _OVERALL, "cohort_name"),
            "group_level": group,
            "strata_name": records["strata_name"].astype(str).map(_snake_pair),
            "strata_level": _strata_levels(records),
            "variable_name": records["variable"].astype(str),
            "variable_level": records["variable_level"],
            "estimate_name": names.map(_snake_once),
            "estimate_type": records["estimate_type"].map(_TYPES),
            "estimate_value": _values(records),
            "additional_name": np.where(has_time, "time", _OVERALL),
            "additional_level": np.where(
                has_time, time.map(lambda t: f"{t:.0f}" if pd.notna(t) else ""), _OVERALL
            ),
        },
        columns=list(SUMMARISED_COLUMNS),
    )


def _strata_levels(records: pd.DataFrame) -> pd.Series:
    """Return strata levels with as many ``&&&`` parts as their names.

    A test across the levels of a crossed stratum (level ``overall``) gets
    ``overall &&& overall``: omopgenerics pairs each part of a name with a part of its level.
    """
    names = records["strata_name"].astype(str)
    levels = records["strata_level"].astype(str)
    parts = names.str.count("&&&") + 1
    across = levels.eq(_OVERALL) & names.ne(_OVERALL) & parts.gt(1)
    levels = levels.copy()
    levels[across] = parts[across].map(lambda k: " &&& ".join([_OVERALL] * k))
    return levels


@functools.lru_cache(maxsize=4096)  # a few hundred names, each met on thousands of rows
def _snake_pair(name: str) -> str:
    return name if name == _OVERALL else " &&& ".join(_snake(p) for p in name.split("&&&"))


#: :func:`_snake` of each estimate name met, computed once per name
_snake_once = functools.lru_cache(maxsize=4096)(_snake)


def _settings(records: pd.DataFrame, ids: dict[str, int], results: ResultSet) -> pd.DataFrame:
    suppression = results.provenance.suppression
    minimum = str(suppression.min_cell_count) if suppression is not None else ""
    rows = []
    for analysis, result_id in ids.items():
        mine = records[records["analysis"].eq(analysis)]
        strata = sorted({s for s in mine["strata_name"].astype(str) if s != _OVERALL})
        settings = {
            "result_type": analysis,
            "package_name": "allrwe",
            "package_version": __version__,
            "group": "cohort_name",
            "strata": " &&& ".join(_snake(s) for s in strata),
            "additional": "time" if analysis.endswith("_curve") else "",
            "min_cell_count": minimum,
            "study_spec_hash": results.provenance.spec_hash,
        }
        for name, value in settings.items():
            rows.append(
                {
                    "result_id": result_id,
                    "cdm_name": None,
                    "group_name": _OVERALL,
                    "group_level": _OVERALL,
                    "strata_name": _OVERALL,
                    "strata_level": _OVERALL,
                    "variable_name": "settings",
                    "variable_level": None,
                    "estimate_name": name,
                    "estimate_type": "character",
                    "estimate_value": value,
                    "additional_name": _OVERALL,
                    "additional_level": _OVERALL,
                }
            )
    return pd.DataFrame(rows, columns=list(SUMMARISED_COLUMNS))


def to_summarised_result(results: ResultSet, *, cdm_name: str) -> pd.DataFrame:
    """Return suppressed results as omopgenerics' ``summarised_result``, settings included.

    Parameters
    ----------
    results : ResultSet
        Suppressed results (as every export, this refuses unsuppressed ones).
    cdm_name : str
        The CDM's name (``cdm_source.cdm_source_name``, or the source's description).

    Returns
    -------
    pandas.DataFrame
        The 13 columns of :data:`SUMMARISED_COLUMNS`: the records, then the settings rows.
    """
    records = publishable_records(results)
    records = records[~records["analysis"].str.endswith("_curve_counts")]
    is_curve = records["analysis"].str.endswith("_curve")
    records = pd.concat([records[~is_curve], _curve_records(records[is_curve])], ignore_index=True)
    ids = {name: i for i, name in enumerate(sorted(records["analysis"].unique()), start=1)}
    table = _rows(records, ids, cdm_name)
    return pd.concat([table, _settings(records, ids, results)], ignore_index=True)


def write_summarised_result(results: ResultSet, out_dir: str | Path, *, cdm_name: str) -> Path:
    """Write :func:`to_summarised_result` to ``out_dir/summarised_result.csv``.

    Returns
    -------
    pathlib.Path
        The file written (UTF-8, ``NA`` for a missing field as R writes it).
    """
    path = Path(out_dir) / SUMMARISED_FILE
    frame = to_summarised_result(results, cdm_name=cdm_name)
    frame.to_csv(path, index=False, na_rep="NA", lineterminator="\n")
    return path


# --- what omopgenerics' importSummarisedResult() checks ---------------------------------------

#: omopgenerics' ``estimateTypeChoices()``
ESTIMATE_TYPE_CHOICES = frozenset(
    {"numeric", "integer", "date", "character", "proportion", "percentage", "logical"}
)
#: columns that may be NA (``fieldsResults$na_allowed``): result_id, variable_level, estimate_value
_NA_ALLOWED = frozenset({"result_id", "variable_level", "estimate_value"})
#: what readr's ``read_csv`` reads as NA by default
_READR_NA = frozenset({"", "NA"})
#: settings every result_id has (``createSettings``: added empty, with a message, when missing)
_REQUIRED_SETTINGS = ("result_type", "package_name", "package_version")
#: variable names whose count rows ``checkGroupCount`` allows once per grouping (``groupCount``)
_GROUP_COUNTS = frozenset({"number subjects", "number records"})
_GROUPING = (
    "result_id",
    "cdm_name",
    "group_name",
    "group_level",
    "strata_name",
    "strata_level",
    "additional_name",
    "additional_level",
)
_PAIR_SEP = " &&& "
#: snakecase::to_snake_case(numerals = "asis") leaves these unchanged
_SNAKE_CASE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")
_INTEGER = re.compile(r"[+-]?\d+")


def _labels(value: str | None) -> set[str]:
    parts = (value or "").split(_PAIR_SEP)
    return {p for p in parts if p not in ("", _OVERALL)}


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _value_fits(value: str, estimate_type: str) -> bool:
    if estimate_type == "integer":
        return _INTEGER.fullmatch(value) is not None
    if estimate_type in ("numeric", "percentage", "proportion"):
        return _number(value)
    if estimate_type == "date":
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
    if estimate_type == "logical":
        return value in ("TRUE", "FALSE")
    return True


def _read_text(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.astype(object).where(source.notna(), "NA").astype(str)
    # every field as its text; readr's NA markers are told apart below
    return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8")


def _settings_problems(settings: pd.DataFrame, data: pd.DataFrame) -> list[str]:
    problems = []
    if not settings["estimate_type"].eq("character").all():
        bad = sorted(set(settings.loc[~settings["estimate_type"].eq("character"), "estimate_name"]))
        problems.append(f"settings_type: settings {bad} are not of estimate_type 'character'")
    twice = settings[settings.duplicated(["result_id", "estimate_name"], keep=False)]
    if not twice.empty:
        pairs = sorted(
            {f"{r}/{n}" for r, n in zip(twice.result_id, twice.estimate_name, strict=True)}
        )
        problems.append(f"settings_unique: a setting given twice for one result_id: {pairs[:5]}")
        settings = settings.drop_duplicates(["result_id", "estimate_name"])
    value = settings["estimate_value"].where(~settings["estimate_value"].isin(_READR_NA), "")
    wide = settings.assign(estimate_value=value).pivot(
        index="result_id", columns="estimate_name", values="estimate_value"
    )
    for name in _REQUIRED_SETTINGS:
        empty = wide.index if name not in wide else wide.index[wide[name].fillna("").eq("")]
        if len(empty):
            problems.append(f"settings_required: result_id {sorted(empty)[:5]} without {name}")
    if wide.duplicated(keep=False).any():
        same = sorted(wide.index[wide.duplicated(keep=False)])
        problems.append(f"settings_distinct: result_ids {same[:5]} have the same settings")
    missing = sorted(set(data["result_id"]) - set(wide.index))
    if missing:
        problems.append(f"settings_ids: result_id {missing[:5]} has data but no settings")
    for result_id, row in wide.iterrows():
        mine = data[data["result_id"] == result_id]
        labels = {}
        for prefix in ("group", "strata", "additional"):
            if prefix in wide and pd.notna(row[prefix]):
                labels[prefix] = _labels(row[prefix])
            else:  # addLabels: from the data's names
                labels[prefix] = set().union(*map(_labels, mine[f"{prefix}_name"]))
        for one, other in (("group", "strata"), ("group", "additional"), ("strata", "additional")):
            both = labels[one] & labels[other]
            if both:
                problems.append(
                    f"settings_overlap: result_id {result_id}: {sorted(both)} in both {one} "
                    f"and {other}"
                )
    return problems


def _data_problems(data: pd.DataFrame) -> list[str]:
    problems = []
    for column in SUMMARISED_COLUMNS:
        if column not in _NA_ALLOWED and data[column].isin(_READR_NA).any():
            n = int(data[column].isin(_READR_NA).sum())
            problems.append(f"not_na: {column} is empty or NA in {n} row(s)")
    bad_types = sorted(set(data["estimate_type"]) - ESTIMATE_TYPE_CHOICES)
    if bad_types:
        problems.append(f"estimate_type: {bad_types} not in estimateTypeChoices()")
    for prefix in ("group", "strata", "additional"):
        names, levels = data[f"{prefix}_name"], data[f"{prefix}_level"]
        unequal = names.str.count(_PAIR_SEP) != levels.str.count(_PAIR_SEP)
        if unequal.any():
            first = data[unequal].iloc[0]
            problems.append(
                f"pairs: {prefix}_name and {prefix}_level differ in their number of "
                f"' &&& ' parts in {int(unequal.sum())} row(s), e.g. "
                f"{first[f'{prefix}_name']!r} / {first[f'{prefix}_level']!r}"
            )
        elements = {e for n in names.unique() for e in n.split(_PAIR_SEP)}
        not_snake = sorted(e for e in elements if not _SNAKE_CASE.fullmatch(e))
        if not_snake:
            problems.append(f"snake_case: {prefix}_name elements {not_snake[:5]} not snake_case")
    key = [c for c in SUMMARISED_COLUMNS if c != "estimate_value"]
    repeated = data.drop_duplicates().duplicated(key)
    if repeated.any():
        problems.append(
            f"duplicates: {int(repeated.sum())} row(s) repeat a key with another estimate_value"
        )
    label = data["variable_name"].str.replace("_", " ").str.lower()
    for count_label in sorted(_GROUP_COUNTS):
        rows = data[label.eq(count_label) & data["estimate_name"].str.contains("count")]
        per_group = rows.groupby(list(_GROUPING)).size()
        if (per_group > 1).any():
            problems.append(
                f"group_count: {int((per_group > 1).sum())} grouping(s) with more than one "
                f"count of {count_label!r}"
            )
    return problems


def _allrwe_problems(data: pd.DataFrame, settings: pd.DataFrame) -> list[str]:
    problems = []
    shown = data[~data["estimate_value"].isin(_READR_NA | {_SUPPRESSED})]
    fits = [
        _value_fits(v, t) for v, t in zip(shown.estimate_value, shown.estimate_type, strict=True)
    ]
    if not all(fits):
        bad = shown[[not f for f in fits]].iloc[0]
        problems.append(
            f"values: {len(fits) - sum(fits)} value(s) do not read as their estimate_type, "
            f"e.g. {bad.estimate_value!r} as {bad.estimate_type}"
        )
    minimum = settings[settings["estimate_name"].eq("min_cell_count")]
    limits = {
        r: int(v)
        for r, v in zip(minimum.result_id, minimum.estimate_value, strict=True)
        if v.isdigit()
    }
    if len(limits) != settings["result_id"].nunique():
        problems.append("suppression: a result_id without an integer min_cell_count setting")
    counts = shown[shown["estimate_name"].str.contains("count") & shown.estimate_value.map(_number)]
    values = counts["estimate_value"].astype("float64")
    small = (values > 0) & (values < counts["result_id"].map(limits).fillna(0))
    if small.any():
        problems.append(
            f"suppression: {int(small.sum())} count(s) between 0 and min_cell_count shown "
            "(omopgenerics' suppress() would hide them)"
        )
    return problems


def check_summarised_result(source: str | Path | pd.DataFrame) -> list[str]:
    """Return what keeps a ``summarised_result`` file from importing cleanly into omopgenerics.

    The rules are those ``importSummarisedResult()`` of omopgenerics 1.3.6 applies (reading
    every column as text but ``result_id`` as an integer, with ``""`` and ``NA`` as missing),
    each problem starting with its rule's name:

    ``columns``, ``result_id``
        the 13 columns of ``resultColumns()`` in order; ``result_id`` an integer;
    ``settings_type``, ``settings_unique``, ``settings_required``, ``settings_distinct``,
    ``settings_ids``, ``settings_overlap``
        settings rows (``variable_name == "settings"``) of type ``character``, one per name and
        ``result_id``, with ``result_type``, ``package_name`` and ``package_version``; no two
        ``result_id`` with the same settings; every ``result_id`` of the data has settings; the
        group, strata and additional labels of a ``result_id`` share no name;
    ``not_na``, ``estimate_type``, ``pairs``, ``snake_case``, ``duplicates``, ``group_count``
        data rows: no missing value but in ``result_id``, ``variable_level``,
        ``estimate_value``; ``estimateTypeChoices()``; as many ``" &&& "`` parts in each
        ``*_name`` as in its ``*_level``; names in snake_case; no key with two values; one
        count of ``number subjects`` / ``number records`` per grouping;

    and allrwe's own: ``values`` (each shown value reads as its ``estimate_type``) and
    ``suppression`` (an integer ``min_cell_count`` per ``result_id``; no count from 1 to
    ``min_cell_count - 1`` shown, which omopgenerics' ``suppress()`` would hide).

    Parameters
    ----------
    source : str, pathlib.Path or pandas.DataFrame
        The CSV file, or its rows (missing values as ``None``/NaN).

    Returns
    -------
    list of str
        Empty when the file passes every rule.
    """
    table = _read_text(source)
    if tuple(table.columns) != SUMMARISED_COLUMNS:
        return [
            f"columns: {list(table.columns)} are not resultColumns() {list(SUMMARISED_COLUMNS)}"
        ]
    problems = []
    if not table["result_id"].map(lambda v: _INTEGER.fullmatch(v) is not None).all():
        problems.append("result_id: a result_id that is not an integer")
        return problems
    table = table.assign(result_id=table["result_id"].astype("int64"))
    is_setting = table["variable_name"].eq("settings")
    settings, data = table[is_setting], table[~is_setting]
    problems += _settings_problems(settings, data)
    problems += _data_problems(data)
    problems += _allrwe_problems(data, settings)
    return problems
