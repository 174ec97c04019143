"""ShipStationClient: the twelve V2 inventory operations as typed methods over one httpx.Client."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Protocol, Self
from urllib.parse import quote

import httpx

from inventory_sync.errors import ShipStationError
from inventory_sync.shipstation.batch import ResultCallback, SendCallback, run_concurrently
from inventory_sync.shipstation.budget import RequestBudget
from inventory_sync.shipstation.failures import request_id_of
from inventory_sync.shipstation.keys import ExpiryNotice, KeyRing
from inventory_sync.shipstation.models import (
    REPLAYABLE_TRANSACTIONS,
    GroupBy,
    InventoryLevel,
    InventoryLocation,
    InventoryUpdate,
    InventoryWarehouse,
    PagesRead,
    UpdateReceipt,
)
from inventory_sync.shipstation.paging import PageSizes, iterate_items
from inventory_sync.shipstation.retry import Replay
from inventory_sync.shipstation.settings import ClientSettings
from inventory_sync.shipstation.transport import Call, Requester
from inventory_sync.shipstation.wire import (
    level_from_json,
    location_from_json,
    update_to_body,
    warehouse_from_json,
)


class Clock(Protocol):
    def now(self) -> datetime: ...


class _UtcClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def _flag(value: bool) -> str:  # noqa: FBT001 -- the API's "0"/"1" strings
    return "1" if value else "0"


class ShipStationClient:
    """Typed access to the V2 inventory API. Thread-safe; one budget per account."""

    def __init__(
        self,
        http: httpx.Client,
        settings: ClientSettings,
        *,
        keys: KeyRing,
        budget: RequestBudget,
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self.settings = settings
        self._keys = keys
        self.budget = budget
        self._requester = Requester(http, keys, budget, settings, rng=rng)
        self._sizes = PageSizes(settings.page_size, settings.page_size_param)

    # -- life cycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def check_key_expiry(self, today: date) -> list[ExpiryNotice]:
        """Log shipstation.key_expiring for keys 14, 7 or 1 day(s) from expiry; return them."""
        return self._keys.check_expiry(today)

    # -- inventory levels ---------------------------------------------------------------------

    def list_levels(
        self,
        *,
        inventory_warehouse_id: str | None = None,
        inventory_location_id: str | None = None,
        sku: str | None = None,
        group_by: GroupBy | None = None,
        on_page: Callable[[PagesRead], None] | None = None,
    ) -> Iterator[InventoryLevel]:
        """Yield every level matching the filters, following pagination; ``on_page`` hears
        each page (pages and levels so far, ShipStation's totals) before its levels."""
        filters = {
            "inventory_warehouse_id": inventory_warehouse_id,
            "inventory_location_id": inventory_location_id,
            "sku": sku,
            "group_by": None if group_by is None else GroupBy(group_by).value,
        }
        params = {name: value for name, value in filters.items() if value is not None}
        rows = iterate_items(
            self._requester,
            self._sizes,
            action="getInventoryLevels",
            path="/v2/inventory",
            item_key="inventory",
            params=params,
            on_page=on_page,
        )
        for row in rows:
            yield level_from_json(row)

    def update_level(
        self, update: InventoryUpdate, *, before_send: Callable[[], None] | None = None
    ) -> UpdateReceipt:
        """Send one update. Only adjust is replayed after an unknown outcome; the others raise
        OutcomeUncertain so the caller reads back instead of risking a double apply."""
        replay = (
            Replay.ALWAYS
            if update.transaction_type in REPLAYABLE_TRANSACTIONS
            else Replay.IF_NOT_SENT
        )
        call = Call(
            "updateSKUStockLevels",
            "POST",
            "/v2/inventory",
            replay,
            body=update_to_body(update),
            before_send=before_send,
        )
        response = self._requester.send(call)
        return UpdateReceipt(response.status_code, request_id_of(response))

    def update_many(
        self,
        updates: Iterable[InventoryUpdate],
        *,
        on_result: ResultCallback | None = None,
        before_send: SendCallback | None = None,
    ) -> None:
        """Push updates on ``settings.concurrency`` workers sharing this client's budget.

        ``before_send(update)`` runs in the worker right before each attempt leaves;
        ``on_result(update, receipt_or_error)`` runs in the calling thread as results arrive.
        """

        def send_one(update: InventoryUpdate) -> UpdateReceipt | ShipStationError:
            hook = None if before_send is None else (lambda: before_send(update))
            try:
                return self.update_level(update, before_send=hook)
            except ShipStationError as exc:
                return exc

        run_concurrently(updates, send_one, self.settings.concurrency, on_result)

    # -- warehouses ---------------------------------------------------------------------------

    def list_warehouses(self) -> list[InventoryWarehouse]:
        rows = iterate_items(
            self._requester,
            self._sizes,
            action="getInventoryWarehouses",
            path="/v2/inventory_warehouses",
            item_key="inventory_warehouses",
            params={},
        )
        return [warehouse_from_json(row) for row in rows]

    def get_warehouse(self, inventory_warehouse_id: str) -> InventoryWarehouse:
        path = f"/v2/inventory_warehouses/{quote(inventory_warehouse_id, safe='')}"
        call = Call("getInventoryWarehouseById", "GET", path, Replay.ALWAYS)
        return warehouse_from_json(self._requester.send(call).json())

    def create_warehouse(self, name: str) -> InventoryWarehouse:
        # A replayed create could make a duplicate, so it is never replayed after sending.
        call = Call(
            "addNewInventoryWarehouse",
            "POST",
            "/v2/inventory_warehouses",
            Replay.IF_NOT_SENT,
            body={"name": name},
        )
        return warehouse_from_json(self._requester.send(call).json())

    def rename_warehouse(self, inventory_warehouse_id: str, name: str) -> None:
        path = f"/v2/inventory_warehouses/{quote(inventory_warehouse_id, safe='')}"
        self._requester.send(
            Call("updateInventoryWarehouse", "PUT", path, Replay.ALWAYS, body={"name": name})
        )

    def delete_warehouse(
        self, inventory_warehouse_id: str, *, remove_inventory: bool = False
    ) -> None:
        path = f"/v2/inventory_warehouses/{quote(inventory_warehouse_id, safe='')}"
        params = {"remove_inventory": _flag(remove_inventory)}
        call = Call("deleteInventoryWarehouse", "DELETE", path, Replay.IF_NOT_SENT, params=params)
        self._requester.send(call)

    # -- locations ----------------------------------------------------------------------------

    def list_locations(self) -> list[InventoryLocation]:
        rows = iterate_items(
            self._requester,
            self._sizes,
            action="listInventoryLocations",
            path="/v2/inventory_locations",
            item_key="inventory_locations",
            params={},
        )
        return [location_from_json(row) for row in rows]

    def get_location(self, inventory_location_id: str) -> InventoryLocation:
        path = f"/v2/inventory_locations/{quote(inventory_location_id, safe='')}"
        call = Call("getInventoryLocationById", "GET", path, Replay.ALWAYS)
        return location_from_json(self._requester.send(call).json())

    def create_location(
        self, name: str, inventory_warehouse_id: str, *, barcode: str | None = None
    ) -> InventoryLocation:
        body = {"name": name, "inventory_warehouse_id": inventory_warehouse_id}
        if barcode is not None:
            body["barcode"] = barcode
        call = Call(
            "createInventoryLocation",
            "POST",
            "/v2/inventory_locations",
            Replay.IF_NOT_SENT,
            body=body,
        )
        return location_from_json(self._requester.send(call).json())

    def update_location(
        self, inventory_location_id: str, *, name: str | None = None, barcode: str | None = None
    ) -> None:
        """Rename and/or re-label a location; a location cannot change warehouse."""
        body = {key: value for key, value in (("name", name), ("barcode", barcode)) if value}
        if not body:
            raise ValueError("update_location needs a name or a barcode")
        path = f"/v2/inventory_locations/{quote(inventory_location_id, safe='')}"
        self._requester.send(Call("updateInventoryLocation", "PUT", path, Replay.ALWAYS, body=body))

    def delete_location(
        self, inventory_location_id: str, *, remove_inventory: bool = False
    ) -> None:
        path = f"/v2/inventory_locations/{quote(inventory_location_id, safe='')}"
        params = {"remove_inventory": _flag(remove_inventory)}
        call = Call(
            "deleteInventoryLocationById", "DELETE", path, Replay.IF_NOT_SENT, params=params
        )
        self._requester.send(call)


def build_client(
    settings: ClientSettings,
    *,
    clock: Clock | None = None,
    transport: httpx.BaseTransport | None = None,
    budget: RequestBudget | None = None,
    on_pause: Callable[[float], None] | None = None,
) -> ShipStationClient:
    """Build a client that owns its httpx.Client; pass ``budget`` to share one per account.

    ``on_pause`` hears each pause the server asks for (Retry-After, or no requests left in the
    window), in seconds: a terminal can then say why nothing moves.
    """
    clock = clock or _UtcClock()
    http = httpx.Client(
        base_url=settings.base_url,
        transport=transport,
        timeout=httpx.Timeout(
            settings.timeout_seconds, connect=min(settings.timeout_seconds, 10.0)
        ),
        limits=httpx.Limits(max_connections=max(settings.concurrency, 1) + 2),
        headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
    )
    keys = KeyRing(settings.keys, today=lambda: clock.now().date())
    return ShipStationClient(
        http,
        settings,
        keys=keys,
        budget=budget
        or RequestBudget(
            settings.requests_per_minute,
            on_pause=on_pause,
            max_pause=settings.max_rate_limit_pause_seconds,
        ),
    )
