"""A thin scikit-survival-style estimator on top of :func:`kaplan_meier`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from allrwe.analyses.survival._confint import ConfType, check_conf
from allrwe.analyses.survival.km import KaplanMeierResult, QuantileEstimate, kaplan_meier
from allrwe.errors import AnalysisError

__all__ = ["KaplanMeier"]


class KaplanMeier:
    """Kaplan–Meier estimator with fitted attributes ending in ``_``.

    Parameters
    ----------
    conf_type : str, default "log-log"
        Interval transform (see :func:`kaplan_meier`).
    conf_level : float, default 0.95
        Interval coverage.

    Attributes
    ----------
    result_ : KaplanMeierResult
        The fitted curve.
    survival_ : pandas.DataFrame
        ``result_.table``.
    median_ : QuantileEstimate
        Median survival with its CI.

    Examples
    --------
    >>> km = KaplanMeier().fit([1, 2, 2, 3, 5], [1, 1, 0, 1, 0])
    >>> km.median_.estimate
    3.0
    """

    def __init__(self, *, conf_type: ConfType = "log-log", conf_level: float = 0.95) -> None:
        self.conf_type = check_conf(conf_type, conf_level)
        self.conf_level = conf_level

    def fit(self, time: Any, event: Any, *, weights: Any = None, entry: Any = None) -> KaplanMeier:
        """Fit the curve.

        Parameters
        ----------
        time, event : array_like
            Follow-up times and event indicator.
        weights : array_like, optional
            Case weights.
        entry : array_like, optional
            Start times of (start, stop] rows (left truncation, split rows).

        Returns
        -------
        KaplanMeier
            ``self``.
        """
        self.result_: KaplanMeierResult = kaplan_meier(
            time, event, conf_type=self.conf_type, conf_level=self.conf_level, weights=weights,
            entry=entry,
        )  # fmt: skip
        self.survival_: pd.DataFrame = self.result_.table
        self.median_: QuantileEstimate = self.result_.median()
        return self

    def predict_survival(self, times: Any) -> np.ndarray:
        """Return the fitted survival probability at each of ``times`` (1 before any event).

        Parameters
        ----------
        times : array_like
            Times, in any order.

        Returns
        -------
        numpy.ndarray
            Survival just after each time (the curve is right-continuous).

        Raises
        ------
        AnalysisError
            If the estimator is not fitted.
        """
        if not hasattr(self, "result_"):
            raise AnalysisError("KaplanMeier is not fitted; call fit(time, event) first")
        t = np.asarray(times, dtype=np.float64)
        idx = np.searchsorted(self.result_.time, t, side="right") - 1
        surv = np.concatenate(([1.0], self.result_.survival))
        return np.asarray(surv[idx + 1], dtype=np.float64)
