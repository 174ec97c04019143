"""Start the emulator in-process on a background thread, and stop it cleanly."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Self

from inventory_sync.shipstation.emulator.faults import FaultInjector
from inventory_sync.shipstation.emulator.server import EmulatorServer, SeenRequest
from inventory_sync.shipstation.emulator.settings import EmulatorSettings
from inventory_sync.shipstation.emulator.state import AppliedEntry, EmulatorState


class RunningEmulator:
    """A started emulator: its address, its account state, and the knobs to turn at run time."""

    def __init__(self, server: EmulatorServer) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="shipstation-emulator"
        )
        self._stopped = False

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def state(self) -> EmulatorState:
        return self._server.state

    @property
    def faults(self) -> FaultInjector:
        return self._server.faults

    @property
    def requests(self) -> list[SeenRequest]:
        """Every API request seen so far (admin routes excluded), oldest first."""
        return list(self._server.seen)

    def applied(self) -> list[AppliedEntry]:
        return self.state.applied()

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close idle keep-alive connections, and join every thread."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_emulator(settings: EmulatorSettings, state: EmulatorState) -> RunningEmulator:
    """Bind (port 0 by default: any free port on 127.0.0.1) and serve on a background thread."""
    return RunningEmulator(EmulatorServer(settings, state)).start()
