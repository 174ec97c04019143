"""A pull over SFTP leaves only the project's events in its log, even at debug.

paramiko (the client, in the package) and asyncssh (the tests' server, in this process) both
log every handshake and request; neither may reach the log the service writes.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from places import S3Place
from source_helpers import make_spec, write_file

from inventory_sync import logs
from inventory_sync.errors import SourceUnavailable
from inventory_sync.sources.csv_file import KIND, CsvOptions


class LogBuffer:
    """The project's log pipeline at debug, writing into a buffer from start() on."""

    def __init__(self) -> None:
        self._stream = io.StringIO()

    def start(self) -> None:
        logs.configure(level="debug", fmt="json", stream=self._stream)

    def loggers(self) -> list[str]:
        lines = self._stream.getvalue().splitlines()
        return [json.loads(line)["logger"] for line in lines if line]


@pytest.fixture
def log_buffer():
    """A LogBuffer; the test's own logging setup is put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield LogBuffer()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def pull_logging(source, log_buffer: LogBuffer) -> list[str]:
    """The loggers heard while ``source`` was pulled, then one event of the project's own."""
    log_buffer.start()
    assert source.pull().row_count == 1
    # The pipeline itself is open at debug: the project's own events still come through.
    structlog.get_logger("inventory_sync.sources").debug("source.checked", source="feed")
    return log_buffer.loggers()


def test_an_sftp_pull_logs_nothing_from_paramiko_or_the_test_server(
    context, secrets, sftp_server, known_hosts, log_buffer
):
    write_file(sftp_server.root / "in" / "stock.csv", "sku,quantity\nA,1\n")
    secrets.values["pw"] = sftp_server.password
    sftp = {"known_hosts": str(known_hosts), "password_secret": "pw"}
    options = CsvOptions(path=sftp_server.url("in/*.csv"), sftp=sftp)
    source = KIND.build(make_spec(), options, context)
    assert pull_logging(source, log_buffer) == ["inventory_sync.sources"]


def test_a_failed_sftp_handshake_is_the_sources_error_not_paramikos_traceback(
    context, secrets, server, log_buffer
):
    # paramiko's connection thread logs a failed handshake at ERROR, its traceback one line
    # per event; the pull's error already says what failed.
    port = int(server.base.rsplit(":", 1)[1])  # an HTTP server, not an SSH one
    secrets.values["pw"] = "never-sent"  # the handshake fails before any login
    sftp = {"password_secret": "pw"}
    options = CsvOptions(path=f"sftp://feeds@127.0.0.1:{port}/in/*.csv", sftp=sftp)
    source = KIND.build(make_spec(), options, context)
    log_buffer.start()
    with pytest.raises(SourceUnavailable, match="protocol banner"):
        source.pull()
    assert log_buffer.loggers() == []


def test_an_s3_pull_logs_nothing_from_botocore_s3fs_or_the_test_server(
    context, secrets, s3_server, log_buffer
):
    place = S3Place(s3_server)  # the uploads' own client logs before the buffer starts
    place.write("in/stock.csv", "sku,quantity\nA,1\n")
    secrets.values.update(place.secrets)
    options = CsvOptions(path=place.path("in/*.csv"), **place.options())
    source = KIND.build(make_spec(), options, context)
    assert pull_logging(source, log_buffer) == ["inventory_sync.sources"]
