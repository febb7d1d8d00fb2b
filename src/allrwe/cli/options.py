"""Options shared by every command: how much the command line prints.

``allrwe --quiet CMD`` prints only errors and what the command was asked to print as data
(``--json``); ``--verbose`` adds allrwe's log messages (INFO); ``--debug`` adds debug
messages and tracebacks. The root callback of :mod:`allrwe.cli.app` sets :data:`OUTPUT`
once per process; commands ask :func:`console` for their Rich console.
"""

from __future__ import annotations

import logging
from typing import Any

from rich.console import Console

__all__ = ["OUTPUT", "console", "log_level", "set_output"]

#: the process's output settings; the one place commands read them from
OUTPUT: dict[str, bool] = {"quiet": False, "verbose": False, "debug": False}


def log_level(*, quiet: bool = False, verbose: bool = False, debug: bool = False) -> int:
    """Return the logging level of a verbosity: ERROR, WARNING, INFO or DEBUG.

    Examples
    --------
    >>> log_level(verbose=True) == logging.INFO
    True
    """
    if debug:
        return logging.DEBUG
    if verbose:
        return logging.INFO
    return logging.ERROR if quiet else logging.WARNING


def set_output(*, quiet: bool, verbose: bool, debug: bool) -> None:
    """Record the verbosity and configure logging for it (allrwe's and Spark's)."""
    OUTPUT.update(quiet=quiet, verbose=verbose, debug=debug)
    level = log_level(quiet=quiet, verbose=verbose, debug=debug)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if quiet or verbose or debug:  # basicConfig does nothing when logging is configured
        logging.getLogger().setLevel(level)
    # py4j logs every call to the Spark JVM at INFO; it is never allrwe's news.
    logging.getLogger("py4j").setLevel(max(level, logging.WARNING))


def console(*, stderr: bool = False, **kwargs: Any) -> Console:
    """Return a Rich console that prints nothing under ``--quiet``.

    Parameters
    ----------
    stderr : bool, default False
        Write to standard error (progress) instead of standard output.
    **kwargs
        Passed to :class:`rich.console.Console`.
    """
    return Console(stderr=stderr, quiet=OUTPUT["quiet"], **kwargs)
