"""Dotted paths into parsed JSON: "data.items", "meta.next", "results.0.sku"."""

from __future__ import annotations

from typing import Any


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # distinct from JSON null, which is a value the feed sent


def dig(document: Any, path: str) -> Any:  # noqa: ANN401 - JSON is untyped by nature
    """Follow a dotted path; "" is the document itself; MISSING when any step is absent."""
    current = document
    for step in path.split(".") if path else ():
        if isinstance(current, dict) and step in current:
            current = current[step]
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return MISSING
    return current
