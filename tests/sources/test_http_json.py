"""The http_json kind against a real HTTP server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from loopback import Answer, LoopbackServer
from source_helpers import Secrets, make_spec

from inventory_sync.errors import FeedFormatError, SourceUnavailable
from inventory_sync.sources.base import SourceContext
from inventory_sync.sources.http_json import KIND, HttpJsonOptions, HttpJsonSource

ITEMS = [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]


class Sleeps(list):
    """A sleep that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def source(server, clock, path="/stock", sleep=None, headers=None, **options):
    fields = {"url": server.url(path), "quantity_field": "qty", **options}
    return HttpJsonSource(
        make_spec(),
        HttpJsonOptions(**fields),
        clock=clock,
        headers=headers or {},
        sleep=Sleeps() if sleep is None else sleep,
    )


def levels(snapshot):
    return {o.sku: o.quantity for o in snapshot.observations}


class TestReading:
    def test_items_at_a_dotted_path_with_nested_fields(self, server, context, clock):
        body = {
            "data": {
                "items": [
                    {"product": {"sku": "A"}, "stock": {"on_hand": 3}},
                    {"product": {"sku": "B"}, "stock": {"on_hand": 0}},
                ]
            }
        }
        server.answer("/stock", Answer(body=body))
        options = HttpJsonOptions(
            url=server.url("/stock"),
            items_path="data.items",
            sku_field="product.sku",
            quantity_field="stock.on_hand",
        )
        snapshot = KIND.build(make_spec(), options, context).pull()
        assert levels(snapshot) == {"A": 3, "B": 0}
        assert snapshot.taken_at == clock.now()
        assert snapshot.origin == server.url("/stock")

    def test_plain_and_secret_headers_are_sent(self, server, clock, tmp_path):
        server.answer("/stock", Answer(body=ITEMS))
        context = SourceContext(clock, Secrets(wms_token="Bearer s3cret\n"), tmp_path)  # noqa: S106
        options = HttpJsonOptions(
            url=server.url("/stock"),
            quantity_field="qty",
            headers={"X-Tenant": "acme"},
            header_secrets={"Authorization": "wms_token"},
        )
        KIND.build(make_spec(), options, context).pull()
        [seen] = server.seen
        assert seen.headers["X-Tenant"] == "acme"
        assert seen.headers["Authorization"] == "Bearer s3cret"

    def test_bad_items_are_rejected_with_their_page_and_index(self, server, clock):
        server.answer(
            "/stock",
            Answer(
                body=[
                    {"sku": "A", "qty": 1},
                    {"sku": "B", "qty": 2.5},
                    "C",
                    {"sku": "D", "qty": True},
                ]
            ),
        )
        snapshot = source(server, clock).pull()
        assert levels(snapshot) == {"A": 1}
        assert [(r.origin, r.line, r.field) for r in snapshot.rejected] == [
            (server.url("/stock"), 3, None),
            (server.url("/stock"), 2, "qty"),
            (server.url("/stock"), 4, "qty"),
        ]

    def test_warehouse_field_with_a_map(self, server, clock):
        server.answer(
            "/stock",
            Answer(
                body=[
                    {"sku": "A", "qty": 1, "loc": {"id": 7}},
                    {"sku": "A", "qty": 2, "loc": {"id": 8}},
                ]
            ),
        )
        options = HttpJsonOptions(
            url=server.url("/stock"),
            quantity_field="qty",
            warehouse_field="loc.id",
            warehouse_map={"7": "main"},
        )
        snapshot = HttpJsonSource(make_spec(), options, clock=clock, headers={}).pull()
        assert levels(snapshot) == {"A": 1}
        assert "unknown warehouse '8'" in snapshot.rejected[0].reason

    def test_snapshot_id_ignores_item_order_but_not_content(self, server, clock):
        server.answer(
            "/stock",
            Answer(body=ITEMS),
            Answer(body=ITEMS[::-1]),
            Answer(body=[*ITEMS, {"sku": "C", "qty": 0}]),
        )
        ids = [source(server, clock).pull().snapshot_id for _ in range(3)]
        assert ids[0] == ids[1] != ids[2]


