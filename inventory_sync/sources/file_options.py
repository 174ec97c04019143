"""Options every file-based kind shares: where the files are, when one is complete, archiving."""

from __future__ import annotations

import base64
import binascii
import re

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from inventory_sync.sources.files import DEFAULT_TEMPORARY_SUFFIXES
from inventory_sync.sources.locations import Location, LocationError, parse_location

# The error type config_sources shows without the input: a path may hold what looks like a
# password, and the message says what is wrong without repeating it.
LOCATION_ERROR = "location"


_FINGERPRINT = re.compile(r"SHA256:[A-Za-z0-9+/]{43}=?")
_PUBLIC_KEY_TYPES = re.compile(r"ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)")


def is_host_key_pin(text: str) -> bool:
    """True for the forms options.sftp.host_key takes: a SHA256 fingerprint, or a public key
    ("ssh-ed25519 AAAA...", a comment after it allowed)."""
    pin = text.strip()
    if _FINGERPRINT.fullmatch(pin):
        return True
    kind, _, rest = pin.partition(" ")
    blob = rest.strip().split(" ")[0]
    if not _PUBLIC_KEY_TYPES.fullmatch(kind) or not blob:
        return False
    try:
        base64.b64decode(blob, validate=True)
    except binascii.Error:
        return False
    return True


class SftpOptions(BaseModel):
    """[sources.options.sftp]: how to log in to the server and how to know it is the right one.

    Secrets are named, never given: each *_secret option names a credential (a file in
    $CREDENTIALS_DIRECTORY, or an INVENTORY_SYNC_CREDENTIAL_<NAME> variable)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    password_secret: str | None = None
    private_key_secret: str | None = None  # the key's text (OpenSSH or PEM), not a path
    passphrase_secret: str | None = None  # for an encrypted private key
    known_hosts: str | None = None  # default: ~/.ssh/known_hosts, /etc/ssh/ssh_known_hosts
    host_key: str | None = None  # a pin: "SHA256:..." or "ssh-ed25519 AAAA..."
    timeout_seconds: float = Field(default=30, gt=0)

    @field_validator("host_key")
    @classmethod
    def _a_pin(cls, value: str | None) -> str | None:
        if value is not None and not is_host_key_pin(value):
            # Checked now: a pin that can never match would be reported at every pull as
            # the server's key having changed.
            raise ValueError(
                'give the server key\'s SHA256 fingerprint ("SHA256:...", as ssh-keygen -lf'
                ' prints it) or its public key ("ssh-ed25519 AAAA...")'
            )
        return value

    @model_validator(mode="after")
    def _passphrase_needs_key(self) -> SftpOptions:
        if self.passphrase_secret and not self.private_key_secret:
            raise ValueError("passphrase_secret needs private_key_secret")
        return self


class S3Options(BaseModel):
    """[sources.options.s3]: the endpoint (for S3-compatible servers) and the access key.

    Without the two *_secret options, botocore's own chain is used (AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint_url: str | None = None  # MinIO, Ceph, R2, ...: "https://minio.example:9000"
    region: str | None = None
    access_key_id_secret: str | None = None
    secret_access_key_secret: str | None = None
    timeout_seconds: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _key_pair(self) -> S3Options:
        if (self.access_key_id_secret is None) != (self.secret_access_key_secret is None):
            raise ValueError("give both access_key_id_secret and secret_access_key_secret, or none")
        return self


class FileOptions(BaseModel):
    """The options of a kind that reads one file per snapshot (csv, and kinds like it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    temporary_suffixes: tuple[str, ...] = DEFAULT_TEMPORARY_SUFFIXES
    stable_seconds: float = Field(default=5, ge=0)
    archive_dir: str | None = None
    sftp: SftpOptions | None = None
    s3: S3Options | None = None

    @field_validator("path")
    @classmethod
    def _parsable(cls, value: str) -> str:
        try:
            parse_location(value)
        except LocationError as err:
            raise PydanticCustomError(LOCATION_ERROR, str(err)) from None
        return value

    @field_validator("archive_dir")
    @classmethod
    def _on_the_same_store(cls, value: str | None, info: ValidationInfo) -> str | None:
        path = info.data.get("path")
        if value is None or path is None:
            return value  # without a valid path, its own error says enough
        try:
            parse_location(path).folder(value)
        except LocationError as err:
            raise PydanticCustomError(LOCATION_ERROR, str(err)) from None
        return value

    @model_validator(mode="after")
    def _tables_match_the_path(self) -> FileOptions:
        scheme = self.location.scheme
        for table in ("sftp", "s3"):
            if getattr(self, table) is not None and scheme != table:
                raise ValueError(f"[options.{table}] is set, but path is not a {table}:// URL")
        return self

    @property
    def location(self) -> Location:
        return parse_location(self.path)

    @property
    def archive_folder(self) -> str | None:
        """archive_dir as a path in the files' own store."""
        return None if self.archive_dir is None else self.location.folder(self.archive_dir)
