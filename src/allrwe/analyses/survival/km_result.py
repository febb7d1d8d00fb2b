"""Result of a Kaplan–Meier fit: the curve, and its quantiles, landmarks and restricted mean.

The methods answer the way R's ``quantile.survfit`` and ``summary.survfit`` do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.survival._confint import ConfType, find_quantile
from allrwe.analyses.survival._inputs import FloatArray
from allrwe.errors import AnalysisError

__all__ = ["KaplanMeierResult", "QuantileEstimate", "RmstEstimate"]


@dataclass(frozen=True)
class QuantileEstimate:
    """A survival-time quantile with its confidence interval.

    Attributes
    ----------
    prob : float
        Cumulative event probability: 0.5 is the median, 0.25 the time by which 25% had the
        event (where survival first reaches 0.75), as in R's ``quantile.survfit``.
    estimate, lower, upper : float
        Quantile and confidence limits, in the unit of the input times; NaN where not reached.
    """

    prob: float
    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True)
class RmstEstimate:
    """A restricted mean survival time.

    Attributes
    ----------
    tau : float
        Truncation time.
    estimate : float
        Area under the survival curve from 0 to ``tau``.
    std_err : float
        Its standard error, as R's ``se(rmean)``.
    """

    tau: float
    estimate: float
    std_err: float


@dataclass(frozen=True, eq=False)
class KaplanMeierResult:
    """A Kaplan–Meier curve, one row per distinct time (event or censoring).

    Attributes
    ----------
    time, n_risk, n_event, n_censor : numpy.ndarray
        Distinct times and the (case-weighted) numbers at risk, with the event, censored there.
    survival : numpy.ndarray
        Survival just after each time.
    std_err : numpy.ndarray
        Standard error of ``survival`` (Greenwood's, i.e. ``S`` times R's ``fit$std.err``; the
        ``std.err`` column of ``summary(fit)``).
    std_err_log : numpy.ndarray
        Standard error of ``log(survival)`` (the cumulative-hazard scale): R's ``fit$std.err``.
    lower, upper : numpy.ndarray
        Pointwise confidence limits.
    conf_type : str
        Interval transform.
    conf_level : float
        Interval coverage.
    variance : str
        ``"greenwood"``, or ``"ij"`` (infinitesimal jackknife) when case weights are not all
        whole numbers, as R switches to its robust variance then.
    n : int
        Rows used.
    """

    time: FloatArray
    n_risk: FloatArray
    n_event: FloatArray
    n_censor: FloatArray
    survival: FloatArray
    std_err: FloatArray
    std_err_log: FloatArray
    lower: FloatArray
    upper: FloatArray
    conf_type: ConfType
    conf_level: float
    variance: str
    n: int

    @property
    def table(self) -> pd.DataFrame:
        """The curve as a DataFrame, one row per distinct time (``summary(fit, censored=TRUE)``)."""
        return pd.DataFrame(
            {
                "time": self.time,
                "n_risk": self.n_risk,
                "n_event": self.n_event,
                "n_censor": self.n_censor,
                "survival": self.survival,
                "std_err": self.std_err,
                "std_err_log": self.std_err_log,
                "lower": self.lower,
                "upper": self.upper,
            }
        )

    def quantile(self, prob: float) -> QuantileEstimate:
        """Return the time by which a fraction ``prob`` had the event, with its CI.

        Parameters
        ----------
        prob : float
            Cumulative probability in [0, 1] (0.5 = median).

        Returns
        -------
        QuantileEstimate
            The first time survival is at or below ``1 - prob``; where the curve is flat at
            exactly ``1 - prob`` the midpoint to the next event time (R's rule). The limits
            come from the same search on the pointwise band, as ``quantile.survfit`` does.

        Raises
        ------
        AnalysisError
            If ``prob`` is outside [0, 1].
        """
        prob = float(prob)
        if not 0.0 <= prob <= 1.0:
            raise AnalysisError(f"prob must be within [0, 1]; got {prob!r}")
        x = np.concatenate(([0.0], self.time))

        def search(curve: FloatArray) -> float:
            return find_quantile(x, np.concatenate(([0.0], 1.0 - curve)), prob)

        # the lower band reaches 1 - prob first, so it gives the lower limit
        return QuantileEstimate(prob, search(self.survival), search(self.lower), search(self.upper))

    def median(self) -> QuantileEstimate:
        """Return the median survival time with its CI (``quantile(0.5)``).

        Returns
        -------
        QuantileEstimate
            Median and limits; NaN where not reached.
        """
        return self.quantile(0.5)

    def quantiles(self, probs: tuple[float, ...] = (0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Return several quantiles as a DataFrame (prob, estimate, lower, upper).

        Parameters
        ----------
        probs : tuple of float, default (0.25, 0.5, 0.75)
            Cumulative probabilities.

        Returns
        -------
        pandas.DataFrame
            One row per probability.
        """
        return pd.DataFrame([vars(self.quantile(p)) for p in probs])

    def at(self, times: Any, *, extend: bool = False) -> pd.DataFrame:
        """Return estimates at landmark times, as ``summary(fit, times=, extend=)``.

        Parameters
        ----------
        times : array_like
            Landmark times; sorted, non-finite ones dropped.
        extend : bool, default False
            If False, times after the last observed time are dropped (R's default); if True
            they get the last estimate and 0 at risk.

        Returns
        -------
        pandas.DataFrame
            Columns time, n_risk (at risk at the time), n_event and n_censor (since the
            previous landmark), survival, std_err (of survival), lower, upper. Empty when no
            time is left.
        """
        o = self._with_origin()
        req = np.sort(np.asarray(times, dtype=np.float64).ravel())
        req = req[np.isfinite(req)]
        if not extend:
            req = req[req <= o["time"].max()]
        right = np.searchsorted(o["time"], req, side="right")
        row = np.maximum(right, 1) - 1
        at_risk = np.append(o["n_risk"], 0.0)[np.searchsorted(o["time"], req, side="left")]

        def since_previous(counts: FloatArray) -> FloatArray:
            cum = np.concatenate(([0.0], np.cumsum(counts)))[right]
            return np.diff(np.concatenate(([0.0], cum)))

        return pd.DataFrame(
            {
                "time": req,
                "n_risk": at_risk,
                "n_event": since_previous(o["n_event"]),
                "n_censor": since_previous(o["n_censor"]),
                "survival": o["survival"][row],
                "std_err": o["std_err"][row],
                "lower": o["lower"][row],
                "upper": o["upper"][row],
            }
        )

    def rmst(self, tau: float | None = None) -> RmstEstimate:
        """Return the restricted mean survival time up to ``tau`` and its standard error.

        Parameters
        ----------
        tau : float, optional
            Truncation time; default the last observed time (R's default for one curve).
            A ``tau`` past the last time extends the last survival value. Unlike R, a ``tau``
            before the first time is accepted (the answer is ``tau``).

        Returns
        -------
        RmstEstimate
            As R's ``rmean`` and ``se(rmean)``.

        Raises
        ------
        AnalysisError
            If ``tau`` is negative or not finite.
        """
        o = self._with_origin()
        end = float(o["time"].max()) if tau is None else float(tau)
        if not np.isfinite(end) or end < 0:
            raise AnalysisError(f"tau must be a finite time >= 0; got {tau!r}")
        estimate, std_err = _restricted_mean(o, end)
        return RmstEstimate(end, estimate, std_err)

    def _with_origin(self) -> dict[str, FloatArray]:
        """Return the curve with a time-0 row (S = 1) unless it starts at 0, as ``survfit0``."""
        cols = {
            "time": self.time,
            "survival": self.survival,
            "lower": self.lower,
            "upper": self.upper,
            "std_err": self.std_err,
            "n_risk": self.n_risk,
            "n_event": self.n_event,
            "n_censor": self.n_censor,
        }
        if self.time[0] == 0:
            return cols
        first = {"time": 0.0, "survival": 1.0, "lower": 1.0, "upper": 1.0, "std_err": 0.0}
        first.update(n_risk=float(self.n_risk[0]), n_event=0.0, n_censor=0.0)
        return {k: np.concatenate(([first[k]], v)) for k, v in cols.items()}


def _restricted_mean(o: dict[str, FloatArray], end: float) -> tuple[float, float]:
    """Area under the curve to ``end`` and its variance, as ``survival:::survmean``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        remaining = o["n_risk"] - o["n_event"]
        hh = np.where(remaining == 0, 0.0, o["n_event"] / (o["n_risk"] * remaining))
    keep = o["time"] <= end
    times = np.append(o["time"][keep], end)
    surv = o["survival"][keep]
    surv = np.append(surv, surv[-1]) if surv.size else np.ones(1)
    hh = np.append(hh[keep], 0.0)
    widths = np.diff(np.concatenate(([0.0], times)))
    rectangles = widths * np.concatenate(([1.0], surv[:-1]))
    tail_area = np.cumsum(rectangles[1:][::-1])
    variance = float(np.sum(tail_area**2 * hh[::-1][1:]))
    return float(np.sum(rectangles)), float(np.sqrt(variance))
