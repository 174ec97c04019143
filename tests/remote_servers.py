"""Real servers on 127.0.0.1 for the remote file stores: asyncssh's SFTP server and moto's S3.

Both run in a thread of the test process: the SFTP server serves a local folder (so a test sets
a file's mtime with os.utime, as a 3PL's upload would), moto serves buckets over real HTTP. The
S3 that checks keys (S3AuthServer) is moto in a process of its own, since its IAM checks are
switched on for the whole process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import asyncssh
import pytest

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


# The moto server of S3AuthServer, run as its own process so that turning IAM checks on there
# leaves the in-process S3Server (shared by the session) accepting any key.
_AUTH_SERVER = """
import logging, sys
from moto.server import ThreadedMotoServer
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test process closes stdin (or dies)
server.stop()
"""
# The requests the server lets through unchecked: creating the admin user, its key, its policy.
_SETUP_ACTIONS = 3


class S3AuthServer:
    """moto's S3 checking every request against its IAM, as AWS does: an unknown access key id,
    a wrong secret and a policy that does not allow the bucket are refused.

    moto checks nothing until INITIAL_NO_AUTH_ACTION_COUNT requests have passed; the first
    ones create an admin user, whose key then makes buckets, objects and users for the tests.
    """

    region = "us-east-1"

    def __init__(self) -> None:
        self.endpoint = ""
        self._process: subprocess.Popen[str] | None = None
        self._admin: dict[str, str] = {}
        self._clients: dict[str, Any] = {}

    def __enter__(self) -> Self:
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(_SETUP_ACTIONS)}
        for name in ("MOTO_ACCOUNT_ID", "TEST_SERVER_MODE"):
            env.pop(name, None)
        self._process = subprocess.Popen(
            [sys.executable, "-c", _AUTH_SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._process.stdout is not None
        port = self._process.stdout.readline().strip()
        assert port.isdigit(), f"moto's server did not start (said {port!r})"
        self.endpoint = f"http://127.0.0.1:{port}"
        try:
            self._make_admin()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for client in self._clients.values():
            client.close()
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(10)
            assert self._process.stdout is not None
            self._process.stdout.close()

    def _make_admin(self) -> None:
        anyone = {"aws_access_key_id": "AKIASETUP", "aws_secret_access_key": "unchecked-yet"}
        iam = self._client("iam", anyone)
        try:
            self._admin = self._new_user(iam, "admin", {"Effect": "Allow", "Action": "*"})
        finally:
            iam.close()
        from botocore.exceptions import ClientError  # noqa: PLC0415

        # Prove that the checks are on: a key moto never issued must now be refused.
        stranger = self._client("s3", anyone)
        try:
            with pytest.raises(ClientError, match="InvalidAccessKeyId"):
                stranger.list_buckets()
        finally:
            stranger.close()

    def grant(self, user: str, bucket: str, *actions: str) -> tuple[str, str]:
        """A new IAM user allowed these actions (default: all) on one bucket and its objects,
        and nothing anywhere else: its (access key id, secret)."""
        resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]
        statement = {"Effect": "Allow", "Action": list(actions or ["s3:*"]), "Resource": resources}
        key = self._new_user(self.admin("iam"), user, statement)
        return key["aws_access_key_id"], key["aws_secret_access_key"]

    def _new_user(self, iam: Any, user: str, statement: dict[str, Any]) -> dict[str, str]:
        iam.create_user(UserName=user)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        policy = {"Version": "2012-10-17", "Statement": [{"Resource": "*", **statement}]}
        iam.put_user_policy(UserName=user, PolicyName="feeds", PolicyDocument=json.dumps(policy))
        return {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }

    def admin(self, service: str = "s3") -> Any:
        """A client signed with the admin user's key (one per service, kept)."""
        if service not in self._clients:
            self._clients[service] = self._client(service, self._admin)
        return self._clients[service]

    def _client(self, service: str, keys: dict[str, str]) -> Any:
        import boto3  # noqa: PLC0415

        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region, **keys)

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.admin().put_object(Bucket=bucket, Key=key, Body=body)

    def keys(self, bucket: str, prefix: str) -> list[str]:
        listed = self.admin().list_objects_v2(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))
