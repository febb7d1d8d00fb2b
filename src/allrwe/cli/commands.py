"""The list of command modules; each contributes ``register(app)``.

Add a command by writing ``allrwe/cli/<name>.py`` with a ``register`` function and listing it
here (one line per command keeps concurrent edits apart).
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from allrwe.cli import audit
from allrwe.cli import check as check_cmd
from allrwe.cli import demo as demo_cmd
from allrwe.cli import run as run_cmd
from allrwe.cli import synth as synth_cmd
from allrwe.cli import vocab as vocab_cmd

REGISTRY: list[Callable[[typer.Typer], None]] = [
    audit.register,
    check_cmd.register,
    demo_cmd.register,
    run_cmd.register,
    synth_cmd.register,
    vocab_cmd.register,
]
