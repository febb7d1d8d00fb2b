"""``allrwe vocab [SET_OR_GROUP]``: list the concept sets in force, or the concepts of one.

The sets are the bundled ones, overridden by ``--vocab`` files and by an ATLAS export given with
``--atlas`` (which needs ``--key``, ``--domain`` and ``--category``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from allrwe.errors import UsageError
from allrwe.io.vocabulary import (
    DOMAINS,
    ConceptSet,
    Domain,
    Vocabulary,
    load_atlas_concept_set,
    load_vocabulary,
)

__all__ = ["concept_rows", "register", "set_rows", "vocab"]


def set_rows(vocabulary: Vocabulary, *, unconfirmed: bool = False) -> list[dict[str, Any]]:
    """One row per concept set: key, label, domain, category, concepts, unconfirmed.

    With ``unconfirmed``, only the sets holding a value no public source confirms, each with
    ``reason``: the notes (else the sources) of those values. A fixture (a local id of the
    bundled synthetic and example data, in a set found on a real CDM by its public codes) is
    no such value (``Concept.fixture``).
    """
    rows = [
        {
            "key": key,
            "label": s.label,
            "domain": s.domain,
            "category": s.category,
            "concepts": len(s.concepts),
            "unconfirmed": len(s.unconfirmed),
        }
        for key, s in vocabulary.sets.items()
    ]
    if not unconfirmed:
        return rows
    return [
        {**r, "reason": _reason(vocabulary.sets[str(r["key"])])} for r in rows if r["unconfirmed"]
    ]


def _reason(s: ConceptSet) -> str:
    return "; ".join(dict.fromkeys(c.note or c.source for c in s.unconfirmed))


def concept_rows(sets: list[ConceptSet], *, unconfirmed: bool = False) -> list[dict[str, Any]]:
    """One row per concept of the given sets, with where its value comes from.

    ``fixture``: a local id only the bundled synthetic and example data carry; on a real CDM
    the set is found by the concept's codes. With ``unconfirmed``, only the unconfirmed
    concepts that are no fixture.
    """
    return [
        {
            "set": s.key,
            "concept_id": c.concept_id,
            "vocabulary": c.vocabulary_id,
            "code": c.concept_code,
            "name": c.concept_name,
            "confirmed": c.confirmed,
            "fixture": c.fixture,
            "excluded": c.exclude,
            "source": c.source,
        }
        for s in sets
        for c in s.concepts
        if not unconfirmed or c in s.unconfirmed
    ]


def _atlas_set(
    atlas: Path, key: str | None, domain: str | None, category: str | None
) -> ConceptSet:
    missing = [
        flag
        for flag, value in (("--key", key), ("--domain", domain), ("--category", category))
        if not value
    ]
    if missing:
        raise UsageError(f"--atlas needs {', '.join(missing)}")
    if domain not in DOMAINS:
        raise UsageError(f"unknown --domain {domain!r}: use one of {', '.join(DOMAINS)}")
    return load_atlas_concept_set(
        atlas, key=str(key), domain=cast(Domain, domain), category=str(category)
    )


def _render(title: str, rows: list[dict[str, Any]], console: Console) -> None:
    if not rows:
        console.print(f"{title}: none", highlight=False)
        return
    table = Table(title=title, title_justify="left")
    for name in rows[0]:
        table.add_column(name, justify="right" if type(rows[0][name]) is int else "left")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row.values()))
    console.print(table)


def vocab(
    set_or_group: Annotated[
        str | None, typer.Argument(help="A concept-set key or group; omit to list every set.")
    ] = None,
    vocab_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--vocab",
            help="Vocabulary YAML, or ATLAS concept-set JSON, overriding bundled sets "
            "(repeatable).",
        ),
    ] = None,
    atlas: Annotated[
        Path | None, typer.Option("--atlas", help="An ATLAS concept-set JSON export to add.")
    ] = None,
    key: Annotated[str | None, typer.Option("--key", help="Key of the ATLAS set.")] = None,
    domain: Annotated[
        str | None, typer.Option("--domain", help=f"Domain of the ATLAS set: {', '.join(DOMAINS)}.")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Category of the ATLAS set.")
    ] = None,
    unconfirmed: Annotated[
        bool, typer.Option("--unconfirmed", help="Only values no source confirms yet.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List concept sets (key, domain, counts) or the concepts of one set or group."""
    extra = [_atlas_set(atlas, key, domain, category)] if atlas is not None else []
    vocabulary = load_vocabulary(vocab_files or (), extra_sets=extra)
    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    if set_or_group is None:
        rows = set_rows(vocabulary, unconfirmed=unconfirmed)
        groups = {k: list(v) for k, v in vocabulary.groups.items()}
        if as_json:
            typer.echo(json.dumps({"concept_sets": rows, "groups": groups}, indent=2))
            return
        _render("concept sets", rows, console)
        _render("groups", [{"group": k, "sets": ", ".join(v)} for k, v in groups.items()], console)
        return
    sets = vocabulary.members(set_or_group)
    rows = concept_rows(sets, unconfirmed=unconfirmed)
    kind = "set" if set_or_group in vocabulary.sets else "group"
    if as_json:
        typer.echo(json.dumps({"key": set_or_group, "kind": kind, "concepts": rows}, indent=2))
        return
    _render(f"{kind} {set_or_group}", rows, console)


def register(app: typer.Typer) -> None:
    """Add the ``vocab`` command to ``app`` (once)."""
    if not any(c.name == "vocab" for c in app.registered_commands):
        app.command("vocab")(vocab)
