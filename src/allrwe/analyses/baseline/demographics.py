"""Baseline variables read from the cohort frame: age, sex, setting, line of therapy."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from allrwe.analyses.baseline.variables import (
    VARIABLE_LABELS,
    BaselineContext,
    BaselineVariable,
    VariableBuilder,
    categorical,
    frame_values,
)

__all__ = ["DEMOGRAPHIC_BUILDERS", "age_band_labels"]


def age_band_labels(edges: Sequence[float]) -> list[str]:
    """Return the labels of the age bands cut at ``edges`` (e.g. ``<35, 35 to <55, >=55``)."""
    if not edges:
        return ["all ages"]
    text = [f"{e:g}" for e in edges]
    middle = [f"{a} to <{b}" for a, b in itertools.pairwise(text)]
    return [f"<{text[0]}", *middle, f">={text[-1]}"]


def _or_none(missing: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    out[missing] = None
    return out


def _age(ctx: BaselineContext) -> list[BaselineVariable]:
    frame = frame_values(ctx, None, ctx.frame["age_at_index"].astype("Float64"))
    return [BaselineVariable("age", "continuous", frame=frame, label=VARIABLE_LABELS["age"])]


def _age_band(ctx: BaselineContext) -> list[BaselineVariable]:
    edges = list(ctx.spec.age_bands)
    labels = age_band_labels(edges)
    age = pd.to_numeric(ctx.frame["age_at_index"], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    band = np.digitize(age, edges, right=False) if edges else np.zeros(len(age), dtype=int)
    named = np.array(labels, dtype=object)[np.minimum(band, len(labels) - 1)]
    level = _or_none(np.isnan(age), named)
    frame = frame_values(ctx, level)
    return [categorical("age_band", [*labels, "unknown"], "unknown", frame=frame)]


def _sex(ctx: BaselineContext) -> list[BaselineVariable]:
    gender = ctx.frame["gender_concept_id"].to_numpy()
    level = np.select([gender == 8507, gender == 8532], ["male", "female"], default="unknown")
    frame = frame_values(ctx, level)
    return [categorical("sex", ["male", "female", "unknown"], "unknown", frame=frame)]


def _setting(ctx: BaselineContext) -> list[BaselineVariable]:
    frame = frame_values(ctx, ctx.frame["setting"].astype(str))
    return [categorical("setting", ["ND", "RR", "unknown"], "unknown", frame=frame)]


def _treatment_setting(ctx: BaselineContext) -> list[BaselineVariable]:
    levels = ["induction", "consolidation", "re-induction", "unknown"]
    frame = frame_values(ctx, ctx.frame["treatment_setting"].astype(str))
    return [categorical("treatment_setting", levels, "unknown", frame=frame)]


def _counted(values: pd.Series, offset: int, first: int, cap: int) -> tuple[list[str], np.ndarray]:
    """Levels ``first .. cap-1, >=cap`` of ``values + offset`` (missing: ``None``)."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan) + offset
    text = np.nan_to_num(x).astype("int64").astype(str).astype(object)
    level = _or_none(np.isnan(x), np.where(x >= cap, f">={cap}", text))
    return [*(str(i) for i in range(first, cap)), f">={cap}"], level


def _line(ctx: BaselineContext) -> list[BaselineVariable]:
    levels, level = _counted(ctx.frame["line_at_index"], 0, 1, 4)
    frame = frame_values(ctx, level)
    return [categorical("line", [*levels, "unknown"], "unknown", frame=frame)]


def _prior_lines(ctx: BaselineContext) -> list[BaselineVariable]:
    levels, level = _counted(ctx.frame["line_at_index"], -1, 0, 3)
    frame = frame_values(ctx, level)
    return [categorical("prior_lines", [*levels, "unknown"], "unknown", frame=frame)]


#: builders of the variables read from the cohort frame, by name
DEMOGRAPHIC_BUILDERS: dict[str, VariableBuilder] = {
    "setting": _setting,
    "treatment_setting": _treatment_setting,
    "age": _age,
    "age_band": _age_band,
    "sex": _sex,
    "line": _line,
    "prior_lines": _prior_lines,
}
