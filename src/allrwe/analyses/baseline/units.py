"""Per-row values of the baseline variables, the ``overall`` column and the strata.

A *unit* is one cohort row (a person in one index group). :func:`collect_values` executes the
variables' queries in one engine round trip and returns one row per unit with a column per
variable; :func:`with_strata` adds the stratum levels; :func:`columns` splits the units into the
table's columns: each group, and ``overall`` (each person once, at their earliest index date).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from allrwe.analyses.baseline.records import OVERALL
from allrwe.analyses.baseline.registry import BASELINE_VARIABLES
from allrwe.analyses.baseline.variables import BaselineContext, BaselineVariable
from allrwe.errors import AnalysisError
from allrwe.spec import StudySpec

__all__ = [
    "CROSSED_SEPARATOR",
    "STRATUM_VARIABLES",
    "StratumSpec",
    "UnitValues",
    "build_variables",
    "collect_values",
    "columns",
    "first_entries",
    "strata_masks",
    "strata_of",
    "stratum_name",
    "stratum_parts",
    "table_strata",
]

#: the baseline variable that defines each stratum of ``StudySpec.strata`` (``group``: the
#: index group itself)
STRATUM_VARIABLES: dict[str, str] = {
    "ph_status": "ph_status",
    "setting": "setting",
    "treatment_setting": "treatment_setting",
    "age_band": "age_band",
    "sex": "sex",
    "line": "line",
    "prior_hsct": "prior_hsct",
    "relapse_category": "relapse_category",
    "post_hct_relapse": "post_hct_relapse",
    "relapse_site": "relapse_site",
    "gvhd_at_index": "gvhd_at_index",
}

_MULTI = "\x1f"


@dataclass(frozen=True)
class UnitValues:
    r"""Values of the variables, one row per cohort row.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``person_id, group, index_date`` and one column per categorical or continuous
        variable (level strings or floats), plus one boolean column ``"<name>\\x1f<level>"``
        per level of each multi-response variable.
    variables : dict of str to BaselineVariable
        The variables by name.
    """

    frame: pd.DataFrame
    variables: dict[str, BaselineVariable]

    def multi_column(self, name: str, level: str) -> str:
        """Column of ``frame`` holding whether a unit has ``level`` of multi variable ``name``."""
        return f"{name}{_MULTI}{level}"


def build_variables(ctx: BaselineContext, names: Sequence[str]) -> list[BaselineVariable]:
    """Run the builders ``names`` and return their variables, in order."""
    out: list[BaselineVariable] = []
    for name in names:
        out.extend(BASELINE_VARIABLES[name](ctx))
    seen: set[str] = set()
    for var in out:
        if var.name in seen or var.name in ("person_id", "group", "index_date"):
            raise AnalysisError(f"two baseline variables are named {var.name!r}")
        seen.add(var.name)
    return out


def _executed(ctx: BaselineContext, variables: Sequence[BaselineVariable]) -> pd.DataFrame:
    parts = [
        v.query.mutate(variable=ibis.literal(v.name, type="string"))
        for v in variables
        if v.query is not None
    ]
    frames = [v.frame.assign(variable=v.name) for v in variables if v.frame is not None]
    if parts:
        union = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
        frames.append(ctx.source.execute(union))
    columns = ["person_id", "group", "level", "value", "variable"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    long = pd.concat([f[columns] for f in frames], ignore_index=True)
    long["person_id"] = long["person_id"].astype("int64")
    long["group"] = long["group"].astype(str)
    long["level"] = long["level"].astype(object).where(long["level"].notna(), None)
    long["value"] = pd.to_numeric(long["value"], errors="coerce").astype("float64")
    return long


def collect_values(ctx: BaselineContext, variables: Sequence[BaselineVariable]) -> UnitValues:
    """Execute the variables and return their values per cohort row.

    Cohort rows without a value get the variable's default level (categorical, multi) or NaN
    (continuous). Queries returning two rows for one cohort row are a builder bug.

    Raises
    ------
    AnalysisError
        A builder returned two values for one cohort row.
    """
    units = ctx.frame[["person_id", "group", "index_date"]].copy()
    units["person_id"] = units["person_id"].astype("int64")
    units["group"] = units["group"].astype(str)
    long = _executed(ctx, variables)
    out = units.reset_index(drop=True)
    extra: dict[str, np.ndarray] = {}
    for var in variables:
        rows = long[long["variable"] == var.name]
        if var.kind == "multi":
            extra.update(_multi_columns(out, rows, var))
            continue
        if rows.duplicated(["person_id", "group"]).any():
            raise AnalysisError(f"baseline variable {var.name!r} has two values for one cohort row")
        merged = out[["person_id", "group"]].merge(rows, on=["person_id", "group"], how="left")
        if var.kind == "continuous":
            extra[var.name] = merged["value"].to_numpy(dtype="float64", na_value=np.nan)
        else:
            level = merged["level"].astype(object)
            extra[var.name] = level.where(level.notna(), var.default).to_numpy(dtype=object)
    frame = pd.concat([out, pd.DataFrame(extra, index=out.index)], axis=1)
    return UnitValues(frame=frame, variables={v.name: v for v in variables})


def _multi_columns(
    units: pd.DataFrame, rows: pd.DataFrame, var: BaselineVariable
) -> dict[str, np.ndarray]:
    keys = pd.MultiIndex.from_frame(units[["person_id", "group"]])
    found = rows[rows["level"].notna()]
    out: dict[str, np.ndarray] = {}
    any_level = np.zeros(len(units), dtype=bool)
    for level in var.levels:
        if level == var.default:
            continue
        hit = found[found["level"] == level]
        has = keys.isin(pd.MultiIndex.from_frame(hit[["person_id", "group"]]))
        out[f"{var.name}{_MULTI}{level}"] = np.asarray(has, dtype=bool)
        any_level |= has
    if var.default is not None:
        out[f"{var.name}{_MULTI}{var.default}"] = ~any_level
    return out


#: joins the names and levels of crossed strata (CohortSurvival's ``&&&``, as in the outcomes)
CROSSED_SEPARATOR = " &&& "

#: a stratum: one name, or a tuple of names crossed with each other
StratumSpec = str | tuple[str, ...]


def _one_stratum(values: UnitValues, name: str) -> tuple[np.ndarray, list[str]]:
    frame = values.frame
    if name == "group":
        level = frame["group"].to_numpy(dtype=object)
        order = list(dict.fromkeys(level.tolist()))
    else:
        var = values.variables[STRATUM_VARIABLES[name]]
        level = frame[var.name].to_numpy(dtype=object)
        present = set(level.tolist())
        order = [lv for lv in var.levels if lv in present]
        order += sorted(str(lv) for lv in present if lv not in var.levels)
    return level.astype(str).astype(object), order


def _crossed(parts: Sequence[tuple[np.ndarray, list[str]]]) -> tuple[np.ndarray, list[str]]:
    """Cross the levels of ``parts``: each unit's levels joined, in the parts' display order."""
    level = parts[0][0]
    orders: list[tuple[str, ...]] = [(lv,) for lv in parts[0][1]]
    for part_level, part_order in parts[1:]:
        level = np.asarray([f"{a}{CROSSED_SEPARATOR}{b}" for a, b in zip(level, part_level,
                            strict=True)], dtype=object)  # fmt: skip
        orders = [(*o, lv) for o in orders for lv in part_order]
    present = set(level.tolist())
    order = [CROSSED_SEPARATOR.join(o) for o in orders]
    return level, [lv for lv in order if lv in present]


def stratum_name(stratum: StratumSpec) -> str:
    """Return the ``strata_name`` of a stratum: its name, or crossed names joined by ``&&&``.

    Examples
    --------
    >>> stratum_name(("setting", "treatment_setting"))
    'setting &&& treatment_setting'
    """
    return stratum if isinstance(stratum, str) else CROSSED_SEPARATOR.join(stratum)


def stratum_parts(strata: Sequence[StratumSpec]) -> list[str]:
    """Return every single stratum name that ``strata`` use, once, in order."""
    names = [n for s in strata for n in ((s,) if isinstance(s, str) else s)]
    return list(dict.fromkeys(names))


def table_strata(spec: StudySpec) -> list[StratumSpec]:
    """Return the strata a table is cut by: ``spec.strata``, then each ``crossed_strata``.

    Duplicates are dropped; a crossed stratum is a tuple of names.
    """
    crossed = [tuple(c) for c in spec.crossed_strata]
    return list(dict.fromkeys([*spec.strata, *crossed]))


def strata_of(
    values: UnitValues, names: Sequence[StratumSpec]
) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Return, per stratum name, each unit's level and the levels in display order.

    Levels are those declared by the stratum's variable that occur in the cohort. A crossed
    stratum (a tuple of names) is named ``"a &&& b"``; its levels ``"x &&& y"`` follow the
    display order of ``a``, then of ``b``, and only combinations that occur are listed.
    """
    out: dict[str, tuple[np.ndarray, list[str]]] = {}
    for stratum in names:
        if isinstance(stratum, str):
            out[stratum] = _one_stratum(values, stratum)
        else:
            parts = [_one_stratum(values, name) for name in stratum]
            out[stratum_name(stratum)] = _crossed(parts)
    return out


