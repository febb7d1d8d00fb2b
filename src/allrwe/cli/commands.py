"""The command modules; each contributes ``register(app)``.

Add a command by writing ``allrwe/cli/<name>.py`` with a ``register`` function and listing it
here (one line per command keeps concurrent edits apart). A module is imported only when its
command is registered, so that ``allrwe run`` does not load what ``allrwe synth`` needs.
"""

from __future__ import annotations

import importlib

import typer

#: Command name -> the module that defines it, in the order ``allrwe --help`` lists them.
COMMANDS: dict[str, str] = {
    "audit": "allrwe.cli.audit",
    "check": "allrwe.cli.check",
    "demo": "allrwe.cli.demo",
    "merge": "allrwe.cli.merge",
    "report": "allrwe.cli.report",
    "run": "allrwe.cli.run",
    "synth": "allrwe.cli.synth",
    "vocab": "allrwe.cli.vocab",
}


def register(app: typer.Typer, name: str) -> None:
    """Import the module of command ``name`` and add the command to ``app``."""
    importlib.import_module(COMMANDS[name]).register(app)
