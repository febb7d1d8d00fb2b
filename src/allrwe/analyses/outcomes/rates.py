"""Response and MRD rates with exact (Clopper–Pearson) confidence intervals, by group and stratum.

Denominators (docs/outcomes.md):

* response rates: every person of the group and stratum (intent to treat; a person without an
  assessment counts as not responding and is reported in ``n_not_evaluable``), except persons
  already in remission at index (treatment setting ``consolidation``): they cannot respond, so
  they are left out and counted in ``in_cr_at_index`` (seed 001 reports "NA" for them);
* MRD rates: responders (best response CR/CRh/CRi) with at least one MRD record in the
  assessment period, as in seed 001 ("patients with available MRD records");
* MRD rates *in remission*: the same, plus the persons in remission at index (seed 001: "the
  MRD remission rate in R/R patients who achieved CR was 73 % (19/26)", 26 = the R/R
  re-induction responders and the R/R patients in CR at start with an MRD record);
* transplant counts among responders (descriptive, seed 003: responders after cycle 1 of
  whom "7 … underwent allo-HCT"; best responders of whom "39 (58.2 %) underwent allo-HCT"):
  the evaluable persons who responded in cycle 1 (in cycles 1..N); the numerator, those with
  an allo-HSCT after index before a second cycle of the index treatment (at any time after
  index). Not a comparison of outcomes by transplant.

Without labs (claims) every rate has status ``"not available"`` and no estimate; so have the
MRD rates without an MRD record for the cohort and the transplant counts without any
transplant record in the CDM.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from allrwe.analyses.outcomes.response import (
    AVAILABLE,
    NOT_AVAILABLE,
    NOT_EVALUABLE,
    RESPONSE_LEVELS,
    ResponseResult,
)
from allrwe.analyses.outcomes.strata import add_strata, parse_strata, strata_levels
from allrwe.analyses.survival.distributions import beta_ppf
from allrwe.cohort.status import in_cr_at_index
from allrwe.errors import AnalysisError
from allrwe.spec import StudySpec

__all__ = ["IN_CR_AT_INDEX", "RATE_DEFINITIONS", "clopper_pearson", "response_rates"]

#: Rate of the persons in remission at index, who are not evaluable for response; its
#: denominator is every person of the group and stratum.
IN_CR_AT_INDEX = "in_cr_at_index"

#: Rate name -> (numerator flag, denominator rule, description).
RATE_DEFINITIONS: dict[str, tuple[str, str, str]] = {
    "response": ("responder", "all", "best response CR, CRh or CRi"),
    "cr": ("cr", "all", "best response CR"),
    "cr_crh": ("cr_crh", "all", "best response CR or CRh"),
    "response_first_cycle": ("response_first_cycle", "all", "CR/CRh/CRi in cycle 1"),
    "response_within_n": ("response_within_n", "all", "CR/CRh/CRi within N cycles"),
    "cr_within_n": ("cr_within_n", "all", "CR within N cycles"),
    "cr_crh_within_n": ("cr_crh_within_n", "all", "CR or CRh within N cycles"),
    "mrd_negative": ("mrd_negative", "mrd", "MRD < threshold, any time in the period"),
    "mrd_negative_within_n": ("mrd_negative_within_n", "mrd", "MRD < threshold within N cycles"),
    "mrd_negative_in_remission": (
        "mrd_negative", "remission_mrd", "MRD < threshold among persons in remission (reached "
        "or at index) with an MRD record"),
    "mrd_negative_in_remission_within_n": (
        "mrd_negative_within_n", "remission_mrd", "MRD < threshold within N cycles among "
        "persons in remission (reached or at index) with an MRD record"),
    "hsct_after_first_cycle_response": (
        "hsct_before_second_cycle", "first_cycle_responders", "allo-HSCT after index, before "
        "a second cycle, among the responders in cycle 1"),
    "hsct_after_response_within_n": (
        "hsct_after_index", "responders_within_n", "allo-HSCT after index among the "
        "responders within N cycles"),
}  # fmt: skip
#: Rules whose rates need MRD records, and those that need transplant records.
_MRD_RULES = ("mrd", "remission_mrd")
_HSCT_RULES = ("first_cycle_responders", "responders_within_n")


def clopper_pearson(
    x: int | np.ndarray, n: int | np.ndarray, conf_level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Return the exact binomial (Clopper–Pearson) confidence limits of ``x / n``.

    Parameters
    ----------
    x, n : int or array_like
        Successes and trials (``0 <= x <= n``); NaN limits where ``n`` is 0.
    conf_level : float, default 0.95
        Two-sided coverage.

    Returns
    -------
    lower, upper : numpy.ndarray
        Limits as proportions; lower is 0 when ``x`` is 0, upper 1 when ``x == n``, as R's
        ``binom.test``.

    Raises
    ------
    AnalysisError
        If a count is negative or above its ``n``, or ``conf_level`` is not in (0, 1).

    References
    ----------
    Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated in the
    case of the binomial. Biometrika 26:404–413.

    Examples
    --------
    >>> lo, hi = clopper_pearson(14, 28)
    >>> round(float(lo), 7), round(float(hi), 7)
    (0.3064709, 0.6935291)
    """
    if not 0 < conf_level < 1:
        raise AnalysisError(f"conf_level must be within (0, 1); got {conf_level!r}")
    xs = np.asarray(x, dtype="float64")
    ns = np.asarray(n, dtype="float64")
    if np.any(xs < 0) or np.any(xs > ns):
        raise AnalysisError("clopper_pearson needs 0 <= x <= n for every count")
    alpha = 1.0 - conf_level
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = np.where(xs > 0, beta_ppf(alpha / 2, xs, ns - xs + 1), 0.0)
        upper = np.where(xs < ns, beta_ppf(1 - alpha / 2, xs + 1, ns - xs), 1.0)
    empty = ns == 0
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


