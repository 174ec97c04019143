"""Feed files in an S3 bucket or an S3-compatible server (MinIO, Ceph, R2), through s3fs.

Imported only for s3:// paths: s3fs is the optional `s3` extra.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, cast

import s3fs
from aiohttp import ClientError
from botocore.exceptions import BotoCoreError, NoCredentialsError

from inventory_sync import logs
from inventory_sync.sources.file_options import S3Options
from inventory_sync.sources.files import FileCandidate, StoreProblem, os_reason
from inventory_sync.sources.locations import Location

# s3fs and botocore each retry failed calls with growing waits; a down endpoint would hold a
# pull for many seconds. Two tries in s3fs and one in botocore: the next poll is the retry.
_RETRIES = 2


def s3_connector(
    location: Location, options: S3Options, read_secret: Callable[[str], str]
) -> Callable[[], S3Store]:
    """Read the credentials now (a missing one is a start-up error); connect at first use."""
    # botocore reads AWS_SECRET_ACCESS_KEY itself; the logs must never show it either.
    logs.register_secret(os.environ.get("AWS_SECRET_ACCESS_KEY", ""))
    keys: dict[str, str] = {}
    if options.access_key_id_secret and options.secret_access_key_secret:
        keys = {
            "key": read_secret(options.access_key_id_secret),
            "secret": read_secret(options.secret_access_key_secret),
        }
    timeouts = {"connect_timeout": options.timeout_seconds, "read_timeout": options.timeout_seconds}
    client = {"region_name": options.region} if options.region else {}

    def connect() -> S3Store:
        # fsspec keeps one S3FileSystem per set of arguments, so sources that share an endpoint
        # and key share a client: building one costs a tenth of a second or more. With the
        # listings cache off, it holds nothing that could go stale between pulls.
        fs = s3fs.S3FileSystem(
            endpoint_url=options.endpoint_url,
            use_listings_cache=False,  # a cached listing would hide a newly dropped file
            config_kwargs={**timeouts, "retries": {"max_attempts": 1}},
            client_kwargs=client,
            **keys,
        )
        fs.retries = _RETRIES
        return S3Store(fs, location, options.endpoint_url or "AWS S3", _Keys.of(options))

    return connect


# The options a refused key points at; both also cover botocore's own chain when unset.
_KEY_ID_OPTION = "options.s3.access_key_id_secret"
_SECRET_OPTION = "options.s3.secret_access_key_secret"  # noqa: S105 - an option's name
# What each call needs the key's policy to allow, for the message when S3 denies it. A glob
# needs both: s3fs also asks for the pattern's folder as an object (a HEAD, so s3:GetObject).
_READ = "s3:ListBucket and s3:GetObject"
_MOVE = "s3:GetObject, s3:PutObject and s3:DeleteObject"


@dataclass(frozen=True, slots=True)
class _Keys:
    """Where the key pair came from, as messages name it (never the values)."""

    key_id: str
    secret: str

    @classmethod
    def of(cls, options: S3Options) -> _Keys:
        if options.access_key_id_secret and options.secret_access_key_secret:
            return cls(
                f"access key id (credential {options.access_key_id_secret!r})",
                f"secret access key (credential {options.secret_access_key_secret!r})",
            )
        chain = "from botocore's chain: AWS_ACCESS_KEY_ID, AWS_PROFILE, an instance role"
        return cls(f"access key id ({chain})", f"secret access key ({chain})")


class S3Store:
    """A FileStore on one bucket. A move is a copy and a delete: S3 has no rename."""

    # While a stream is read, s3fs may let botocore's and aiohttp's own errors through.
    failures: tuple[type[Exception], ...] = (BotoCoreError, ClientError)

    def __init__(self, fs: Any, location: Location, endpoint: str, keys: _Keys) -> None:  # noqa: ANN401 - s3fs is untyped
        self._fs = fs
        self._location = location
        self._endpoint = endpoint
        self._keys = keys

    def origin(self, path: str) -> str:
        return self._location.url(path)

    def glob(self, pattern: str) -> list[FileCandidate]:
        with self._translated(_READ):
            found = cast("dict[str, dict[str, Any]]", self._fs.glob(pattern, detail=True))
            if not found:
                self._check_bucket()
        return [
            _candidate(path, info)
            for path, info in sorted(found.items())
            if info.get("type") == "file"
        ]

    def stat(self, path: str) -> FileCandidate:
        with self._translated(_READ):
            return _candidate(path, cast("dict[str, Any]", self._fs.info(path)))

    def open(self, path: str) -> BinaryIO:
        with self._translated(_READ):
            return cast("BinaryIO", self._fs.open(path, "rb"))

    def exists(self, path: str) -> bool:
        with self._translated(_READ):
            return bool(self._fs.exists(path))

    def make_folder(self, path: str) -> None:
        """Nothing to create: a key's prefix is its folder."""

    def move(self, path: str, target: str) -> None:
        with self._translated(_MOVE):
            self._fs.mv(path, target)

    def join(self, folder: str, name: str) -> str:
        return posixpath.join(folder, name)

    def close(self) -> None:
        """s3fs keeps no session open between calls that needs closing here."""

    def _check_bucket(self) -> None:
        bucket = self._location.host
        if not self._fs.exists(bucket):
            raise StoreProblem(
                f"bucket {bucket!r} does not exist at {self._endpoint} (or this key may not see"
                " it): check the bucket in options.path, and options.s3.endpoint_url",
                key="options.path",
            )

    @contextmanager
    def _translated(self, needs: str) -> Iterator[None]:
        """botocore's own errors become OSError; refusals name the option to fix.

        ``needs`` is what the call needs the key's policy to allow, for an AccessDenied."""
        try:
            yield
        except PermissionError as err:
            raise self._refused(err, needs) from None
        except NoCredentialsError:
            # No options and nothing in botocore's chain: no request left, nothing to "reach".
            raise StoreProblem(
                f"no access key to sign requests to {self._endpoint} with: set"
                " options.s3.access_key_id_secret and options.s3.secret_access_key_secret, or"
                " give botocore's chain one (AWS_ACCESS_KEY_ID, AWS_PROFILE, an instance role)",
                key=_KEY_ID_OPTION,
            ) from None
        except self.failures as err:
            raise StoreProblem(
                f"could not reach {self._endpoint}: {os_reason(err) or err}"
            ) from err

    def _refused(self, err: PermissionError, needs: str) -> StoreProblem:
        """What S3's error code says is wrong: the key id, the secret, or the key's rights."""
        # s3fs turns every refusal into a PermissionError; botocore's error, its cause, has
        # S3's code. A HEAD request's refusal has no body, so its code is just "403".
        answer = getattr(err.__cause__, "response", {}).get("Error", {})
        code = str(answer.get("Code", ""))
        bucket = self._location.host
        if code == "InvalidAccessKeyId":
            return StoreProblem(
                f"{self._endpoint} does not know the {self._keys.key_id} (InvalidAccessKeyId)",
                key=_KEY_ID_OPTION,
            )
        if code == "SignatureDoesNotMatch":
            return StoreProblem(
                f"{self._endpoint} refused the {self._keys.secret}: it is not the secret of that"
                " access key id (SignatureDoesNotMatch)",
                key=_SECRET_OPTION,
            )
        if code == "AccessDenied":
            return StoreProblem(
                f"{self._endpoint} denied access to bucket {bucket!r}: the {self._keys.key_id}"
                f" is valid, but its policy does not allow {needs} there (AccessDenied)",
                key=_KEY_ID_OPTION,
            )
        return StoreProblem(
            f"{self._endpoint} refused access to bucket {bucket!r} ({code or 'refused'}: {err}):"
            f" a wrong key, or a policy that does not allow {needs} there",
            key=_KEY_ID_OPTION,
        )


def _candidate(path: str, info: dict[str, Any]) -> FileCandidate:
    modified = cast("datetime", info["LastModified"])
    # Whole seconds: listings and HEAD answers of some servers differ below the second, and a
    # file must not look changed between the two. The ETag catches a real change.
    mtime_ns = int(modified.timestamp()) * 10**9
    etag = info.get("ETag")
    return FileCandidate(path, int(info["size"]), mtime_ns, str(etag) if etag else None)
