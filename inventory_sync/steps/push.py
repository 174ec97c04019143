"""Push: record every adjustment before its request leaves, send, record the outcome."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict

import structlog

from inventory_sync.app import App
from inventory_sync.domain.inventory import InventoryUpdate, UpdateReceipt
from inventory_sync.domain.model import Adjustment, AdjustmentStatus, Outcome, RunId, SnapshotUse
from inventory_sync.errors import (
    AuthError,
    LeaseLost,
    OutcomeUncertain,
    PlanError,
    ShipStationError,
)
from inventory_sync.ports import Fence
from inventory_sync.steps.agree import agree_on

log = structlog.get_logger(__name__)
Progress = Callable[[int, int], None]
_PROGRESS_EVERY = 100


def to_update(adjustment: Adjustment, fence: Fence | None = None) -> InventoryUpdate:
    """The request for one adjustment; its id goes into notes so ShipStation's history matches.

    The id stays the last word of the notes; a replica's fence goes before it, so ShipStation's
    history also shows which lease holder sent each change."""
    tag = "" if fence is None else f"{fence.tag} "
    return InventoryUpdate(
        transaction_type=adjustment.transaction_type.value,
        sku=adjustment.sku,
        quantity=adjustment.quantity,
        inventory_location_id=adjustment.location_id,
        reason=_reason(adjustment),
        notes=f"inventory-sync {tag}{adjustment.adjustment_id}",
    )


def _reason(adjustment: Adjustment) -> str:
    note = adjustment.basis.get("note")
    return f"inventory-sync {adjustment.rule}" + (f": {note}" if note else "")


def check_fence(fence: Fence | None) -> None:
    """Raise LeaseLost once the holder's own clock says the lease is no longer safely ours."""
    if fence is not None and not fence.still_held():
        raise LeaseLost(fence.lease, fence=fence.number, reason="its renewal is overdue")


def request_text(update: InventoryUpdate) -> str:
    body = {key: value for key, value in asdict(update).items() if value is not None}
    return json.dumps(body, sort_keys=True)


def push(
    app: App,
    run_id: RunId,
    adjustments: Sequence[Adjustment],
    *,
    progress: Progress | None = None,
    record: bool = True,
    fence: Fence | None = None,
    uses: Sequence[SnapshotUse] = (),
) -> None:
    """Send every planned adjustment; one failure never stops the others, auth failures do.

    ``record=False`` when the caller already recorded them as planned; ``uses``, the change
    snapshots the plan was made from, are recorded counted with it. With ``fence`` (a
    replica's lease), nothing is recorded or sent once the lease is no longer current:
    LeaseLost stops the push, and the lease's next holder settles what was left.
    """
    if record:
        app.ledger.record_planned(run_id, adjustments, at=app.clock.now(), fence=fence, uses=uses)
    pusher = _Pusher(app, run_id, len(adjustments), progress, fence)
    with ThreadPoolExecutor(max_workers=app.concurrency, thread_name_prefix="push") as pool:
        try:
            pusher.start()
            for adjustment in adjustments:
                pusher.wait_for_room()
                pusher.send(pool, adjustment)
            pusher.drain()
        finally:
            pusher.cancel_pending()


