"""Where a test's feed files live: a local folder, a real SFTP server, a real S3 bucket.

Each place writes files with a chosen mtime, names what is in a folder, and says which path
and options a source needs to read there, so one test runs unchanged over every transport.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from remote_servers import S3Server, SftpServer
from source_helpers import EPOCH, write_file


class LocalPlace:
    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.secrets: dict[str, str] = {}

    def path(self, relative: str) -> str:
        return str(self.root / relative)

    def folder(self, relative: str) -> str:
        return str(self.root / relative)

    def write(self, relative: str, content: str | bytes, mtime: datetime = EPOCH) -> str:
        write_file(self.root / relative, content, mtime=mtime)
        return self.path(relative)

    def names(self, folder: str) -> list[str]:
        where = self.root / folder
        return sorted(p.name for p in where.iterdir()) if where.is_dir() else []

    def options(self) -> dict:
        return {}


class SftpPlace(LocalPlace):
    """Files on the SFTP server: written into the folder it serves, read over SSH."""

    kind = "sftp"

    def __init__(self, server: SftpServer, known_hosts: Path) -> None:
        super().__init__(server.root)
        self.server = server
        self.known_hosts = known_hosts
        self.secrets = {"sftp_password": server.password}

    def path(self, relative: str) -> str:
        return self.server.url(relative)

    def folder(self, relative: str) -> str:
        return "/" + relative  # an absolute folder on the same server

    def options(self) -> dict:
        sftp = {"password_secret": "sftp_password", "known_hosts": str(self.known_hosts)}
        return {"sftp": sftp}


class S3Place:
    """Objects in a bucket of its own on the moto server."""

    kind = "s3"

    def __init__(self, server: S3Server) -> None:
        self.server = server
        self.bucket = f"feeds-{uuid.uuid4().hex[:10]}"
        server.client().create_bucket(Bucket=self.bucket)
        self.secrets = {
            "s3_key_id": server.access_key_id,
            "s3_secret": server.secret_access_key,
        }

    def path(self, relative: str) -> str:
        return f"s3://{self.bucket}/{relative}"

    def folder(self, relative: str) -> str:
        return "/" + relative

    def write(self, relative: str, content: str | bytes, mtime: datetime = EPOCH) -> str:
        body = content.encode() if isinstance(content, str) else content
        self.server.put(self.bucket, relative, body, mtime)
        return self.path(relative)

    def names(self, folder: str) -> list[str]:
        return [key.rsplit("/", 1)[-1] for key in self.server.keys(self.bucket, folder + "/")]

    def options(self) -> dict:
        return {
            "s3": {
                "endpoint_url": self.server.endpoint,
                "access_key_id_secret": "s3_key_id",
                "secret_access_key_secret": "s3_secret",
            }
        }
