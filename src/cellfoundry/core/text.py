"""Text the bank can store: no NUL, no lone surrogates, within a column's length."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

__all__ = ["strings_in", "text_problem"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str, max_length: int | None = None) -> str | None:
    r"""Return why ``value`` cannot be stored as text (NUL, lone surrogate, too long), or None.

    PostgreSQL refuses NUL in text, and a lone UTF-16 surrogate is not encodable UTF-8.

    >>> text_problem("E. coli"), text_problem("a\x00b"), text_problem("abc", 2)
    (None, 'contains a NUL character', 'is 3 characters long; at most 2 fit')
    """
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "contains an unpaired surrogate (not valid Unicode text)"
    if max_length is not None and len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} fit"
    return None


def strings_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(dotted path, string)`` for every string in nested JSON-like data, keys too.

    A key is reported at the path of the object holding it.

    >>> list(strings_in({"a": ["x", {"b": "y"}], "n": 1}))
    [('', 'a'), ('a.0', 'x'), ('a.1', 'b'), ('a.1.b', 'y'), ('', 'n')]
    """
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(str(key), path)
            yield from strings_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from strings_in(item, f"{path}.{i}" if path else str(i))
