"""Makes the end-to-end helpers importable and provides the `world` fixture."""

from __future__ import annotations

from e2e_support import world

__all__ = ["world"]