class _Pusher:
    """Keeps a bounded window of requests in flight; the ledger is written from this thread only."""

    def __init__(
        self,
        app: App,
        run_id: RunId,
        total: int,
        progress: Progress | None,
        fence: Fence | None,
    ) -> None:
        self.app = app
        self.fence = fence
        self.run_id = run_id
        self.total = total
        self.done = 0
        self.progress = progress
        self.pending: dict[Future[UpdateReceipt], Adjustment] = {}
        self.window = app.concurrency * 2

    def start(self) -> None:
        # Done 0 before the first request: a terminal shows the bar while the first answers
        # (or a long pause) are still to come.
        if self.progress is not None and self.total:
            self.progress(0, self.total)

    def send(self, pool: ThreadPoolExecutor, adjustment: Adjustment) -> None:
        update = to_update(adjustment, self.fence)
        self.still_ours()
        self.app.ledger.mark_sent(
            adjustment.adjustment_id,
            request=request_text(update),
            at=self.app.clock.now(),
            fence=self.fence,
        )
        future = pool.submit(self.app.inventory.update_level, update, before_send=self.still_ours)
        self.pending[future] = adjustment

    def still_ours(self) -> None:
        """Raise LeaseLost when the replica's own view says its lease ran out (no I/O).

        Asked again right before each attempt leaves, after the wait for the request budget,
        so a replica paused between the ledger's check and the send still sends nothing."""
        check_fence(self.fence)

    def wait_for_room(self) -> None:
        while len(self.pending) >= self.window:
            self._collect(wait(self.pending, return_when=FIRST_COMPLETED).done)

    def drain(self) -> None:
        while self.pending:
            self._collect(wait(self.pending, return_when=FIRST_COMPLETED).done)

    def cancel_pending(self) -> None:
        for future in self.pending:
            future.cancel()
        # Requests already running finish; record what they did before leaving.
        for future in [f for f in self.pending if not f.cancelled()]:
            try:
                self._settle_one(future, self.pending[future])
            except (AuthError, PlanError, LeaseLost):
                continue  # already recorded; the first such error is the one raised
        self.pending.clear()

    def _collect(self, finished: set[Future[UpdateReceipt]]) -> None:
        for future in finished:
            adjustment = self.pending.pop(future)
            self._settle_one(future, adjustment)
            self._tick()

    def _settle_one(self, future: Future[UpdateReceipt], adjustment: Adjustment) -> None:
        # A replica that lost its lease records no outcome and no agreed level: the lease's
        # next holder may have read this change back and agreed newer levels since.
        self.still_ours()
        now = self.app.clock.now()
        try:
            receipt = future.result()
        except (AuthError, PlanError) as exc:
            self._record_failure(adjustment, exc, AdjustmentStatus.FAILED)
            raise
        except OutcomeUncertain as exc:
            self._record_failure(adjustment, exc, AdjustmentStatus.UNCERTAIN)
        except ShipStationError as exc:
            self._record_failure(adjustment, exc, AdjustmentStatus.FAILED)
        else:
            # The agreed level first: a crash between the two writes leaves the adjustment
            # `sent`, which the next run settles by reading back. The other order left it
            # `applied` on the old agreed level, and the next run planned the delta again.
            agree_on(self.app, adjustment, self.run_id)
            self.app.ledger.mark_outcome(
                adjustment.adjustment_id,
                Outcome(
                    AdjustmentStatus.APPLIED,
                    now,
                    request_id=receipt.request_id,
                    response=str(receipt.status_code),
                ),
            )

    def _record_failure(
        self, adjustment: Adjustment, exc: ShipStationError, status: AdjustmentStatus
    ) -> None:
        support = exc.support
        response = json.dumps(support.response_body) if support and support.response_body else None
        self.app.ledger.mark_outcome(
            adjustment.adjustment_id,
            Outcome(
                status,
                self.app.clock.now(),
                request_id=exc.request_id,
                response=response,
                error=f"{type(exc).__name__}: {exc}",
            ),
        )
        if support is not None:
            record = json.dumps(asdict(support), default=str)
            self.app.ledger.record_support(adjustment.adjustment_id, record)
        event = (
            "adjustment.uncertain" if status is AdjustmentStatus.UNCERTAIN else "adjustment.failed"
        )
        log.error(
            event,
            adjustment_id=adjustment.adjustment_id,
            warehouse=adjustment.warehouse,
            sku=adjustment.sku,
            status_code=exc.status_code,
            error_code=exc.error_code,
            request_id=exc.request_id,
            error=str(exc),
        )

    def _tick(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)
        if self.done % _PROGRESS_EVERY == 0 or self.done == self.total:
            log.info("push.progress", done=self.done, total=self.total)