class TestPagination:
    def test_next_link_in_the_body_relative_or_absolute(self, server, clock):
        server.answer("/stock", Answer(body={"items": ITEMS[:1], "meta": {"next": "/stock?c=2"}}))
        server.answer(
            "/stock?c=2",
            Answer(body={"items": ITEMS[1:], "meta": {"next": server.url("/stock?c=3")}}),
        )
        server.answer(
            "/stock?c=3", Answer(body={"items": [{"sku": "C", "qty": 3}], "meta": {"next": None}})
        )
        snapshot = source(
            server, clock, items_path="items", pagination="next_link", next_path="meta.next"
        ).pull()
        assert levels(snapshot) == {"A": 1, "B": 2, "C": 3}
        assert [s.query for s in server.seen] == ["", "c=2", "c=3"]

    def test_link_header(self, server, clock):
        server.answer(
            "/stock",
            Answer(
                body=ITEMS[:1], headers={"Link": '</stock?p=2>; rel="next", </stock>; rel="first"'}
            ),
        )
        server.answer(
            "/stock?p=2", Answer(body=ITEMS[1:], headers={"Link": '</stock>; rel="first"'})
        )
        assert levels(source(server, clock, pagination="link_header").pull()) == {"A": 1, "B": 2}

    @pytest.mark.parametrize("start", [0, 1])
    def test_page_param_stops_on_an_empty_page(self, server, clock, start):
        server.answer(f"/stock?pg={start}", Answer(body=ITEMS[:1]))
        server.answer(f"/stock?pg={start + 1}", Answer(body=ITEMS[1:]))
        server.answer(f"/stock?pg={start + 2}", Answer(body=[]))
        snapshot = source(
            server, clock, pagination="page_param", page_param="pg", start_page=start
        ).pull()
        assert levels(snapshot) == {"A": 1, "B": 2}
        assert len(server.seen) == 3

    def test_more_pages_than_max_pages_fails_rather_than_returning_part(self, server, clock):
        for n in range(1, 5):
            server.answer(f"/stock?page={n}", Answer(body=[{"sku": f"S{n}", "qty": 1}]))
        with pytest.raises(FeedFormatError, match="more than max_pages=3 pages"):
            source(server, clock, pagination="page_param", max_pages=3).pull()

    def test_a_next_link_that_loops_is_refused(self, server, clock):
        server.answer("/stock", Answer(body={"items": ITEMS, "next": "/stock?again"}))
        server.answer("/stock?again", Answer(body={"items": [], "next": "/stock"}))
        with pytest.raises(FeedFormatError, match="pagination loops"):
            source(
                server, clock, items_path="items", pagination="next_link", next_path="next"
            ).pull()


