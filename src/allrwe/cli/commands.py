"""The list of command modules; each contributes ``register(app)``.

Add a command by writing ``allrwe/cli/<name>.py`` with a ``register`` function and listing it
here (one line per command keeps concurrent edits apart).
"""

from __future__ import annotations

from collections.abc import Callable

import typer

REGISTRY: list[Callable[[typer.Typer], None]] = []
