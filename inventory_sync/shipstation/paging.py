"""Walk a paged list by following links.next.href; find the largest page size the server takes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import structlog

from inventory_sync.errors import RequestRejected
from inventory_sync.shipstation.models import PagesRead
from inventory_sync.shipstation.retry import Replay
from inventory_sync.shipstation.transport import Call, Requester

log = structlog.get_logger(__name__)

# Tried in order when no page size is configured; None sends no size (the server's default).
PAGE_SIZE_LADDER: tuple[int | None, ...] = (500, 100, 50, None)


class PageSizes:
    """The page size to ask for per list path, stepping down when the server refuses one."""

    def __init__(self, configured: int | None, param: str) -> None:
        self.param = param
        self._ladder = (configured,) if configured is not None else PAGE_SIZE_LADDER
        self._chosen: dict[str, int] = {}  # path -> index into the ladder that worked
        self._lock = threading.Lock()

    def current(self, path: str) -> int:
        with self._lock:
            return self._chosen.get(path, 0)

    def size(self, index: int) -> int | None:
        return self._ladder[index]

    def step_down(self, path: str, index: int, error: RequestRejected) -> int | None:
        """After a 400 naming the page size: the next rung to try, or None to give up."""
        # Only the server's words count: the URL always names the parameter.
        answer = error.support.response_body if error.support else None
        about_size = self.param in str(answer) or self.param in str(error)
        if error.status_code != 400 or not about_size or index + 1 >= len(self._ladder):  # noqa: PLR2004
            return None
        log.info(
            "shipstation.page_size_refused",
            path=path,
            refused=self._ladder[index],
            trying=self._ladder[index + 1],
        )
        with self._lock:
            self._chosen[path] = index + 1
        return index + 1


def _next_href(body: dict[str, Any]) -> str | None:
    """links.next.href, where {} and {"href": null} both mean "no next page"."""
    links = body.get("links")
    link = links.get("next") if isinstance(links, dict) else None
    href = link.get("href") if isinstance(link, dict) else None
    return href if isinstance(href, str) and href else None


def _is_last(body: dict[str, Any], items: list[Any]) -> bool:
    page, pages = body.get("page"), body.get("pages")
    at_end = isinstance(page, int) and isinstance(pages, int) and page >= pages
    return not items or at_end


def _count(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def iterate_items(
    requester: Requester,
    sizes: PageSizes,
    *,
    action: str,
    path: str,
    item_key: str,
    params: dict[str, str],
    on_page: Callable[[PagesRead], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every item of a paged list, first page by path, later pages by their links.

    ``on_page`` hears each page before its items are yielded: pages and items so far, with the
    ``pages`` and ``total`` that page carries (the server's word, shown, never relied on)."""
    body = _first_page(requester, sizes, action=action, path=path, params=params)
    pages = seen = 0
    while True:
        items = body.get(item_key) or []
        pages, seen = pages + 1, seen + len(items)
        if on_page is not None:
            on_page(PagesRead(pages, seen, _count(body, "pages"), _count(body, "total")))
        yield from items
        href = _next_href(body)
        if href is None or _is_last(body, items):
            return
        body = requester.send(Call(action, "GET", href, Replay.ALWAYS)).json()


def _first_page(
    requester: Requester, sizes: PageSizes, *, action: str, path: str, params: dict[str, str]
) -> dict[str, Any]:
    index = sizes.current(path)
    while True:
        size = sizes.size(index)
        query = dict(params) if size is None else {**params, sizes.param: str(size)}
        try:
            body: dict[str, Any] = requester.send(
                Call(action, "GET", path, Replay.ALWAYS, params=query)
            ).json()
        except RequestRejected as exc:
            lower = sizes.step_down(path, index, exc) if size is not None else None
            if lower is None:
                raise
            index = lower
            continue
        return body
