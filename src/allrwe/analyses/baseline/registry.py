"""The registry of baseline variables: names usable in ``baseline.variables``."""

from __future__ import annotations

import difflib

from allrwe.analyses.baseline.clinical import CLINICAL_BUILDERS
from allrwe.analyses.baseline.demographics import DEMOGRAPHIC_BUILDERS
from allrwe.analyses.baseline.transplant import TRANSPLANT_BUILDERS
from allrwe.analyses.baseline.variables import VariableBuilder, where_field
from allrwe.errors import StudySpecError
from allrwe.spec import BASELINE_VARIABLE_NAMES, StudySpec

__all__ = ["BASELINE_VARIABLES", "DEFAULT_ORDER", "register_variable", "resolve_variables"]

#: built-in names in the order of seed 001's Table 1 (the spec's one list, less those after it)
DEFAULT_ORDER = BASELINE_VARIABLE_NAMES[: BASELINE_VARIABLE_NAMES.index("relapse_category")]

_BUILT_IN = {**DEMOGRAPHIC_BUILDERS, **CLINICAL_BUILDERS, **TRANSPLANT_BUILDERS}

#: the variable builders by name, in the order of the spec's list of built-in variables
BASELINE_VARIABLES: dict[str, VariableBuilder] = {
    name: _BUILT_IN[name] for name in BASELINE_VARIABLE_NAMES
}


def register_variable(name: str, builder: VariableBuilder, *, replace: bool = False) -> None:
    """Add a variable builder to the registry, so ``baseline.variables`` may name it.

    Parameters
    ----------
    name : str
        The name used in the spec.
    builder : callable
        ``builder(ctx: BaselineContext) -> list[BaselineVariable]``.
    replace : bool, default False
        Allow replacing a registered builder.

    Raises
    ------
    ValueError
        ``name`` is taken and ``replace`` is False.
    """
    if name in BASELINE_VARIABLES and not replace:
        raise ValueError(f"baseline variable {name!r} is already registered")
    BASELINE_VARIABLES[name] = builder


def resolve_variables(spec: StudySpec) -> list[str]:
    """Return the builder names of ``baseline.variables``, in order, each once.

    Lab variables come from ``baseline.labs``; they are placed where ``labs`` is named, or
    after the other variables when it is not.

    Raises
    ------
    StudySpecError
        A name is not in the registry; the message names the field and close matches.
    """
    names: list[str] = []
    for i, name in enumerate(spec.baseline.variables):
        if name not in BASELINE_VARIABLES:
            close = difflib.get_close_matches(name, list(BASELINE_VARIABLES), n=3)
            hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise StudySpecError(
                f"{where_field(spec, ('baseline', 'variables', i))}unknown baseline variable "
                f"{name!r}{hint} (known: {', '.join(BASELINE_VARIABLES)})"
            )
        if name not in names:
            names.append(name)
    if spec.baseline.labs and "labs" not in names:
        names.append("labs")
    return names
