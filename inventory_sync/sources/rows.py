"""Row validation shared by every kind: raw records in, columns of good rows and Rejected out."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from inventory_sync.domain.model import Rejected, Sku, SourceName, Warehouse
from inventory_sync.sources.base import DuplicatePolicy, SkuCase, SourceSpec

# Text quantities are plain ASCII digits: no sign, no decimals, no exponent, no separators.
_DIGITS = re.compile(r"[0-9]+", re.ASCII)


class _Fixed:
    """Marker: the source has no warehouse field; every row belongs to the one fixed warehouse."""

    def __repr__(self) -> str:
        return "FIXED_WAREHOUSE"


FIXED_WAREHOUSE = _Fixed()


@dataclass(frozen=True, slots=True, init=False)
class RawRow:
    """One record as a source read it, before anything about it is trusted."""

    origin: str
    line: int | None
    sku: object
    quantity: object
    warehouse: object = FIXED_WAREHOUSE

    # One per row of a feed: written out, it costs half of a frozen dataclass's generated one.
    def __init__(
        self,
        origin: str,
        line: int | None,
        sku: object,
        quantity: object,
        warehouse: object = FIXED_WAREHOUSE,
    ) -> None:
        put = object.__setattr__
        put(self, "origin", origin)
        put(self, "line", line)
        put(self, "sku", sku)
        put(self, "quantity", quantity)
        put(self, "warehouse", warehouse)


@dataclass(frozen=True)
class RowRules:
    """How to judge raw rows for one source, including the names its feed gives the fields."""

    source: SourceName
    warehouses: tuple[Warehouse, ...]
    max_quantity: int = 1_000_000
    duplicates: DuplicatePolicy = "reject"
    sku_case: SkuCase = "keep"
    warehouse_map: Mapping[str, Warehouse] = field(default_factory=dict)
    sku_field: str = "sku"
    quantity_field: str = "quantity"
    warehouse_field: str = "warehouse"

    @classmethod
    def for_spec(
        cls,
        spec: SourceSpec,
        *,
        warehouse_map: Mapping[str, Warehouse] | None = None,
        sku_field: str = "sku",
        quantity_field: str = "quantity",
        warehouse_field: str = "warehouse",
    ) -> RowRules:
        return cls(
            source=spec.name,
            warehouses=spec.warehouses,
            max_quantity=spec.max_quantity,
            duplicates=spec.duplicates,
            sku_case=spec.sku_case,
            warehouse_map=dict(warehouse_map or {}),
            sku_field=sku_field,
            quantity_field=quantity_field,
            warehouse_field=warehouse_field,
        )


class _Bad(Exception):  # internal signal; never escapes this module
    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Keyed:
    """A row whose SKU and warehouse are known; its quantity may still be bad."""

    row: RawRow
    warehouse: Warehouse
    sku: Sku
    quantity: int | _Bad


def validate_rows(
    rows: Iterable[RawRow], rules: RowRules
) -> tuple[dict[Warehouse, dict[Sku, int]], tuple[Rejected, ...]]:
    """Judge every row; good rows become columns per warehouse, the rest Rejected with the reason.

    Good rows keep the order of their SKU's first row. Rows are judged as they arrive (a
    stream is never held whole): until a SKU turns out to be duplicated it costs its quantity
    and its line in two dicts; only the copies of duplicated SKUs are kept as objects.
    """
    tally = _Tally(rules)
    for row in rows:
        tally.add(row)
    return tally.finish()


class _Tally:
    """The rows judged so far: each key's first row and good quantity, copies of duplicates."""

    def __init__(self, rules: RowRules) -> None:
        self.rules = rules
        self.quantities: dict[Warehouse, dict[Sku, int]] = {}  # good first rows, feed order
        # Every key's first row, kept small: its line, for rows from the feed's first origin
        # whose SKU was clean and quantity good (the rest is in `quantities`); other first rows
        # whole, in `unusual`. Only a later copy of the key ever needs the first row back.
        self.lines: dict[Warehouse, dict[Sku, int | None]] = {}
        self.unusual: dict[tuple[Warehouse, Sku], RawRow] = {}
        self.origin: str | None = None
        self.copies: dict[tuple[Warehouse, Sku], list[_Keyed]] = {}  # duplicated keys only
        self.rejected: list[Rejected] = []
        self.known: dict[object, Warehouse] = {}  # feed values already resolved to a warehouse

    def add(self, row: RawRow) -> None:
        try:
            sku = parse_sku(row.sku, self.rules)
        except _Bad as bad:
            self.rejected.append(_reject(row, self.rules, bad))
            return
        try:
            warehouse = self._warehouse(row.warehouse)
        except _Bad as bad:
            self.rejected.append(_reject(row, self.rules, bad, sku=sku))
            return
        quantity = _quantity(row.quantity, self.rules)
        lines = self.lines.setdefault(warehouse, {})
        if sku in lines:
            self._copy(_Keyed(row, warehouse, sku, quantity), lines[sku])
            return
        lines[sku] = row.line
        if self.origin is None:
            self.origin = row.origin
        if row.origin != self.origin or row.sku != sku or isinstance(quantity, _Bad):
            self.unusual[(warehouse, sku)] = row
        if isinstance(quantity, _Bad):
            # Its own reason stands whatever copies follow, so it is rejected on sight.
            keyed = _Keyed(row, warehouse, sku, quantity)
            self.rejected.append(_reject(row, self.rules, quantity, keyed))
        else:
            self.quantities.setdefault(warehouse, {})[sku] = quantity

    def _warehouse(self, value: object) -> Warehouse:
        # A feed names a handful of warehouses a million times: resolve each value once.
        if isinstance(value, str | _Fixed):
            known = self.known.get(value)
            if known is None:
                known = self.known[value] = resolve_warehouse(value, self.rules)
            return known
        return resolve_warehouse(value, self.rules)

    def _first(self, warehouse: Warehouse, sku: Sku, line: int | None) -> RawRow:
        """The key's first row again: kept whole, or rebuilt from its line and quantity."""
        kept = self.unusual.get((warehouse, sku))
        if kept is not None:
            return kept
        return RawRow(self.origin or "", line, sku, self.quantities[warehouse][sku])

    def _copy(self, keyed: _Keyed, first_line: int | None) -> None:
        key = (keyed.warehouse, keyed.sku)
        if key not in self.copies:
            first = self._first(keyed.warehouse, keyed.sku, first_line)
            quantity = _quantity(first.quantity, self.rules)
            self.copies[key] = [_Keyed(first, keyed.warehouse, keyed.sku, quantity)]
        self.copies[key].append(keyed)
        if isinstance(keyed.quantity, _Bad):
            self.rejected.append(_reject(keyed.row, self.rules, keyed.quantity, keyed))

    def finish(self) -> tuple[dict[Warehouse, dict[Sku, int]], tuple[Rejected, ...]]:
        for (warehouse, sku), copies in self.copies.items():
            total = _settle_copies(copies, self.rules, self.rejected)
            column = self.quantities.get(warehouse, {})
            if total is None:
                column.pop(sku, None)
            else:
                column[sku] = total  # in place: the SKU keeps its first row's position
        self.rejected.sort(key=lambda r: (r.origin, r.line or 0))
        rows = {w: column for w, column in self.quantities.items() if column}
        return rows, tuple(self.rejected)


