"""Table 1's standardised differences where nobody has a value: not estimable, never 0.

The baseline analysis computes the SMD of a categorical variable over all its levels,
``unknown`` included. When every person of both groups is ``unknown`` (claims record no
bone-marrow blasts, CNS involvement, MRD or genetics), the two distributions are the same
(100 % unknown) and the formula gives 0.000, which reads as "balanced". Nothing is known
about the variable in either group, so its SMD is not estimable: the analysis records NaN
(``allrwe.analyses.baseline.table``) and the report shows NE with a note. The report decides
from the published counts, so an output folder written with 0.0 there reads the same.
"""

from __future__ import annotations

import pandas as pd

from allrwe.results.model import PAIR_SEPARATOR

__all__ = ["NO_VALUE_LEVELS", "SMD_NO_VALUE_NOTE", "no_value_smds", "nobody_with_a_value"]

#: levels that hold the persons without a value: ``unknown`` (categories), ``missing``
#: (continuous variables)
NO_VALUE_LEVELS = ("unknown", "missing")
#: the note of a Table 1 that shows such an SMD as NE
SMD_NO_VALUE_NOTE = (
    "SMD NE: no person of either group compared has a value (all unknown), so the groups "
    "cannot be compared."
)
_KEY = ["group", "strata_name", "strata_level", "variable"]


def nobody_with_a_value(records: pd.DataFrame) -> set[tuple[str, str, str, str]]:
    """Return the ``(group, strata_name, strata_level, variable)`` in which nobody has a value.

    A variable has no value for anyone of a column when every published count of its levels
    other than :data:`NO_VALUE_LEVELS` is 0 (for a continuous variable, the count of persons
    with a value, level ``overall``). A hidden count could be a person with a value, so a
    column with one is never in the set.

    Parameters
    ----------
    records : pandas.DataFrame
        Baseline records (suppressed).

    Returns
    -------
    set of tuple of str
        The columns and variables without any value.

    Examples
    --------
    >>> from allrwe.results import make_records
    >>> rec = make_records(analysis="baseline", group="BLIN", variable="cns_involvement",
    ...                    variable_level=["yes", "no", "unknown"], estimate_name="count",
    ...                    value=[0, 0, 373])
    >>> nobody_with_a_value(rec)
    {('BLIN', 'overall', 'overall', 'cns_involvement')}
    """
    counts = records[
        (records["estimate_name"] == "count")
        & ~records["variable_level"].isin(NO_VALUE_LEVELS)
        & (records["variable"] != "persons")
    ]
    if counts.empty:
        return set()
    none = (counts["value"] == 0) & ~counts["suppressed"].astype(bool)
    keys = zip(*(counts[k].astype(str) for k in _KEY), strict=True)
    out: dict[tuple[str, str, str, str], bool] = {}
    for (group, sn, sl, variable), empty in zip(keys, none, strict=True):
        key = (group, sn, sl, variable)
        out[key] = out.get(key, True) and bool(empty)
    return {key for key, empty in out.items() if empty}


def no_value_smds(records: pd.DataFrame) -> pd.Series:
    """Return the mask of the SMD records whose variable nobody of the two groups has.

    An SMD record's group is the pair compared (``"INO vs BLIN"``); it is in the mask when
    neither group has a person with a value of the variable in that stratum
    (:func:`nobody_with_a_value`). The report shows those SMDs as NE.

    Parameters
    ----------
    records : pandas.DataFrame
        Baseline records (suppressed).

    Returns
    -------
    pandas.Series of bool
        Aligned with ``records``.
    """
    mask = pd.Series(False, index=records.index)
    empty = nobody_with_a_value(records)
    smd = records["estimate_name"] == "smd"
    if not empty or not smd.any():
        return mask
    for i, pair, sn, sl, var in zip(
        records.index[smd],
        records.loc[smd, "group"].astype(str),
        records.loc[smd, "strata_name"].astype(str),
        records.loc[smd, "strata_level"].astype(str),
        records.loc[smd, "variable"].astype(str),
        strict=True,
    ):
        groups = pair.split(PAIR_SEPARATOR)
        mask[i] = len(groups) == 2 and all((g, sn, sl, var) in empty for g in groups)
    return mask
