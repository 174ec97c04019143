"""Retries by safety: reads and adjusts are replayed, deltas never are after an unknown outcome."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from inventory_sync.errors import ConnectFailed, OutcomeUncertain, TransportError
from inventory_sync.shipstation.models import InventoryUpdate

EMPTY_PAGE = {"inventory_warehouses": [], "total": 0, "page": 1, "pages": 0, "links": {}}


class Script:
    """A MockTransport that plays failures in order, then answers 204/200."""

    def __init__(self, *steps: Exception | httpx.Response) -> None:
        self.steps = list(steps)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        step = self.steps.pop(0) if self.steps else None
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return (
            httpx.Response(204)
            if request.method == "POST"
            else httpx.Response(200, json=EMPTY_PAGE)
        )


def scripted(connect, emulator, *steps, **settings) -> tuple[Script, Callable]:
    script = Script(*steps)
    return script, connect(emulator, transport=httpx.MockTransport(script), **settings)


def connect_error() -> httpx.ConnectError:
    return httpx.ConnectError("refused")


def read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("no answer")


INCREMENT = InventoryUpdate("increment", "SKU-A", 1, "se-2001", notes="intent-1")
ADJUST = InventoryUpdate("adjust", "SKU-A", 7, "se-2001")


class TestReads:
    def test_transient_failures_are_retried_until_an_answer(self, emulator, connect):
        script, client = scripted(
            connect, emulator, connect_error(), read_timeout(), httpx.Response(503)
        )
        assert client.list_warehouses() == []
        assert len(script.seen) == 4

    def test_gives_up_after_max_read_retries(self, emulator, connect):
        failures = [httpx.RemoteProtocolError("reset") for _ in range(5)]
        script, client = scripted(connect, emulator, *failures, max_read_retries=2)
        with pytest.raises(TransportError) as caught:
            client.list_warehouses()
        assert not isinstance(caught.value, ConnectFailed)
        assert len(script.seen) == 3

    def test_a_429_waits_out_retry_after_and_pauses_the_shared_budget(self, emulator, connect):
        limited = httpx.Response(429, headers={"Retry-After": "0.2"})
        script, client = scripted(connect, emulator, limited)
        assert client.list_warehouses() == []
        assert len(script.seen) == 2
        assert client.budget._paused_until > 0


class TestWritesThatNeverLeft:
    def test_an_increment_that_could_not_connect_is_retried(self, emulator, connect):
        script, client = scripted(connect, emulator, connect_error(), httpx.ConnectTimeout("slow"))
        assert client.update_level(INCREMENT).status_code == 204
        assert len(script.seen) == 3

    def test_after_the_retries_it_is_connect_failed(self, emulator, connect):
        script, client = scripted(
            connect, emulator, *[connect_error() for _ in range(4)], max_read_retries=3
        )
        with pytest.raises(ConnectFailed):
            client.update_level(INCREMENT)
        assert len(script.seen) == 4


class TestUnknownOutcomes:
    @pytest.mark.parametrize("kind", ["increment", "decrement", "modify"])
    def test_a_delta_without_an_answer_is_uncertain_and_sent_once(self, emulator, connect, kind):
        script, client = scripted(connect, emulator, read_timeout())
        update = InventoryUpdate(
            kind,
            "SKU-A",
            1,
            "se-2001",
            new_inventory_location_id="se-2002" if kind == "modify" else None,
        )
        with pytest.raises(OutcomeUncertain) as caught:
            client.update_level(update)
        assert len(script.seen) == 1
        assert caught.value.support.extra["transport_error"].startswith("ReadTimeout")

    def test_an_adjust_without_an_answer_is_replayed(self, emulator, connect):
        script, client = scripted(
            connect,
            emulator,
            read_timeout(),
            httpx.RemoteProtocolError("reset"),
            httpx.Response(502),
        )
        sent = []
        client.update_level(ADJUST, before_send=lambda: sent.append(1))
        assert len(script.seen) == 4
        assert len(sent) == 4  # before_send marks every attempt

    def test_a_lost_acknowledgement_is_uncertain_though_the_change_applied(self, emulator, client):
        emulator.faults.update(lost_ack_rate=1.0)
        with pytest.raises(OutcomeUncertain):
            client.update_level(INCREMENT)
        [entry] = emulator.applied()
        assert entry.count == 1
        assert len(emulator.requests) == 1

    def test_a_lost_acknowledgement_on_adjust_is_settled_by_replaying(self, emulator, client):
        emulator.faults.update(lost_ack_rate=1.0, seed=1)
        with pytest.raises(TransportError):
            client.update_level(ADJUST)
        emulator.faults.update(lost_ack_rate=0.0)
        client.update_level(ADJUST)
        levels = {(r.sku, r.inventory_location_id): r.on_hand for r in client.list_levels()}
        assert levels["SKU-A", "se-2001"] == 7

    def test_a_read_timeout_on_an_increment_is_uncertain_and_the_server_may_still_apply_it(
        self, emulator, connect
    ):
        emulator.faults.update(latency_ms=300)
        client = connect(emulator, timeout_seconds=0.05)
        with pytest.raises(OutcomeUncertain):
            client.update_level(INCREMENT)
        deadline = time.monotonic() + 5
        while not emulator.requests and time.monotonic() < deadline:
            time.sleep(0.05)  # the emulator finishes the request after the client gave up
        time.sleep(0.4)  # long enough for a replay, had there been one, to land
        assert [entry.count for entry in emulator.applied()] == [1]
        assert len(emulator.requests) == 1

    def test_a_connection_dropped_before_commit_is_still_uncertain_for_a_delta(
        self, emulator, client
    ):
        emulator.faults.update(drop_before_rate=1.0)
        with pytest.raises(OutcomeUncertain):
            client.update_level(INCREMENT)
        assert emulator.applied() == []
