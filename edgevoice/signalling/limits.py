"""Pure limits on what clients send the control plane: JSON nesting and metadata.

A record is kept for hours and read back many times, so what goes in is checked at the
door: a JSON body nested deeper than ``MAX_JSON_DEPTH`` is refused before it is parsed,
and ``metadata`` must stay small and shallow enough that every accepted record can be
stored, copied and serialized again.
"""

from __future__ import annotations

import json
from typing import Any

MAX_JSON_DEPTH = 32  # objects/arrays inside one another, anywhere in a JSON body
METADATA_MAX_KEYS = 64  # keys at any depth
METADATA_MAX_KEY_CHARS = 64
METADATA_MAX_STRING_CHARS = 1024  # any string value
METADATA_MAX_DEPTH = 8  # metadata itself is depth 1: {"a": {"b": 1}} is depth 2
METADATA_MAX_BYTES = 16 * 1024  # serialized as compact JSON

_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_NON_JSON = frozenset(b"NI")  # NaN, Infinity: Python's parser takes them, JSON has none


def json_shape(raw: bytes) -> tuple[int, bool]:
    """How deeply objects and arrays nest in JSON text (0 for a scalar), and whether it
    uses NaN or Infinity, without parsing it: a scan that skips strings, so nesting
    cannot exhaust a parser's recursion."""
    depth = deepest = 0
    in_string = escaped = nonstandard = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSE:
            depth = max(0, depth - 1)
        elif byte in _NON_JSON:
            nonstandard = True
    return deepest, nonstandard


def metadata_problem(metadata: dict[str, Any]) -> str | None:
    """Why ``metadata`` is refused (a sentence for the client), or None if it fits."""
    keys = 0
    stack: list[tuple[Any, int]] = [(metadata, 1)]
    while stack:  # iterative: no recursion, whatever the input
        value, depth = stack.pop()
        if isinstance(value, dict | list) and depth > METADATA_MAX_DEPTH:
            return f"metadata is nested deeper than {METADATA_MAX_DEPTH} levels"
        if isinstance(value, dict):
            keys += len(value)
            if keys > METADATA_MAX_KEYS:
                return f"metadata has more than {METADATA_MAX_KEYS} keys (counting nested ones)"
            for key, item in value.items():
                if len(key) > METADATA_MAX_KEY_CHARS:
                    return (
                        f"metadata key {key[:20]!r}… is {len(key)} characters; "
                        f"at most {METADATA_MAX_KEY_CHARS}"
                    )
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and len(value) > METADATA_MAX_STRING_CHARS:
            return (
                f"a metadata value is {len(value)} characters; at most {METADATA_MAX_STRING_CHARS}"
            )
    size = len(json.dumps(metadata, separators=(",", ":")).encode())
    if size > METADATA_MAX_BYTES:
        return f"metadata is {size} bytes as JSON; at most {METADATA_MAX_BYTES}"
    return None
