"""The shared request budget: even pacing, a pause every worker obeys, the server's headers."""

from __future__ import annotations

import threading

import pytest

from inventory_sync.errors import RateLimited
from inventory_sync.shipstation.budget import RequestBudget, retry_after_seconds


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sends: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def budget_for(rpm: int, time: FakeTime, headroom: float = 1.0) -> RequestBudget:
    return RequestBudget(rpm, headroom=headroom, monotonic=time.monotonic, sleep=time.sleep)


def send_times(budget: RequestBudget, time: FakeTime, count: int) -> list[float]:
    times = []
    for _ in range(count):
        budget.acquire()
        times.append(round(time.now - 100.0, 6))
    return times


class TestPacing:
    def test_spaces_requests_evenly_at_the_rate(self):
        time = FakeTime()
        assert send_times(budget_for(120, time), time, 4) == [0.0, 0.5, 1.0, 1.5]

    def test_a_minute_holds_no_more_than_the_limit(self):
        time = FakeTime()
        times = send_times(budget_for(200, time, headroom=0.98), time, 400)
        assert max(sum(1 for t in times if start <= t < start + 60) for start in times) <= 200

    def test_headroom_keeps_the_pace_just_under_the_limit(self):
        time = FakeTime()
        times = send_times(budget_for(600, time, headroom=0.98), time, 589)
        assert 59.9 < times[-1] < 60.1

    def test_rejects_a_non_positive_rate(self):
        with pytest.raises(ValueError):
            RequestBudget(0)


class TestSharedPause:
    def test_a_listener_hears_each_pause_that_holds_longer_and_not_one_inside_it(self):
        time, heard = FakeTime(), []
        budget = RequestBudget(
            60, monotonic=time.monotonic, sleep=time.sleep, on_pause=heard.append
        )
        budget.pause(20)
        budget.pause(5)  # a second worker's 429 inside the first pause: nothing new to say
        time.sleep(30)
        budget.pause(2)
        assert heard == [20, 2]

    def test_a_pause_holds_the_next_request(self):
        time = FakeTime()
        budget = budget_for(6000, time)
        budget.acquire()
        budget.pause(3)
        budget.acquire()
        assert time.now == pytest.approx(103.0)

    def test_workers_released_by_a_pause_are_spaced_not_stampeding(self):
        time = FakeTime()
        budget = budget_for(60, time)
        budget.pause(3)
        assert send_times(budget, time, 3) == [3.0, 4.0, 5.0]

    def test_a_shorter_pause_never_shortens_a_longer_one(self):
        time = FakeTime()
        budget = budget_for(6000, time)
        budget.pause(10)
        budget.pause(1)
        budget.acquire()
        assert time.now == pytest.approx(110.0)

    def test_a_pause_longer_than_the_bound_is_refused_not_sat_out(self):
        time = FakeTime()
        budget = RequestBudget(
            6000, headroom=1.0, monotonic=time.monotonic, sleep=time.sleep, max_pause=120
        )
        budget.pause(60)
        budget.acquire()  # a minute's window is waited for
        assert time.now == pytest.approx(160.0)
        budget.pause(600)
        with pytest.raises(RateLimited) as caught:
            budget.acquire()
        assert caught.value.retry_after == pytest.approx(600)
        assert time.now == pytest.approx(160.0)

    def test_one_instance_paces_every_thread(self):
        budget = RequestBudget(60_000)
        counted = []
        threads = [
            threading.Thread(target=lambda: (budget.acquire(), counted.append(1))) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(counted) == 8


class TestServerHeaders:
    def test_remaining_zero_pauses_until_the_reset(self):
        time = FakeTime()
        budget = budget_for(6000, time)
        budget.observe(
            {"x-rate-limit-limit": "6000", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "7"}
        )
        budget.acquire()
        assert time.now == pytest.approx(107.0)

    def test_a_lower_server_limit_slows_the_pace(self):
        time = FakeTime()
        budget = budget_for(600, time)
        budget.observe({"x-rate-limit-limit": "60", "x-rate-limit-remaining": "59"})
        assert budget.requests_per_minute == 60
        assert send_times(budget, time, 2) == [0.0, 1.0]

    def test_retry_after_is_read_in_seconds_with_a_default(self):
        assert retry_after_seconds({"retry-after": "4"}) == 4.0
        assert retry_after_seconds({}) == 5.0
        assert retry_after_seconds({"retry-after": "soon"}, default=2.0) == 2.0
