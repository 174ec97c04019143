"""The `http_json` kind: a JSON API listing stock, read page by page with bounded retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from inventory_sync.domain.model import Rejected, Snapshot, SourceName, Warehouse
from inventory_sync.errors import FeedFormatError, SourceUnavailable
from inventory_sync.ports import Clock, Source
from inventory_sync.sources.base import (
    SourceContext,
    SourceSpec,
    check_warehouses,
    checksum_records,
    invalid_options,
)
from inventory_sync.sources.json_paths import MISSING, dig
from inventory_sync.sources.retry import RetryPolicy, get_with_retries
from inventory_sync.sources.rows import FIXED_WAREHOUSE, RawRow, RowRules, validate_rows
from inventory_sync.sources.timestamps import parse_timestamp

Pagination = Literal["none", "next_link", "link_header", "page_param"]


class HttpJsonOptions(BaseModel):
    """Options of the `http_json` kind, as written under [sources.options]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    header_secrets: dict[str, str] = Field(default_factory=dict)  # header -> credential name
    items_path: str = ""  # dotted path to the list; "" when the body is the list
    sku_field: str = "sku"
    quantity_field: str = "quantity"
    warehouse_field: str | None = None
    warehouse_map: dict[str, str] = Field(default_factory=dict)
    taken_at_path: str | None = None  # dotted path to a timestamp in the first page's body
    pagination: Pagination = "none"
    next_path: str | None = None  # for next_link: dotted path to the next page's URL
    page_param: str = "page"  # for page_param
    start_page: int = 1
    max_pages: int = Field(default=1000, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)
    retries: int = Field(default=4, ge=0, le=10)  # attempts after the first, for reads only
    backoff_seconds: float = Field(default=1.0, ge=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HttpJsonOptions:
        if self.pagination == "next_link" and not self.next_path:
            raise ValueError("pagination 'next_link' needs next_path")
        if self.warehouse_map and self.warehouse_field is None:
            raise ValueError("warehouse_map needs warehouse_field")
        return self


@dataclass(frozen=True)
class _Page:
    url: str
    body: Any
    items: list[Any]
    next_url: str | None


class HttpJsonSource:
    """Reads every page into one snapshot; a page that cannot be read fails the whole pull."""

    def __init__(
        self,
        spec: SourceSpec,
        options: HttpJsonOptions,
        *,
        clock: Clock,
        headers: dict[str, str],
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._spec = spec
        self._options = options
        self._clock = clock
        self._headers = headers
        self._transport = transport
        self._retry = RetryPolicy(options.retries, options.backoff_seconds, sleep)
        self._rules = RowRules.for_spec(
            spec,
            warehouse_map={k: Warehouse(v) for k, v in options.warehouse_map.items()},
            sku_field=options.sku_field,
            quantity_field=options.quantity_field,
            warehouse_field=options.warehouse_field or "warehouse",
        )

    @property
    def name(self) -> SourceName:
        return self._spec.name

    @property
    def reads_from(self) -> str:
        """The scheme, host and port only: a query may carry a token."""
        parts = urlsplit(self._options.url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}"

    def pull(self) -> Snapshot:
        taken_at = self._clock.now()
        raw: list[RawRow] = []
        shape_rejects: list[Rejected] = []
        with self._client() as client:
            for number, page in enumerate(self._pages(client)):
                if number == 0:
                    taken_at = self._taken_at(page) or taken_at
                for line, item in enumerate(page.items, start=1):
                    if isinstance(item, dict):
                        raw.append(self._raw_row(page.url, line, item))
                    else:
                        shape_rejects.append(self._not_an_object(page.url, line, item))
        good, rejected = validate_rows(raw, self._rules)
        return Snapshot(
            source=self._spec.name,
            snapshot_id=checksum_records((r.sku, r.quantity, str(r.warehouse)) for r in raw),
            taken_at=taken_at,
            completeness=self._spec.completeness,
            basis=self._spec.basis,
            warehouses=frozenset(self._spec.warehouses),
            rows=good,
            rejected=(*shape_rejects, *rejected),
            origin=self._options.url,
        )

    def _client(self) -> httpx.Client:
        # A client per pull: a poller has nothing to gain from idle keep-alive connections.
        return httpx.Client(
            headers={"Accept": "application/json", **self._headers},
            timeout=httpx.Timeout(self._options.timeout_seconds),
            transport=self._transport,
            follow_redirects=True,
        )

    def _pages(self, client: httpx.Client) -> Iterator[_Page]:
        url: str | None = self._options.url
        page_number = self._options.start_page
        seen: set[str] = set()
        for _ in range(self._options.max_pages):
            if url is None:
                return
            params = self._page_params(page_number)
            page = self._fetch_page(client, url, params)
            yield page
            if self._options.pagination == "page_param":
                if not page.items:
                    return
                page_number += 1
                continue
            if page.next_url in seen or page.next_url == page.url:
                raise self._format_error(page.url, f"pagination loops back to {page.next_url}")
            seen.add(page.url)
            url = page.next_url
        if url is not None:
            # A complete feed read only in part would make every unread SKU look sold out.
            raise self._format_error(
                self._options.url, f"more than max_pages={self._options.max_pages} pages"
            )

    def _page_params(self, page_number: int) -> dict[str, str]:
        if self._options.pagination != "page_param":
            return {}
        return {self._options.page_param: str(page_number)}

    def _fetch_page(self, client: httpx.Client, url: str, params: dict[str, str]) -> _Page:
        response = get_with_retries(client, url, params, self._retry, self._unavailable)
        where = str(response.url)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise self._format_error(where, f"body is not JSON: {err}") from err
        items = dig(body, self._options.items_path)
        if items is MISSING or not isinstance(items, list):
            found = "nothing" if items is MISSING else type(items).__name__
            path = self._options.items_path or "(the body)"
            raise self._format_error(where, f"items_path {path!r} should be a list, found {found}")
        return _Page(where, body, items, self._next_url(response, body))

    def _next_url(self, response: httpx.Response, body: Any) -> str | None:  # noqa: ANN401 - JSON
        link: object = None
        if self._options.pagination == "next_link":
            link = dig(body, self._options.next_path or "")
        elif self._options.pagination == "link_header":
            link = response.links.get("next", {}).get("url")
        if not isinstance(link, str) or not link:
            return None
        return urljoin(str(response.url), link)  # servers often send relative links

    def _taken_at(self, page: _Page) -> datetime | None:
        """The feed's own timestamp, so max_age judges the data rather than the request."""
        path = self._options.taken_at_path
        if path is None:
            return None
        value = dig(page.body, path)
        moment = None if value is MISSING else parse_timestamp(value)
        if moment is None:
            shown = "nothing" if value is MISSING else repr(value)
            raise self._format_error(page.url, f"taken_at_path {path!r} is no timestamp: {shown}")
        return moment

    def _raw_row(self, origin: str, line: int, item: dict[str, Any]) -> RawRow:
        def field(path: str) -> object:
            value = dig(item, path)
            return None if value is MISSING else value

        warehouse_field = self._options.warehouse_field
        return RawRow(
            origin=origin,
            line=line,
            sku=field(self._options.sku_field),
            quantity=field(self._options.quantity_field),
            warehouse=FIXED_WAREHOUSE if warehouse_field is None else field(warehouse_field),
        )

    def _not_an_object(self, origin: str, line: int, item: object) -> Rejected:
        reason = f"item is not a JSON object (got {type(item).__name__})"
        return Rejected(self._spec.name, origin, line, None, json.dumps(item)[:200], reason)

    def _format_error(self, origin: str, message: str) -> FeedFormatError:
        return FeedFormatError(f"{origin}: {message}", source=self._spec.name, origin=origin)

    def _unavailable(self, origin: str, message: str) -> SourceUnavailable:
        return SourceUnavailable(f"{origin}: {message}", source=self._spec.name, origin=origin)


class HttpJsonKind:
    """An HTTP API answering JSON: a list of items, maybe over several pages."""

    options_model: type[BaseModel] = HttpJsonOptions

    def build(self, spec: SourceSpec, options: BaseModel, context: SourceContext) -> Source:
        if not isinstance(options, HttpJsonOptions):
            raise invalid_options("http_json", options, HttpJsonOptions)
        check_warehouses(spec, options.warehouse_field, options.warehouse_map)
        headers = dict(options.headers)
        for header, credential in options.header_secrets.items():
            headers[header] = context.read_secret(credential).strip()
        return HttpJsonSource(spec, options, clock=context.clock, headers=headers)


KIND = HttpJsonKind()
