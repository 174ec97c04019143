"""The twelve inventory operations as plain functions: parsed request in, status and body out."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from inventory_sync.errors import RequestRejected
from inventory_sync.shipstation.emulator.settings import EmulatorSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter
from inventory_sync.shipstation.models import GroupBy
from inventory_sync.shipstation.wire import level_to_json, record_to_json, update_from_body


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None
    ident: str | None = None  # the {id} path segment, when the route has one


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any = None
    changed: bool = False  # the request changed state (goes into the applied record)


@dataclass(frozen=True, slots=True)
class Context:
    state: EmulatorState
    settings: EmulatorSettings
    base_url: str
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Context, Request], Answer]


def _invalid(message: str) -> RequestRejected:
    return RequestRejected(
        message, status_code=400, error_code="invalid_field_value", error_type="validation"
    )


def _int_param(query: dict[str, str], name: str, *, lowest: int, highest: int) -> int | None:
    if name not in query:
        return None
    try:
        value = int(query[name])
    except ValueError:
        raise _invalid(f"{name} must be an integer") from None
    if not lowest <= value <= highest:
        raise _invalid(f"{name} must be between {lowest} and {highest}")
    return value


def _page(ctx: Context, req: Request, key: str, items: Sequence[Any]) -> Answer:
    """One page with absolute links; next/prev keep the caller's filters and size parameter."""
    size_name, size = ctx.settings.page_size_params[0], None
    for name in ctx.settings.page_size_params:
        size = _int_param(req.query, name, lowest=1, highest=ctx.settings.page_size_max)
        if size is not None:
            size_name = name
            break
    size = size or ctx.settings.page_size_default
    page = _int_param(req.query, "page", lowest=1, highest=10**9) or 1
    pages = math.ceil(len(items) / size)
    kept = {k: v for k, v in req.query.items() if k not in ("page", size_name)}

    def link(number: int) -> dict[str, str]:
        query = urlencode({**kept, "page": number, size_name: size})
        return {"href": f"{ctx.base_url}{req.path}?{query}"}

    absent: dict[str, None] = {"href": None} if ctx.settings.absent_link_as_null else {}
    return Answer(
        200,
        {
            key: list(items[(page - 1) * size : page * size]),
            "total": len(items),
            "page": page,
            "pages": pages,
            "links": {
                "first": link(1),
                "last": link(max(pages, 1)),
                "prev": link(page - 1) if page >= 2 else absent,  # noqa: PLR2004
                "next": link(page + 1) if page < pages else absent,
            },
        },
    )


def _list_levels(ctx: Context, req: Request) -> Answer:
    group = req.query.get("group_by")
    if group is not None and group not in {g.value for g in GroupBy}:
        raise _invalid("group_by must be warehouse or location")
    where = LevelFilter(
        req.query.get("inventory_warehouse_id"),
        req.query.get("inventory_location_id"),
        req.query.get("sku"),
    )
    rows = ctx.state.levels(
        where, group_by=GroupBy(group) if group else None, omit_zero=ctx.settings.omit_zero_stock
    )
    return _page(ctx, req, "inventory", [level_to_json(row) for row in rows])


def _update_levels(ctx: Context, req: Request) -> Answer:
    ctx.state.apply_update(update_from_body(req.body))
    return Answer(204, changed=True)


def _name_from(body: Any, *, required: bool) -> str | None:  # noqa: ANN401
    name = body.get("name") if isinstance(body, dict) else None
    if name is None and not required:
        return None
    if not isinstance(name, str) or not name.strip():
        raise RequestRejected(
            "name is required",
            status_code=400,
            error_code="field_value_required",
            error_type="validation",
        )
    return name


def _optional_str(body: Any, key: str) -> str | None:  # noqa: ANN401
    value = body.get(key) if isinstance(body, dict) else None
    if value is not None and not isinstance(value, str):
        raise _invalid(f"{key} must be a string")
    return value


def _remove_inventory(req: Request) -> bool:
    value = req.query.get("remove_inventory", "0")
    if value not in ("0", "1"):
        raise _invalid('remove_inventory must be "0" or "1"')
    return value == "1"


