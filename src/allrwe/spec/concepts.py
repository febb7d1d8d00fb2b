"""Which spec fields hold concept-set keys: a marker on the field's type, read by one walker.

A field whose type holds :data:`ConceptSetKey` names concept sets (or groups) of the
vocabulary; :func:`concept_set_fields` walks a spec in field order and yields every such key
with its field path, so the vocabulary check needs no list of fields of its own. The marker
works at any depth: ``list[ConceptSetKey]``, a dictionary's keys
(``dict[ConceptSetKey, CycleRule]``) or values (``dict[str, list[ConceptSetKey]]``).
Pydantic ignores the marker, so it changes neither validation nor the JSON schema.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from allrwe.spec.paths import Path_

__all__ = ["CONCEPT_SET", "ConceptSetKey", "concept_set_fields"]


class _ConceptSetMarker:
    """The marker object in ``Annotated[str, CONCEPT_SET]``."""

    def __repr__(self) -> str:
        return "CONCEPT_SET"


#: the marker: a string annotated with it is a concept-set key (or group) of the vocabulary
CONCEPT_SET = _ConceptSetMarker()
#: a concept-set key or group name, checked against the vocabulary by ``validate_against``
ConceptSetKey = Annotated[str, CONCEPT_SET]


def concept_set_fields(model: BaseModel, path: Path_ = ()) -> Iterator[tuple[Path_, str]]:
    """Yield ``(field path, key)`` for every concept-set key in ``model``, in field order.

    Parameters
    ----------
    model : pydantic.BaseModel
        A spec section (or the whole spec); nested sections are walked too.
    path : tuple, default ()
        The field path of ``model`` itself.

    Yields
    ------
    tuple
        The field path of the key (a list position or dictionary key last) and the key.
    """
    for name, info in type(model).model_fields.items():
        annotation = info.annotation
        if any(m is CONCEPT_SET for m in info.metadata):
            annotation = ConceptSetKey
        yield from _walk(getattr(model, name), annotation, (*path, name))


def _walk(value: Any, annotation: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if value is None:
        return
    if isinstance(value, BaseModel):
        yield from concept_set_fields(value, path)
        return
    if not _marked(annotation):
        return
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        if any(m is CONCEPT_SET for m in args[1:]):
            yield path, value
        else:
            yield from _walk(value, args[0], path)
    elif origin in (Union, types.UnionType):
        # the first member that holds the marker (None is handled above)
        yield from _walk(value, next(a for a in args if _marked(a)), path)
    elif origin is dict:
        key_marked = _marked(args[0])
        for key, item in value.items():
            if key_marked:
                yield (*path, key), key
            yield from _walk(item, args[1], (*path, key))
    elif origin in (list, tuple):
        for i, item in enumerate(value):
            yield from _walk(item, args[0] if origin is list else args[i], (*path, i))


def _marked(annotation: Any) -> bool:
    """Whether the marker appears anywhere in ``annotation``, nested sections included."""
    if annotation is CONCEPT_SET:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _section_marked(annotation)
    return any(_marked(a) for a in get_args(annotation))


@functools.cache
def _section_marked(model: type[BaseModel]) -> bool:
    return any(
        _marked(f.annotation) or any(m is CONCEPT_SET for m in f.metadata)
        for f in model.model_fields.values()
    )