def strata_masks(
    values: UnitValues, strata: Sequence[StratumSpec]
) -> Iterator[tuple[tuple[str, str], np.ndarray]]:
    """Yield ``((strata_name, strata_level), row mask)``: ``overall`` first, then each level.

    Parameters
    ----------
    values : UnitValues
        Values holding the strata variables.
    strata : sequence of str or tuple of str
        Stratum names (``StudySpec.strata``) and crossed strata (``StudySpec.crossed_strata``
        as tuples).
    """
    n = len(values.frame)
    yield (OVERALL, OVERALL), np.ones(n, dtype=bool)
    for name, (level, order) in strata_of(values, strata).items():
        for lv in order:
            yield (name, lv), level == lv


def first_entries(frame: pd.DataFrame, groups: Sequence[str]) -> np.ndarray:
    """Boolean mask of each person's first cohort row (earliest index date, then group order).

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``person_id, group, index_date``.
    groups : sequence of str
        The groups in spec order (ties on the index date go to the earlier group).
    """
    order = {g: i for i, g in enumerate(groups)}
    ranked = pd.DataFrame(
        {
            "person_id": frame["person_id"].to_numpy(),
            "index_date": pd.to_datetime(frame["index_date"]).to_numpy(),
            "_g": frame["group"].map(order).fillna(len(order)).to_numpy(),
            "_row": np.arange(len(frame)),
        }
    ).sort_values(["person_id", "index_date", "_g", "_row"], kind="mergesort")
    keep = ranked.drop_duplicates("person_id")["_row"].to_numpy()
    mask = np.zeros(len(frame), dtype=bool)
    mask[keep] = True
    return mask


def columns(frame: pd.DataFrame, groups: Sequence[str]) -> list[tuple[str, np.ndarray]]:
    """Return ``(column name, row mask)`` for each group in spec order, then ``overall``.

    Raises
    ------
    AnalysisError
        An index group is named ``overall``, which is the name of the pooled column.
    """
    if OVERALL in groups:
        raise AnalysisError(
            f"index group {OVERALL!r} clashes with the pooled column of the tables; rename it"
        )
    group = frame["group"].to_numpy(dtype=object)
    out = [(g, group == g) for g in groups]
    out.append((OVERALL, first_entries(frame, groups)))
    return out
