"""The ``allrwe`` command line: one thin module per command, all calling the library API.

Every command module exposes ``register(app)``; this module only assembles them and turns
allrwe's own errors into a one-line message with the error's exit code (never a traceback,
unless ``--debug`` is given).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text

from allrwe import __version__
from allrwe.cli.options import OUTPUT, set_output
from allrwe.errors import AllrweError


def _usage_error_class() -> type[Exception]:
    """Return the base class of the usage errors the command line raises.

    Typer up to 0.25 raises click's ``ClickException``; from 0.26 on, Typer vendors click and
    raises its own copy. Both are base classes of the public ``typer.BadParameter``, so the
    class is found there rather than imported from a private module.
    """
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == "ClickException":
            return cls
    return typer.BadParameter  # pragma: no cover  (every Typer release has ClickException)


_USAGE_ERRORS = _usage_error_class()

app = typer.Typer(
    name="allrwe",
    help="Real-world-evidence studies of novel therapies in R/R ALL on OMOP CDM v5.4.",
    no_args_is_help=True,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)
_REGISTERED: set[str] = set()


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"allrwe {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only errors and requested data (--json)."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also print log messages."),
    debug: bool = typer.Option(False, "--debug", help="Show debug messages and tracebacks."),
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print the version."
    ),
) -> None:
    """Real-world-evidence studies of novel therapies in R/R ALL on OMOP CDM v5.4."""
    if quiet and (verbose or debug):
        raise typer.BadParameter("--quiet cannot be combined with --verbose or --debug")
    set_output(quiet=quiet, verbose=verbose, debug=debug)


def _register_commands(args: Sequence[str] | None = None) -> None:
    """Register the command that ``args`` names, or every command.

    Each command lives in its own module with a ``register(app)`` function. When the first
    argument that is not an option names a command, only that module is imported (``allrwe
    run`` need not load the synthetic-data generator); otherwise, for ``--help`` or an
    unknown name, every command is registered, in the order of ``COMMANDS``.
    """
    from allrwe.cli import commands

    first = next((a for a in args or () if not a.startswith("-")), None)
    if first in commands.COMMANDS:
        if first not in _REGISTERED:
            commands.register(app, first)
            _REGISTERED.add(first)
        return
    if set(commands.COMMANDS) == _REGISTERED:
        return
    app.registered_commands.clear()  # keep the listed order whatever was registered before
    for name in commands.COMMANDS:
        commands.register(app, name)
    _REGISTERED.update(commands.COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 study/data errors, 2 usage)."""
    args = list(sys.argv[1:] if argv is None else argv)
    _register_commands(args)
    try:
        # With standalone_mode=False the command's exit code (typer.Exit) is returned, not raised.
        result = app(args=args, prog_name="allrwe", standalone_mode=False)
    except AllrweError as exc:
        if OUTPUT["debug"] or "--debug" in args:
            raise
        # The message is plain text: brackets in it (a list of names, say) are not markup.
        err_console.print(
            Text("error: ", style="bold red") + Text(str(exc)), highlight=False, soft_wrap=True
        )
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:  # click's own usage errors
        return int(exc.code or 0)
    except _USAGE_ERRORS as exc:
        exc.show()  # type: ignore[attr-defined]
        return 2
    except typer.Abort:
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    return result if isinstance(result, int) else 0


def entry() -> NoReturn:
    """Run :func:`main` as the ``allrwe`` console script, then leave without a slow teardown.

    Once a command has returned, its outputs are closed and its connections released. All
    that is left is the interpreter's teardown, which frees every object of pandas, Ibis,
    matplotlib and SciPy one by one: up to a second after a study run. So the exit handlers
    run here (DuckDB's scratch folder, logging), the standard streams are flushed, and the
    process ends at once with the command's exit code.
    """
    prepare_process(sys.argv[1:])
    finish(main())


#: :func:`gc.set_threshold` of a command-line process: a young collection per 10,000 net
#: allocations (Python's default: 700), a middle one per 50 young ones, a full one per 100
#: middle ones. Garbage cycles wait longer, which costs a few MB.
GC_THRESHOLDS = (10_000, 50, 100)


def prepare_process(args: Sequence[str] | None = None) -> None:
    """Import the command ``args`` name, then take what is loaded out of the collector's sight.

    The modules, classes and functions of pandas, Ibis, SciPy and allrwe live as long as the
    process. Without :func:`gc.freeze` every full collection during a run walks them again
    (about 7 % of a study run's CPU time on the claims benchmark).

    The collector then runs less often (:data:`GC_THRESHOLDS`): building and compiling Ibis
    expressions allocates millions of short-lived objects, and with Python's default
    thresholds a study run spent about 0.3 s in 600 young and 4 full collections.
    """
    _register_commands(args)
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def finish(code: int) -> NoReturn:
    """Run the exit handlers, flush stdout and stderr, and end the process with ``code``."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        # a closed pipe or stream: nothing more can be written
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
