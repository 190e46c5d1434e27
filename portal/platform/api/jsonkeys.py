"""Repeated keys in a JSON body, which the parsers would quietly resolve.

RFC 8259 only says an object's names SHOULD be unique, and leaves a repeated
one to the parser: Python's ``json`` and pydantic keep the last value, other
parsers the first. A body that means one thing to the client (or to a proxy
that checked it) and another to the API is how checks get bypassed, so the
API refuses it (400) rather than pick one.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["repeated_key"]


class _Repeated(Exception):
    """An object repeats a key (found on the fast pass; where is looked up after)."""


class _Repeats(dict[str, Any]):
    """A parsed object that repeated :attr:`key` (its last value kept)."""

    key: str


def _refuse_repeats(pairs: list[tuple[str, Any]]) -> None:
    # The fast pass builds nothing: only whether some object repeats a key.
    if len(pairs) > 1 and len({key for key, _ in pairs}) != len(pairs):
        raise _Repeated


def _mark_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _Repeats(obj)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.key = key
            break
        seen.add(key)
    return marked


def repeated_key(raw: bytes) -> str | None:
    """Where the JSON text *raw* first repeats a key within one object, or None.

    The answer is the key's dotted path, as validation errors name fields:
    ``name``, or ``choices.0.choice_text`` for a key inside a list's object.
    Text that is not JSON at all is None here: the validator reports that.
    A body without repeats (every valid one) costs one parse with no objects
    built; only a body with a repeat is parsed again to find where it is.
    """
    try:
        json.loads(raw, object_pairs_hook=_refuse_repeats)
    except _Repeated:
        pass
    except (ValueError, RecursionError):
        return None
    else:
        return None
    try:
        parsed = json.loads(raw, object_pairs_hook=_mark_repeats)
    except (ValueError, RecursionError):
        # Not JSON after all (the repeat came before the fault).
        return None
    return _first_repeat(parsed)


def _first_repeat(value: Any) -> str | None:
    """The dotted path of the first repeated key in *value*, in document order."""
    # Depth-first without recursion: the parse allowed nesting as deep as
    # Python's recursion limit, so recursing here could exceed it.
    pending: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while pending:
        path, node = pending.pop()
        if isinstance(node, _Repeats):
            return ".".join((*path, node.key))
        if isinstance(node, dict):
            children = [(str(key), child) for key, child in node.items()]
        elif isinstance(node, list):
            children = [(str(index), child) for index, child in enumerate(node)]
        else:
            continue
        pending.extend(((*path, name), child) for name, child in reversed(children))
    return None
