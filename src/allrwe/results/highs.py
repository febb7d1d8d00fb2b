"""One HiGHS solve with less set-up per call than ``scipy.optimize.milp``: the same answers.

The rule this module owns: :func:`solve` hands HiGHS exactly the model and options that
``scipy.optimize.milp`` hands it (the matrix in compressed columns, every column's
integrality, ``log_to_console`` off, the options given), so the solver takes the same path
and returns the same point; it leaves out what ``milp`` adds around the solve and the
suppression never reads (checking each option's type, the duals and the basis, the bound
multipliers built column by column in Python). The suppression and its attacker solve
thousands of small programmes per run, where that set-up cost more than the solves.

Where SciPy's HiGHS bindings are not found as expected (a SciPy without them), :func:`solve`
calls ``scipy.optimize.milp`` itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

__all__ = ["Session", "Solution", "solve"]

try:  # SciPy's own bindings of HiGHS (the ones ``milp`` calls)
    import scipy.optimize._highspy._core as _core
    from scipy.optimize._linprog_highs import _highs_to_scipy_status_message

    _LOADED = all(
        hasattr(_core, name) for name in ("HighsLp", "_Highs", "HighsOptions", "HighsVarType")
    )
except ImportError:  # pragma: no cover - depends on the SciPy build
    _LOADED = False


@dataclass(frozen=True)
class Solution:
    """What a solve found, as ``scipy.optimize.milp`` reports it.

    Parameters
    ----------
    status : int
        ``milp``'s status: 0 optimal, 1 time or iteration limit, 2 infeasible, 3 unbounded,
        4 other.
    x : numpy.ndarray or None
        The point found (``None`` where there is none).
    fun : float
        Its objective value (NaN where there is no point).
    """

    status: int
    x: np.ndarray | None
    fun: float


def solve(
    c: np.ndarray,
    a: Any,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    integer: np.ndarray | None = None,
    options: dict[str, float] | None = None,
) -> Solution:
    """Minimise ``c @ x`` subject to ``row_lower <= a x <= row_upper``, ``lower <= x <= upper``.

    Parameters
    ----------
    c : numpy.ndarray
        The objective.
    a : sparse matrix or numpy.ndarray
        The rows.
    row_lower, row_upper : numpy.ndarray
        The rows' bounds.
    lower, upper : numpy.ndarray
        The variables' bounds.
    integer : numpy.ndarray, optional
        1 for the variables that must be integers (``milp``'s ``integrality``).
    options : dict, optional
        HiGHS options as ``milp`` takes them (``time_limit``, ``mip_rel_gap``).

    Returns
    -------
    Solution
    """
    if not _LOADED:  # pragma: no cover - depends on the SciPy build
        return _by_milp(c, a, row_lower, row_upper, lower, upper, integer, options)
    lp, is_mip = _model(c, a, row_lower, row_upper, lower, upper, integer)
    highs = _core._Highs()
    return _run(highs, lp, is_mip, options)


def _model(
    c: np.ndarray,
    a: Any,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray | None,
) -> tuple[Any, bool]:
    """Return HiGHS's model of the programme (as ``milp`` builds it) and whether it is a MIP."""
    cost = np.atleast_1d(c).astype(np.float64)
    n = cost.size
    kinds = (
        np.zeros(n, dtype=np.uint8)
        if integer is None
        else np.broadcast_to(integer, cost.shape).astype(np.uint8)
    )
    matrix = sparse.csc_array(a)
    lp = _core.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = matrix.shape[0]
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = matrix.shape[0]
    lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
    lp.col_cost_ = cost
    lp.col_lower_ = np.broadcast_to(lower, cost.shape).astype(np.float64)
    lp.col_upper_ = np.broadcast_to(upper, cost.shape).astype(np.float64)
    lp.row_lower_ = np.atleast_1d(row_lower).astype(np.float64)
    lp.row_upper_ = np.atleast_1d(row_upper).astype(np.float64)
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.integrality_ = [_VAR_TYPES[int(k)] for k in kinds.tolist()]
    return lp, bool(kinds.any())


def _run(highs: Any, lp: Any, is_mip: bool, options: dict[str, float] | None) -> Solution:
    """Pass the options and the model (``lp``; ``None``: keep the one passed) and solve."""
    if lp is not None:
        settings = _settings(tuple(sorted((options or {}).items())))
        if highs.passOptions(settings) == _core.HighsStatus.kError:
            return Solution(_status(highs.getModelStatus()), None, math.nan)
        if highs.passModel(lp) == _core.HighsStatus.kError:
            return Solution(_status(_core.HighsModelStatus.kModelError), None, math.nan)
    if highs.run() == _core.HighsStatus.kError:
        return Solution(_status(highs.getModelStatus()), None, math.nan)
    model_status = highs.getModelStatus()
    info = highs.getInfo()
    model = _core.HighsModelStatus
    if is_mip:
        limited = model_status in (model.kTimeLimit, model.kIterationLimit, model.kSolutionLimit)
        failed = (model_status != model.kOptimal and not limited) or (
            limited and info.objective_function_value == _core.kHighsInf
        )
    else:
        failed = model_status != model.kOptimal
    if failed:
        return Solution(_status(model_status), None, math.nan)
    x = np.array(highs.getSolution().col_value)
    return Solution(_status(model_status), x, float(info.objective_function_value))


class Session:
    """Linear programmes over the same rows and bounds, each with an objective of its own.

    Each programme after the first starts from the last one's optimal basis (only the
    objective changes): the simplex then takes a few steps where a cold start takes many.
    The optimal values are those of :func:`solve` of each programme alone; the optimal
    point may be another where the optimum is not unique. After a programme without an
    optimum, the next starts cold.

    Parameters
    ----------
    a, row_lower, row_upper, lower, upper
        As for :func:`solve`.
    """

    def __init__(
        self,
        a: Any,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
    ) -> None:
        self._args = (a, row_lower, row_upper, lower, upper)
        self._highs: Any = None

    def bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Give every variable new bounds; the rows stay, and so does the last basis.

        The next programme starts from the last optimal basis, as after a new objective
        (HiGHS repairs a basis the new bounds make infeasible); its optimal value is that of
        the programme solved alone with these bounds.
        """
        a, row_lower, row_upper, _, _ = self._args
        lower = np.asarray(lower, dtype=np.float64)
        upper = np.asarray(upper, dtype=np.float64)
        self._args = (a, row_lower, row_upper, lower, upper)
        if self._highs is not None:  # only set where SciPy's bindings are loaded
            columns = np.arange(lower.size, dtype=np.int32)
            self._highs.changeColsBounds(lower.size, columns, lower, upper)

    def minimize(self, c: np.ndarray) -> Solution:
        """Minimise ``c @ x`` over the session's rows and bounds."""
        if not _LOADED:  # pragma: no cover - depends on the SciPy build
            return solve(c, *self._args)
        cost = np.atleast_1d(c).astype(np.float64)
        if self._highs is None:
            lp, _ = _model(cost, *self._args, None)
            self._highs = _core._Highs()
            found = _run(self._highs, lp, False, None)
        else:
            columns = np.arange(cost.size, dtype=np.int32)
            self._highs.changeColsCost(cost.size, columns, cost)
            found = _run(self._highs, None, False, None)
        if found.status != 0:
            self._highs = None
        return found


_SETTINGS: dict[tuple[tuple[str, float], ...], Any] = {}


def _settings(options: tuple[tuple[str, float], ...]) -> Any:
    """Return HiGHS's options object for ``options`` (built once: HiGHS copies it per solve)."""
    if options not in _SETTINGS:
        settings = _core.HighsOptions()
        settings.log_to_console = False
        for key, value in options:
            setattr(settings, key, value)
        _SETTINGS[options] = settings
    return _SETTINGS[options]


def _status(model_status: Any) -> int:
    """Return ``milp``'s status number of a HiGHS model status."""
    return int(_highs_to_scipy_status_message(model_status, "")[0])


_VAR_TYPES: dict[int, Any] = {k: _core.HighsVarType(k) for k in range(4)} if _LOADED else {}


def _by_milp(
    c: np.ndarray,
    a: Any,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    integer: np.ndarray | None,
    options: dict[str, float] | None,
) -> Solution:  # pragma: no cover - depends on the SciPy build
    from scipy.optimize import Bounds, LinearConstraint, milp

    result = milp(
        c,
        constraints=LinearConstraint(a, row_lower, row_upper),
        bounds=Bounds(lower, upper),
        integrality=integer,
        options=options,
    )
    x = None if result.x is None else np.asarray(result.x)
    return Solution(int(result.status), x, math.nan if result.fun is None else float(result.fun))
