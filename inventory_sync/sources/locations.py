"""Where a file source's files are: a local path or glob, an sftp:// URL or an s3:// URL."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Scheme = Literal["local", "sftp", "s3"]
SCHEMES = ("sftp", "s3")
DEFAULT_SFTP_PORT = 22


class LocationError(ValueError):
    """A path or URL that cannot name a place for feed files; the message never echoes it."""


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed ``path`` option: the store it names and the pattern inside that store.

    The pattern is the store's own path: a local path, an absolute path on the SFTP server,
    or ``bucket/key-pattern`` for S3 (the form fsspec's S3 filesystem uses)."""

    scheme: Scheme
    pattern: str
    host: str = ""  # the SFTP server, or the bucket
    port: int = DEFAULT_SFTP_PORT
    user: str = ""

    @property
    def is_remote(self) -> bool:
        return self.scheme != "local"

    @property
    def server(self) -> str:
        """The store as shown to people: ``sftp://feeds@host:2222``, ``s3://bucket``, ``""``."""
        if self.scheme == "sftp":
            host = f"[{self.host}]" if ":" in self.host else self.host
            port = "" if self.port == DEFAULT_SFTP_PORT else f":{self.port}"
            return f"sftp://{self.user}@{host}{port}"
        if self.scheme == "s3":
            return f"s3://{self.host}"
        return ""

    def url(self, path: str) -> str:
        """A store path as a URL (a local path stays a path)."""
        if self.scheme == "s3":
            return f"s3://{path}"
        return self.server + path

    def folder(self, text: str) -> str:
        """Resolve ``archive_dir`` into a store path: remote folders are on the same store."""
        if not self.is_remote:
            return text
        if "://" in text:
            other = parse_location(text)
            if (other.scheme, other.host, other.port) != (self.scheme, self.host, self.port):
                raise LocationError(
                    f"must be on the same server or bucket as path ({self.server}): files are"
                    " moved on the server, never copied elsewhere"
                )
            return other.pattern.rstrip("/") or "/"
        if not text.startswith("/"):
            raise LocationError(
                f"for a remote path, give an absolute folder on {self.server}"
                " (such as /outbox/done) or a URL on it"
            )
        if self.scheme == "s3":
            return posixpath.join(self.host, text.strip("/"))
        return posixpath.normpath(text)


def parse_location(text: str) -> Location:
    """Parse a ``path`` option; raise LocationError with a message that never repeats it."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return Location("local", text)
    scheme = scheme.lower()
    if scheme not in SCHEMES:
        raise LocationError(
            f"unsupported URL scheme {scheme!r}: use sftp://user@host/path, s3://bucket/prefix"
            " or a local path"
        )
    # Split by hand: a glob's "?" or "#" would be read as a query or fragment by urlsplit.
    netloc, slash, path = rest.partition("/")
    if scheme == "sftp":
        return _sftp(netloc, "/" + path if slash else "")
    return _s3(netloc, path)


def _sftp(netloc: str, path: str) -> Location:
    parts = urlsplit(f"//{netloc}")
    if parts.password is not None:
        raise LocationError(
            "a password must not be written in the URL: name a credential in"
            " options.sftp.password_secret instead"
        )
    if not parts.username:
        raise LocationError("an sftp:// URL needs a user name: sftp://USER@host/path")
    try:
        port = parts.port or DEFAULT_SFTP_PORT
    except ValueError:
        raise LocationError("the port of an sftp:// URL must be a number") from None
    if not parts.hostname:
        raise LocationError("an sftp:// URL needs a host: sftp://user@HOST/path")
    if not path.strip("/"):
        raise LocationError("an sftp:// URL needs a file path or glob after the host")
    return Location("sftp", path, host=parts.hostname, port=port, user=parts.username)


def _s3(bucket: str, key: str) -> Location:
    if not bucket or "@" in bucket or ":" in bucket:
        raise LocationError(
            "an s3:// URL is s3://BUCKET/prefix/pattern; credentials and endpoints go in"
            " options.s3, never in the URL"
        )
    if not key:
        raise LocationError("an s3:// URL needs a key or glob after the bucket")
    return Location("s3", f"{bucket}/{key}", host=bucket)
