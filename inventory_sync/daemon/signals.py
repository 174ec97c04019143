"""Signals become messages for the main loop; the handlers themselves do nothing else."""

from __future__ import annotations

import queue
import signal
from types import FrameType

STOP = "stop"
RELOAD = "reload"
_MEANING = {signal.SIGTERM: STOP, signal.SIGINT: STOP, signal.SIGHUP: RELOAD}


def install(inbox: queue.SimpleQueue[tuple[str, str]]) -> None:
    """Route SIGTERM and SIGINT to ("stop", name) and SIGHUP to ("reload", name)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        # A handler runs between two bytecodes of the main thread, which may hold a logging
        # or ledger lock; so it only posts a message (SimpleQueue.put is reentrant).
        inbox.put((_MEANING[signal.Signals(signum)], signal.Signals(signum).name))

    for signum in _MEANING:
        signal.signal(signum, handler)