def row_key(row: RawRow, rules: RowRules) -> tuple[Warehouse, Sku] | None:
    """The warehouse and SKU a row speaks for, or None when either is bad (it is then rejected
    without taking part in duplicate checks)."""
    try:
        return resolve_warehouse(row.warehouse, rules), parse_sku(row.sku, rules)
    except _Bad:
        return None


def known_warehouse(value: object, rules: RowRules) -> Warehouse | None:
    """The warehouse a feed's value maps to, or None when a row with it would be rejected."""
    try:
        return resolve_warehouse(value, rules)
    except _Bad:
        return None


def _quantity(value: object, rules: RowRules) -> int | _Bad:
    try:
        return parse_quantity(value, rules)
    except _Bad as bad:
        return bad


def parse_sku(value: object, rules: RowRules) -> Sku:
    """Trim and case-fold a SKU; reject missing, empty and non-text values."""
    if type(value) is str and (text := value.strip()) and text.isprintable():
        # The usual row, settled in three C calls; anything else takes the checks below.
        return _cased(text, rules)
    if value is None:
        raise _Bad(rules.sku_field, None, "SKU is missing")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Bad(rules.sku_field, value, f"SKU must be text, got {type(value).__name__}")
    text = str(value).strip()
    if not text:
        raise _Bad(rules.sku_field, value, "SKU is empty")
    if not text.isprintable():
        # A tab or line break inside a SKU is almost always a broken quote, not a real SKU.
        raise _Bad(rules.sku_field, value, "SKU contains a control character")
    return _cased(text, rules)


def _cased(text: str, rules: RowRules) -> Sku:
    if rules.sku_case == "upper":
        return Sku(text.upper())
    if rules.sku_case == "lower":
        return Sku(text.lower())
    return Sku(text)


