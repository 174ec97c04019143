"""Run many updates on a small thread pool, so slow answers still use the whole request budget."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from itertools import islice

from inventory_sync.errors import ShipStationError
from inventory_sync.shipstation.models import InventoryUpdate, UpdateReceipt

Outcome = UpdateReceipt | ShipStationError
ResultCallback = Callable[[InventoryUpdate, Outcome], None]
SendCallback = Callable[[InventoryUpdate], None]

# Updates queued ahead of the workers; bounded so a huge iterable is never held in memory.
_QUEUE_DEPTH_PER_WORKER = 2


def run_concurrently(
    updates: Iterable[InventoryUpdate],
    send_one: Callable[[InventoryUpdate], Outcome],
    concurrency: int,
    on_result: ResultCallback | None,
) -> None:
    """Send every update; report each outcome in the calling thread as it completes.

    An exception other than ShipStationError (a bug, or one raised by a callback) stops
    the batch: pending updates are cancelled and the exception propagates.
    """
    workers = max(1, concurrency)
    pending = iter(updates)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shipstation-push") as pool:
        in_flight: dict[Future[Outcome], InventoryUpdate] = {}
        try:
            _top_up(pool, pending, in_flight, send_one, workers * _QUEUE_DEPTH_PER_WORKER)
            while in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    update = in_flight.pop(future)
                    outcome = future.result()
                    if on_result is not None:
                        on_result(update, outcome)
                _top_up(pool, pending, in_flight, send_one, workers * _QUEUE_DEPTH_PER_WORKER)
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise


def _top_up(
    pool: ThreadPoolExecutor,
    pending: Iterable[InventoryUpdate],
    in_flight: dict[Future[Outcome], InventoryUpdate],
    send_one: Callable[[InventoryUpdate], Outcome],
    depth: int,
) -> None:
    for update in islice(pending, max(0, depth - len(in_flight))):
        in_flight[pool.submit(send_one, update)] = update
