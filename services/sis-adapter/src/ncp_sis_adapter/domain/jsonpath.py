"""A small, safe subset of JSONPath for field mappings: `$.a.b[0].c` or `a.b[0].c` (dots and indexes)."""

import re
from typing import Any

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


class Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = Missing()


def compile_path(path: str) -> tuple[str | int, ...]:
    text = path[2:] if path.startswith("$.") else ("" if path == "$" else path)
    steps: list[str | int] = []
    pos = 0
    while pos < len(text):
        if text[pos] == ".":
            pos += 1
            continue
        match = _STEP.match(text, pos)
        if match is None:
            raise ValueError(f"bad path {path!r} at {pos}")
        steps.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    return tuple(steps)


def resolve(document: Any, path: str) -> Any:
    """The value at `path`, or MISSING when any step does not exist."""
    value = document
    for step in compile_path(path):
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                return MISSING
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                return MISSING
            value = value[step]
    return value
