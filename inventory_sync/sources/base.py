"""What every source kind shares: the spec, the context, the kind protocol and the kind registry."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel

from inventory_sync.domain.model import (
    Completeness,
    QuantityBasis,
    SourceName,
    Warehouse,
)
from inventory_sync.errors import ConfigError, ConfigProblem
from inventory_sync.ports import Clock, Source

ENTRY_POINT_GROUP = "inventory_sync.sources"

DuplicatePolicy = Literal["reject", "sum"]
SkuCase = Literal["keep", "upper", "lower"]


@dataclass(frozen=True)
class SourceSpec:
    """The kind-independent part of a source's configuration: what its numbers mean."""

    name: SourceName
    warehouses: tuple[Warehouse, ...]  # the warehouses this source is authoritative for
    basis: QuantityBasis
    completeness: Completeness
    max_quantity: int = 1_000_000
    duplicates: DuplicatePolicy = "reject"
    sku_case: SkuCase = "keep"


@dataclass(frozen=True)
class SourceContext:
    """What a source may use from the outside world besides its own system."""

    clock: Clock
    read_secret: Callable[[str], str]  # named credential -> value; raises when missing
    state_dir: Path


class SourceKind(Protocol):
    """A kind of external system (files, SQL, HTTP...): validates its options, builds sources."""

    options_model: type[BaseModel]

    def build(self, spec: SourceSpec, options: BaseModel, context: SourceContext) -> Source: ...


class UnknownSourceKind(KeyError):
    """No installed source kind has the requested type name."""

    def __init__(self, type_name: str, known: list[str]) -> None:
        self.type_name = type_name
        self.known = known
        super().__init__(type_name)

    def __str__(self) -> str:
        listed = ", ".join(self.known) or "none installed"
        return f"unknown source type {self.type_name!r} (known types: {listed})"


def known_kinds() -> list[str]:
    """Names of every installed source kind, sorted."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def load_kind(type_name: str) -> SourceKind:
    """Return the kind registered under ``type_name``; raise UnknownSourceKind if none is."""
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=type_name):
        kind: SourceKind = ep.load()
        return kind
    raise UnknownSourceKind(type_name, known_kinds())


def checksum_records(records: Iterable[Iterable[object]]) -> str:
    """A sha256 over records that ignores their order, so a re-sorted result is the same data."""
    lines = sorted(json.dumps(list(r), default=str, ensure_ascii=False) for r in records)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def invalid_options(kind: str, options: BaseModel, expected: type[BaseModel]) -> TypeError:
    """The error a kind raises when handed another kind's options (a wiring bug, not config)."""
    return TypeError(f"{kind} source needs {expected.__name__}, got {type(options).__name__}")


def check_warehouses(
    spec: SourceSpec, warehouse_column: str | None, warehouse_map: Mapping[str, str]
) -> None:
    """Raise ConfigError for warehouse settings that contradict the spec (keys are relative)."""
    problems: list[ConfigProblem] = []
    if warehouse_column is None and len(spec.warehouses) != 1:
        problems.append(
            ConfigProblem(
                "options.warehouse_column",
                "a feed without a warehouse field needs exactly one warehouse,"
                f" this source has {len(spec.warehouses)}",
            )
        )
    unknown = sorted(set(warehouse_map.values()) - set(spec.warehouses))
    if unknown:
        problems.append(
            ConfigProblem("options.warehouse_map", f"maps to unknown warehouse(s) {unknown}")
        )
    if problems:
        raise ConfigError(problems, origin=f"source {spec.name!r}")
