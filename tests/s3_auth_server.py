"""moto's S3 checking every key against its IAM, in a process of its own.

moto's IAM checks are switched on for a whole process, so this server cannot share the test
process with S3Server (remote_servers.py), whose tests sign with any key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any, Self

import pytest

# The server process: moto on a free port, which it prints, until stdin closes.
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