class TestRetries:
    def test_5xx_is_retried_with_growing_backoff(self, server, clock):
        server.answer("/stock", Answer(500), Answer(502), Answer(body=ITEMS))
        sleeps = Sleeps()
        snapshot = source(server, clock, sleep=sleeps, backoff_seconds=0.5).pull()
        assert levels(snapshot) == {"A": 1, "B": 2}
        assert sleeps == [0.5, 1.0]

    def test_429_waits_as_long_as_retry_after_says(self, server, clock):
        server.answer("/stock", Answer(429, headers={"Retry-After": "7"}), Answer(body=ITEMS))
        sleeps = Sleeps()
        source(server, clock, sleep=sleeps).pull()
        assert sleeps == [7.0]

    def test_persistent_failure_gives_up_after_the_bound(self, server, clock):
        server.answer("/stock", Answer(503))
        with pytest.raises(SourceUnavailable, match=r"HTTP 503 .*gave up after 3 attempts"):
            source(server, clock, retries=2).pull()
        assert len(server.seen) == 3

    def test_a_later_page_failing_fails_the_pull(self, server, clock):
        server.answer("/stock?page=1", Answer(body=ITEMS))
        server.answer("/stock?page=2", Answer(500))
        with pytest.raises(SourceUnavailable, match="page=2"):
            source(server, clock, pagination="page_param", retries=1).pull()

    @pytest.mark.parametrize("status", [401, 403, 404])
    def test_client_errors_are_not_retried(self, server, clock, status):
        server.answer("/stock", Answer(status, {"error": "nope"}))
        with pytest.raises(SourceUnavailable, match=f"HTTP {status}"):
            source(server, clock).pull()
        assert len(server.seen) == 1

    def test_a_refused_connection_is_retried_then_unavailable(self, clock):
        with LoopbackServer() as gone:
            url = gone.url("/stock")
        sleeps = Sleeps()
        options = HttpJsonOptions(url=url, retries=2)
        with pytest.raises(SourceUnavailable, match="ConnectError"):
            HttpJsonSource(make_spec(), options, clock=clock, headers={}, sleep=sleeps).pull()
        assert len(sleeps) == 2


class TestWholeBody:
    @pytest.mark.parametrize(
        ("answer", "items_path", "message"),
        [
            (Answer(body=b"<html>oops</html>"), "", "body is not JSON"),
            (
                Answer(body={"data": {}}),
                "data.items",
                "items_path 'data.items' should be a list, found nothing",
            ),
            (Answer(body={"items": {"A": 1}}), "items", "should be a list, found dict"),
        ],
    )
    def test_an_unusable_body_is_a_feed_format_error(
        self, server, clock, answer, items_path, message
    ):
        server.answer("/stock", answer)
        with pytest.raises(FeedFormatError, match=message) as raised:
            source(server, clock, items_path=items_path).pull()
        assert raised.value.origin == server.url("/stock")


class TestOptions:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"url": "ftp://x"}, "http"),
            ({"url": "http://x", "pagination": "next_link"}, "needs next_path"),
            ({"url": "http://x", "pagination": "cursor"}, "pagination"),
            ({"url": "http://x", "max_pages": 0}, "max_pages"),
            ({"url": "http://x", "warehouse_map": {"1": "a"}}, "needs warehouse_field"),
        ],
    )
    def test_bad_options_are_refused(self, fields, message):
        with pytest.raises(ValueError, match=message):
            HttpJsonOptions.model_validate(fields)


class TestTakenAt:
    def test_taken_at_path_reads_the_feeds_own_timestamp(self, server, clock):
        server.answer("/stock", Answer(body={"generated": "2026-01-05T12:00:00Z", "items": ITEMS}))
        snapshot = source(server, clock, items_path="items", taken_at_path="generated").pull()
        assert snapshot.taken_at == datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def test_without_taken_at_path_it_is_the_pull_time(self, server, clock):
        server.answer("/stock", Answer(body=ITEMS))
        assert source(server, clock).pull().taken_at == clock.now()

    @pytest.mark.parametrize("body", [{"items": []}, {"items": [], "generated": "later"}])
    def test_a_missing_or_unreadable_timestamp_is_a_feed_error(self, server, clock, body):
        server.answer("/stock", Answer(body=body))
        with pytest.raises(FeedFormatError, match="taken_at_path 'generated' is no timestamp"):
            source(server, clock, items_path="items", taken_at_path="generated").pull()


def test_a_person_waiting_is_shown_the_host_read_never_the_query_or_user(clock):
    url = "https://feed:pw@api.example.com:8443/stock?token=abc123"
    options = HttpJsonOptions(url=url, quantity_field="qty")
    api = HttpJsonSource(make_spec(), options, clock=clock, headers={})
    assert api.reads_from == "https://api.example.com:8443"