def _bases(frame: pd.DataFrame, in_cr: np.ndarray) -> dict[str, pd.DataFrame]:
    """Return the denominator persons of each rule of :data:`RATE_DEFINITIONS`."""
    evaluable = frame[~in_cr]
    responder = frame["responder"].astype(bool).to_numpy()
    mrd = frame["mrd_evaluable"].astype(bool).to_numpy()
    return {
        "all": evaluable,
        "mrd": frame[responder & mrd],
        "remission_mrd": frame[(responder | in_cr) & mrd],
        "first_cycle_responders": evaluable[evaluable["response_first_cycle"].astype(bool)],
        "responders_within_n": evaluable[evaluable["response_within_n"].astype(bool)],
    }


def _rate_rows(frame: pd.DataFrame, response: ResponseResult) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    available = response.available
    n_all = len(frame)
    in_cr = in_cr_at_index(frame)
    n_eval = int((~in_cr).sum())
    bases = _bases(frame, in_cr) if available else {}
    for name, (flag, rule, _) in RATE_DEFINITIONS.items():
        num: int | None = None
        den: int | None = n_eval if rule == "all" else None
        known = available
        known &= response.mrd_available or rule not in _MRD_RULES
        known &= response.hsct_available or rule not in _HSCT_RULES
        if known:
            base = bases[rule]
            num, den = int(base[flag].astype(bool).sum()), len(base)
        status = AVAILABLE if known else NOT_AVAILABLE
        rows.append({"variable": name, "numerator": num, "denominator": den, "status": status})
    if not available:
        return rows
    evaluable = bases["all"]
    rows.append({"variable": IN_CR_AT_INDEX, "numerator": int(in_cr.sum()), "denominator": n_all,
                 "status": AVAILABLE})  # fmt: skip
    counts = evaluable["best_response"].value_counts()
    for level in (*RESPONSE_LEVELS[::-1], NOT_EVALUABLE):
        rows.append(
            {"variable": f"best_response={level}", "numerator": int(counts.get(level, 0)),
             "denominator": n_eval, "status": AVAILABLE}
        )  # fmt: skip
    return rows


def response_rates(
    response: ResponseResult,
    spec: StudySpec,
    *,
    by: Sequence[str | Sequence[str]] = (),
    strata: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Return response and MRD rates per group, overall and per stratum level.

    Persons in remission at index (treatment setting ``consolidation``) are not evaluable for
    response: they are left out of the response denominators and counted in
    :data:`IN_CR_AT_INDEX`; MRD rates still include them.

    Parameters
    ----------
    response : ResponseResult
        :func:`~allrwe.analyses.outcomes.assess_response` output.
    spec : StudySpec
        Study specification (``outcomes.conf_level``, ``age_bands``).
    by : sequence of str or of tuples of str
        Strata: a column of the person table or a derived stratum (``setting``,
        ``treatment_setting``, ``line``, ``sex``, ``age_band``, or a column of ``strata``); a
        tuple crosses its strata (e.g. ``("setting", "treatment_setting")``, seed 001 table 2).
    strata : pandas.DataFrame, optional
        Extra per-person columns (``person_id, group, ...``), e.g. ``ph_status``.

    Returns
    -------
    pandas.DataFrame
        ``group, strata_name, strata_level, variable, status, numerator, denominator,
        estimate, lower, upper`` (proportions; ``variable`` is a key of
        :data:`RATE_DEFINITIONS` or ``best_response=<level>``). With status ``"not available"``
        numerator and estimate are missing; ``denominator`` is the group size for response
        rates and missing for the others (MRD rates, transplant counts).
    """
    persons = add_strata(response.persons, spec, strata)
    rows: list[dict[str, object]] = []
    for group, frame in persons.groupby("group", sort=False):
        for name, level, part in strata_levels(frame, parse_strata(by)):
            for row in _rate_rows(part, response):
                rows.append({"group": group, "strata_name": name, "strata_level": level, **row})
    cols = ["group", "strata_name", "strata_level", "variable", "status", "numerator",
            "denominator", "estimate", "lower", "upper"]  # fmt: skip
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    num = out["numerator"].astype("float64")
    den = out["denominator"].astype("float64")
    known = num.notna() & den.notna()
    lower, upper = np.full(len(out), np.nan), np.full(len(out), np.nan)
    if known.any():
        lower[known.to_numpy()], upper[known.to_numpy()] = clopper_pearson(
            num[known].to_numpy(), den[known].to_numpy(), spec.outcomes.conf_level
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["estimate"] = np.where(den > 0, num / den.where(den > 0, 1.0), np.nan)
    out["lower"], out["upper"] = lower, upper
    out["numerator"] = out["numerator"].astype("Int64")
    out["denominator"] = out["denominator"].astype("Int64")
    return out[cols]
