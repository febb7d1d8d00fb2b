"""Reading a study spec from YAML, and the messages that name the field and line at fault.

:func:`load_spec` reads the file, validates it with the model of :mod:`allrwe.spec.model` and
returns a frozen :class:`~allrwe.spec.model.StudySpec` that remembers the line of every field.
The YAML is read strictly: duplicate keys, aliases, impossible dates and YAML 1.1's octal,
binary, hexadecimal and base-60 numbers are refused. Every error message has the form
``<file>, line N: field 'a.b[0]': <problem> (got <value>)``, with the first problem and how
many more there are.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ValidationError

from allrwe.errors import StudySpecError, StudySpecNotFoundError
from allrwe.spec.model import StudySpec
from allrwe.spec.paths import Path_, dotted, resolve_line, show_value

if TYPE_CHECKING:
    from allrwe.io.vocabulary import Vocabulary

__all__ = ["load_spec", "spec_from_text"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys (PyYAML silently keeps the last one).

    It also refuses aliases: nested aliases expand exponentially (a few hundred bytes can keep
    the loader busy for minutes), and a study spec never needs them.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.events.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in a study spec", event.start_mark
            )
        return super().compose_node(parent, index)


def _map_lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                raise StudySpecError(
                    f"line {key_node.start_mark.line + 1}: field {dotted((*path, key))!r} is "
                    f"given twice (first on line {seen[key]})"
                )
            seen[key] = key_node.start_mark.line + 1
            out[(*path, key)] = key_node.start_mark.line + 1
            _map_lines(value_node, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _map_lines(item, (*path, i), out)


def _all_field_names() -> list[str]:
    names: set[str] = set()
    stack: list[type[BaseModel]] = [StudySpec]
    seen: set[type[BaseModel]] = set()
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        names.update(model.model_fields)
        for field in model.model_fields.values():
            stack.extend(_models_in(field.annotation))
    return sorted(names)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _models_in(arg)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        yield from _models_in(origin)


def _yaml_path(lines: Mapping[Path_, int], loc: Path_) -> Path_:
    # Drop the union tags pydantic inserts, keeping the parts that are in the YAML (and the last).
    kept: Path_ = ()
    for i, part in enumerate(loc):
        if (*kept, part) in lines or i == len(loc) - 1:
            kept = (*kept, part)
    return kept


def _format_error(err: Mapping[str, Any], lines: Mapping[Path_, int], origin: str) -> str:
    loc = _yaml_path(lines, tuple(err["loc"]))
    line = resolve_line(lines, loc)
    at = f", line {line}" if line is not None else ""
    field = dotted(loc) or "<top level>"
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _all_field_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{origin}{at}: unknown field {field!r}{hint}"
    if err["type"] == "missing":
        return f"{origin}{at}: field {field!r} is required"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if isinstance(err.get("input"), bool) and err["type"] in ("int_type", "float_type"):
        msg = f"{msg.rstrip('.')}, not a boolean"
    given = err.get("input")
    got = "" if isinstance(given, Mapping) else f" (got {show_value(given)})"
    return f"{origin}{at}: field {field!r}: {msg}{got}"


def _timestamp(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML raises a bare ValueError, without a line, for a date such as 2021-02-30.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
        ) from None


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)

#: the integers a spec may write: decimal, optionally signed (YAML 1.2 reads 011 as 11, YAML 1.1
#: as 9; 1:30 is 90 in YAML 1.1 and text in 1.2), so every other form is refused as ambiguous
_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


def _int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    if not _DECIMAL_INT.fullmatch(node.value):
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value!r} is an octal, binary, hexadecimal or base-60 number in YAML 1.1; "
            "write a decimal integer (or quote it for text)",
            node.start_mark,
        )
    return int(node.value.replace("_", ""))


def _float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    if ":" in node.value:
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value!r} is a base-60 number in YAML 1.1; write a decimal number",
            node.start_mark,
        )
    return float(loader.construct_yaml_float(node))


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _int)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _float)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    # PyYAML's text spans several lines (context, snippet, caret): keep the line and problem.
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    return (f"line {mark.line + 1}, column {mark.column + 1}: " if mark else "") + problem


def _parse(text: str, origin: str) -> StudySpec:
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise StudySpecError(f"{origin} is not valid YAML: {_yaml_problem(exc)}") from None
    if node is None or not isinstance(node, yaml.MappingNode):
        raise StudySpecError(f"{origin} must hold a mapping of study fields")
    lines: dict[Path_, int] = {}
    try:
        _map_lines(node, (), lines)
    except StudySpecError as exc:
        raise StudySpecError(f"{origin}, {exc}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise StudySpecError(f"{origin} is not valid YAML: {_yaml_problem(exc)}") from None
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = _format_error(errors[0], lines, origin)
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise StudySpecError(first + more) from None
    spec._lines = lines
    spec._origin = origin
    return spec


def load_spec(
    path: str | os.PathLike[str],
    *,
    vocab: Vocabulary | None = None,
    check_vocabulary: bool = True,
) -> StudySpec:
    """Read and validate a study specification.

    Parameters
    ----------
    path : str or os.PathLike
        The YAML file.
    vocab : Vocabulary, optional
        The vocabulary to check concept-set keys against. By default the bundled vocabulary
        plus the spec's own ``vocabulary.paths`` is loaded.
    check_vocabulary : bool, default True
        Whether to check concept-set keys at all.

    Returns
    -------
    StudySpec
        The validated, frozen specification.

    Raises
    ------
    StudySpecError
        The file is missing or not YAML, a field is unknown, missing or invalid, or a
        concept-set key is unknown; the message names the field and its line.

    Examples
    --------
    >>> spec = load_spec("examples/seed000_claims_patterns.yaml")  # doctest: +SKIP
    >>> spec.index_groups["INO"]  # doctest: +SKIP
    ['inotuzumab_ozogamicin']
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StudySpecNotFoundError(f"study spec {str(p)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudySpecError(f"study spec {str(p)!r} cannot be read: {exc}") from None
    spec = _parse(text, str(p))
    if check_vocabulary:
        if vocab is None:
            from allrwe.errors import VocabularyError
            from allrwe.io.vocabulary import load_vocabulary

            try:
                vocab = load_vocabulary(spec.resolved_vocabulary_paths())
            except VocabularyError as exc:
                raise StudySpecError(spec._where(("vocabulary", "paths")) + str(exc)) from None
        spec.validate_against(vocab)
    return spec


def spec_from_text(text: str, *, origin: str = "study spec") -> StudySpec:
    """Validate a specification given as YAML text (no vocabulary check)."""
    return _parse(text, origin)
