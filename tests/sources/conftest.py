"""Fixtures for source tests: a fixed clock, a secrets fake, real servers for the transports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from loopback import LoopbackServer
from places import LocalPlace, S3Place, SftpPlace
from remote_servers import S3Server, SftpServer
from source_helpers import EPOCH, Secrets

from inventory_sync.clock import FixedClock
from inventory_sync.sources.base import SourceContext


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(EPOCH + timedelta(hours=1))


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture
def context(clock: FixedClock, secrets: Secrets, tmp_path: Path) -> SourceContext:
    return SourceContext(clock=clock, read_secret=secrets, state_dir=tmp_path / "state")


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def sftp_server(tmp_path: Path):
    """A real SFTP server on loopback, serving a folder of this test's own."""
    root = tmp_path / "sftp-root"
    root.mkdir()
    with SftpServer(root) as running:
        yield running


@pytest.fixture
def known_hosts(tmp_path: Path, sftp_server: SftpServer) -> Path:
    """A known_hosts file that names the test server's key, as ssh-keyscan would write it."""
    path = tmp_path / "known_hosts"
    path.write_text(sftp_server.known_hosts_line())
    return path


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback, shared by the session (each test uses its own bucket)."""
    with S3Server() as running:
        yield running


TRANSPORTS = ["local", "sftp", "s3"]


@pytest.fixture(params=TRANSPORTS)
def place(request: pytest.FixtureRequest, tmp_path: Path, secrets: Secrets):
    """Where the feed files live: each test using this runs once per transport."""
    if request.param == "sftp":
        server = request.getfixturevalue("sftp_server")
        chosen = SftpPlace(server, request.getfixturevalue("known_hosts"))
    elif request.param == "s3":
        chosen = S3Place(request.getfixturevalue("s3_server"))
    else:
        chosen = LocalPlace(tmp_path / "files")
    secrets.values.update(chosen.secrets)
    return chosen
