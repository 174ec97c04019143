"""What a module imports from the project, read from its source: for the tests of the arrows."""

from __future__ import annotations

import ast
from pathlib import Path


def project_imports(path: Path) -> list[str]:
    """Every inventory_sync module a file imports, and each name it takes from one."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return [name for name in names if name.split(".")[0] == "inventory_sync"]
