"""Real servers on 127.0.0.1 for the remote file stores: asyncssh's SFTP server and moto's S3.

Both run in a thread of the test process: the SFTP server serves a local folder (so a test sets
a file's mtime with os.utime, as a 3PL's upload would), moto serves buckets over real HTTP. The
S3 that checks keys is in s3_auth_server.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import asyncssh

SFTP_USER = "feeds"
_asyncssh_log = logging.getLogger("asyncssh")
_werkzeug_log = logging.getLogger("werkzeug")


class SftpServer:
    """An SFTP server rooted at a folder; the user logs in with a password or a public key."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.password = "sftp-pw-" + secrets.token_hex(12)
        self.client_keys: list[asyncssh.SSHKey] = []
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncssh.SSHAcceptor | None = None
        self.connections: list[asyncssh.SSHServerConnection] = []
        self.drop_on_read = False  # True: the connection dies at the first read of a file
        self.refuse_renames = False  # True: every rename is refused (permission denied)
        self._asyncssh_level = logging.NOTSET

    @property
    def fingerprint(self) -> str:
        return self.host_key.get_fingerprint("sha256")

    def known_hosts_line(self) -> str:
        public = self.host_key.export_public_key().decode().strip()
        return f"[127.0.0.1]:{self.port} {public}\n"

    def url(self, path: str, user: str = SFTP_USER) -> str:
        return f"sftp://{user}@127.0.0.1:{self.port}/{path.lstrip('/')}"

    def __enter__(self) -> Self:
        # asyncssh logs every connection, channel and SFTP request at INFO; in this process
        # that would flow through the project's log pipeline whenever a test configured it.
        self._asyncssh_level = _asyncssh_log.level
        asyncssh.set_log_level(logging.WARNING)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        _asyncssh_log.setLevel(self._asyncssh_level)

    async def _start(self) -> asyncssh.SSHAcceptor:
        return await asyncssh.create_server(
            lambda: _Logins(self),
            "127.0.0.1",
            0,
            server_host_keys=[self.host_key],
            sftp_factory=self._sftp,
        )

    def _sftp(self, channel: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
        server = asyncssh.SFTPServer
        if self.drop_on_read:
            server = _DroppingSftp
        elif self.refuse_renames:
            server = _NoRenameSftp
        return server(channel, chroot=os.fsencode(self.root))

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        # Sessions a client left open end here, so no transport is left for the collector.
        for connection in self.connections:
            connection.close()
            await connection.wait_closed()


class _DroppingSftp(asyncssh.SFTPServer):
    """An SFTP server whose connection dies when a file is read: a network cut mid-transfer."""

    def read(self, file_obj: object, offset: int, size: int) -> bytes:
        self.connection.abort()
        return b""


class _NoRenameSftp(asyncssh.SFTPServer):
    """An SFTP server where the user may read but not rename: an archive folder it may not use.
    (The tests run as root, so file modes alone would not stop it.)"""

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("rename is not allowed for this user")


class _Logins(asyncssh.SSHServer):
    def __init__(self, server: SftpServer) -> None:
        self._server = server

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._server.connections.append(conn)

    def begin_auth(self, username: str) -> bool:
        return True  # every user must authenticate

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == SFTP_USER and password == self._server.password

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        wanted = {k.export_public_key() for k in self._server.client_keys}
        return username == SFTP_USER and key.export_public_key() in wanted


class S3Server:
    """moto's S3 in server mode on a free port; objects can be given a chosen LastModified."""

    access_key_id = "AKIDINVENTORYSYNC01"
    secret_access_key = "s3-secret-" + secrets.token_hex(12)

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy; only when used

        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint = ""
        self._client = None
        self._werkzeug_level = logging.NOTSET

    def __enter__(self) -> Self:
        # werkzeug, under moto, logs every request at INFO: quiet, as asyncssh above.
        self._werkzeug_level = _werkzeug_log.level
        _werkzeug_log.setLevel(logging.WARNING)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        self._moto.stop()
        _werkzeug_log.setLevel(self._werkzeug_level)

    def client(self):
        """One boto3 client for the tests' own uploads (building one takes a third of a second)."""
        if self._client is not None:
            return self._client
        import boto3  # noqa: PLC0415

        self._client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name="us-east-1",
        )
        return self._client

    def put(self, bucket: str, key: str, body: bytes, mtime: datetime) -> None:
        self.client().put_object(Bucket=bucket, Key=key, Body=body)
        set_last_modified(bucket, key, mtime)

    def keys(self, bucket: str, prefix: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))


def set_last_modified(bucket: str, key: str, mtime: datetime) -> None:
    """Backdate an object in moto's store, as os.utime backdates a file: S3 sets LastModified
    to the upload's time and has no call to change it."""
    from moto.core import DEFAULT_ACCOUNT_ID  # noqa: PLC0415
    from moto.s3.models import s3_backends  # noqa: PLC0415

    found = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(bucket, key)
    assert found is not None, f"{bucket}/{key} was not uploaded"
    found.last_modified = mtime.astimezone(UTC).replace(tzinfo=None)