def resolve_warehouse(value: object, rules: RowRules) -> Warehouse:
    """Map a feed's warehouse value to one of ours; reject values we do not know."""
    if isinstance(value, _Fixed):
        return rules.warehouses[0]
    text = "" if value is None else str(value).strip()
    if not text:
        raise _Bad(rules.warehouse_field, value, "warehouse is empty")
    if rules.warehouse_map:
        mapped = rules.warehouse_map.get(text)
    else:
        mapped = Warehouse(text) if text in rules.warehouses else None
    if mapped is None or mapped not in rules.warehouses:
        known = ", ".join(sorted(rules.warehouse_map or rules.warehouses))
        raise _Bad(rules.warehouse_field, value, f"unknown warehouse {text!r} (known: {known})")
    return mapped


def parse_quantity(value: object, rules: RowRules) -> int:
    """A whole number from 0 to max_quantity; typed whole floats (JSON 12.0) count as whole."""
    if type(value) is str and (text := value.strip()).isascii() and text.isdigit():
        # The usual row: plain ASCII digits. Anything else takes the checks below.
        number = int(text)
        if number <= rules.max_quantity:
            return number
    name = rules.quantity_field
    if value is None:
        raise _Bad(name, None, "quantity is missing")
    if isinstance(value, bool):
        raise _Bad(name, value, "quantity must be a whole number, got a boolean")
    if isinstance(value, str):
        number = _quantity_from_text(value, name)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        number = _quantity_from_number(value, name)
    else:
        raise _Bad(name, value, f"quantity must be a whole number, got {type(value).__name__}")
    if number < 0:
        raise _Bad(name, value, "quantity is negative")
    if number > rules.max_quantity:
        raise _Bad(name, value, f"quantity exceeds max_quantity {rules.max_quantity}")
    return number


def _quantity_from_text(value: str, name: str) -> int:
    text = value.strip()
    if not text:
        raise _Bad(name, value, "quantity is empty")
    if text.startswith("-") and _DIGITS.fullmatch(text[1:]):
        raise _Bad(name, value, "quantity is negative")
    if not _DIGITS.fullmatch(text):
        raise _Bad(name, value, "quantity must be a whole number (digits only)")
    return int(text)


def _quantity_from_number(value: float | Decimal, name: str) -> int:
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad(name, value, "quantity must be a whole number, got a non-finite number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise _Bad(name, value, "quantity must be a whole number, got a non-finite number")
    if value != int(value):
        raise _Bad(name, value, "quantity must be a whole number, got a fraction")
    return int(value)


def _settle_copies(copies: list[_Keyed], rules: RowRules, rejected: list[Rejected]) -> int | None:
    """What a duplicated key keeps: the total, if duplicates = 'sum' and every copy is good and
    the total fits; else None, with its good copies rejected (bad ones were rejected on sight)."""
    bad = next((k for k in copies if isinstance(k.quantity, _Bad)), None)
    total = sum(k.quantity for k in copies if isinstance(k.quantity, int))
    if rules.duplicates == "sum" and bad is None and total <= rules.max_quantity:
        return total
    for keyed in copies:
        if isinstance(keyed.quantity, int):
            reason = _duplicate_reason(keyed, copies, bad, total, rules)
            why = _Bad(rules.sku_field, keyed.row.sku, reason)
            rejected.append(_reject(keyed.row, rules, why, keyed))
    return None


def _duplicate_reason(
    keyed: _Keyed, copies: list[_Keyed], bad: _Keyed | None, total: int, rules: RowRules
) -> str:
    if rules.duplicates == "sum" and bad is not None:
        return f"cannot sum duplicate SKU {keyed.sku!r}: {_where(bad.row, keyed.row)} is rejected"
    if rules.duplicates == "sum":
        return f"duplicate SKU {keyed.sku!r} sums to {total}, above max_quantity"
    others = ", ".join(_where(o.row, keyed.row) for o in copies if o is not keyed)
    return (
        f"duplicate SKU {keyed.sku!r} in warehouse {keyed.warehouse!r}"
        f" (also at {others}); duplicates = 'reject' rejects every copy"
    )


def _where(other: RawRow, this: RawRow) -> str:
    """Name another row briefly: 'line 7' in the same feed, 'origin:7' elsewhere."""
    if other.origin == this.origin:
        return f"line {other.line}"
    return f"{other.origin}:{other.line}"


def _reject(
    row: RawRow, rules: RowRules, bad: _Bad, keyed: _Keyed | None = None, sku: Sku | None = None
) -> Rejected:
    """The quarantined row, naming its SKU (and warehouse) when those were valid."""
    value = None if bad.value is None else str(bad.value)
    if keyed is None:
        return Rejected(rules.source, row.origin, row.line, bad.field, value, bad.reason, sku=sku)
    return Rejected(
        rules.source, row.origin, row.line, bad.field, value, bad.reason,
        sku=keyed.sku, warehouse=keyed.warehouse,
    )  # fmt: skip