def _list_warehouses(ctx: Context, req: Request) -> Answer:
    with ctx.state.lock:
        rows = [record_to_json(w) for w in ctx.state.warehouses.values()]
    return _page(ctx, req, "inventory_warehouses", rows)


def _create_warehouse(ctx: Context, req: Request) -> Answer:
    name = _name_from(req.body, required=True)
    return Answer(200, record_to_json(ctx.state.create_warehouse(str(name))), changed=True)


def _get_warehouse(ctx: Context, req: Request) -> Answer:
    return Answer(200, record_to_json(ctx.state.warehouse(str(req.ident))))


def _rename_warehouse(ctx: Context, req: Request) -> Answer:
    name = _name_from(req.body, required=False)
    if name is not None:
        ctx.state.rename_warehouse(str(req.ident), name)
    else:
        ctx.state.warehouse(str(req.ident))
    return Answer(204, changed=True)


def _delete_warehouse(ctx: Context, req: Request) -> Answer:
    ctx.state.delete_warehouse(
        str(req.ident),
        remove_inventory=_remove_inventory(req),
        refuse=ctx.settings.delete_with_stock_status,
    )
    return Answer(204, changed=True)


def _list_locations(ctx: Context, req: Request) -> Answer:
    with ctx.state.lock:
        rows = [record_to_json(loc) for loc in ctx.state.locations.values()]
    return _page(ctx, req, "inventory_locations", rows)


def _create_location(ctx: Context, req: Request) -> Answer:
    name = str(_name_from(req.body, required=True))
    warehouse_id = _optional_str(req.body, "inventory_warehouse_id")
    if not warehouse_id:
        raise RequestRejected(
            "inventory_warehouse_id is required",
            status_code=400,
            error_code="field_value_required",
            error_type="validation",
        )
    barcode = _optional_str(req.body, "barcode")
    created = ctx.state.create_location(name, warehouse_id, barcode)
    return Answer(200, record_to_json(created), changed=True)


def _get_location(ctx: Context, req: Request) -> Answer:
    return Answer(200, record_to_json(ctx.state.location(str(req.ident))))


def _update_location(ctx: Context, req: Request) -> Answer:
    name = _name_from(req.body, required=False)
    barcode = _optional_str(req.body, "barcode")
    ctx.state.update_location(str(req.ident), name=name, barcode=barcode)
    return Answer(204, changed=True)


def _delete_location(ctx: Context, req: Request) -> Answer:
    ctx.state.delete_location(
        str(req.ident),
        remove_inventory=_remove_inventory(req),
        refuse=ctx.settings.delete_with_stock_status,
    )
    return Answer(204, changed=True)


_ID = r"([^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile(r"/v2/inventory"), _list_levels),
    ("POST", re.compile(r"/v2/inventory"), _update_levels),
    ("GET", re.compile(r"/v2/inventory_warehouses"), _list_warehouses),
    ("POST", re.compile(r"/v2/inventory_warehouses"), _create_warehouse),
    ("GET", re.compile(rf"/v2/inventory_warehouses/{_ID}"), _get_warehouse),
    ("PUT", re.compile(rf"/v2/inventory_warehouses/{_ID}"), _rename_warehouse),
    ("DELETE", re.compile(rf"/v2/inventory_warehouses/{_ID}"), _delete_warehouse),
    ("GET", re.compile(r"/v2/inventory_locations"), _list_locations),
    ("POST", re.compile(r"/v2/inventory_locations"), _create_location),
    ("GET", re.compile(rf"/v2/inventory_locations/{_ID}"), _get_location),
    ("PUT", re.compile(rf"/v2/inventory_locations/{_ID}"), _update_location),
    ("DELETE", re.compile(rf"/v2/inventory_locations/{_ID}"), _delete_location),
]


def route(method: str, path: str) -> tuple[Handler, str | None] | None:
    """Find the handler for a method and path, with the {id} segment if any."""
    for route_method, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            return handler, (match.group(1) if match.groups() else None)
    return None


def path_exists(path: str) -> bool:
    return any(pattern.fullmatch(path) for _, pattern, _ in ROUTES)
