"""Feed files on an SFTP server, through fsspec's SFTP filesystem (paramiko underneath).

One connection per pull or archive, closed after it: a 3PL's server may drop idle sessions,
and a fresh login each time turns a changed password into a clear error at the next pull.
"""

from __future__ import annotations

import io
import posixpath
import stat
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from fsspec.implementations.sftp import SFTPFileSystem

from inventory_sync.sources.file_options import SftpOptions
from inventory_sync.sources.files import FileCandidate, StoreProblem, os_reason
from inventory_sync.sources.host_keys import (
    ChangedHostKey,
    HostKeyCheck,
    NoKnownHostsFile,
    UnknownHostKey,
)
from inventory_sync.sources.locations import Location

_KEY_TYPES: tuple[type[paramiko.PKey], ...] = (
    paramiko.Ed25519Key,
    paramiko.ECDSAKey,
    paramiko.RSAKey,
)


@dataclass(frozen=True)
class _Login:
    """What paramiko's connect() is given besides the host; ``key`` names the option behind it."""

    arguments: dict[str, Any]
    key: str


def sftp_connector(
    location: Location, options: SftpOptions, read_secret: Callable[[str], str]
) -> Callable[[], SftpStore]:
    """Read the credentials now (a missing one is a start-up error), connect on each call."""
    login = _login(options, read_secret)
    check = HostKeyCheck.from_options(options.host_key, options.known_hosts)

    def connect() -> SftpStore:
        return SftpStore(_connect(location, options, login, check), location)

    return connect


def _login(options: SftpOptions, read_secret: Callable[[str], str]) -> _Login:
    if options.private_key_secret:
        named = options.passphrase_secret
        passphrase = read_secret(named) if named else None
        key = _private_key(read_secret(options.private_key_secret), passphrase, named)
        return _Login({"pkey": key}, "options.sftp.private_key_secret")
    if options.password_secret:
        password = read_secret(options.password_secret)
        return _Login({"password": password}, "options.sftp.password_secret")
    # Nothing configured: the login's own agent and ~/.ssh keys, as ssh(1) would use.
    return _Login({"allow_agent": True, "look_for_keys": True}, "options.sftp.password_secret")


def _private_key(text: str, passphrase: str | None, passphrase_name: str | None) -> paramiko.PKey:
    """The key from its text: OpenSSH, the PEM forms paramiko reads, or PKCS#8 (converted)."""
    for form in (text, _pkcs8_as_openssh(text, passphrase)):
        for key_type in _KEY_TYPES if form else ():
            try:
                return key_type.from_private_key(io.StringIO(form), password=passphrase)
            except paramiko.SSHException:
                continue
    if _is_encrypted(text) and passphrase is None:
        raise StoreProblem(
            "the private key is encrypted: name the credential holding its passphrase in"
            " options.sftp.passphrase_secret",
            key="options.sftp.passphrase_secret",
        )
    if _is_encrypted(text):
        raise StoreProblem(
            "the private key could not be decrypted with the passphrase of credential"
            f" {passphrase_name!r} (the wrong passphrase, or the wrong key?)",
            key="options.sftp.passphrase_secret",
        )
    raise StoreProblem(
        "the private key could not be read: give an OpenSSH key (ed25519, ecdsa or rsa, as"
        " ssh-keygen writes it) or a PEM one (BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY, BEGIN"
        " EC PRIVATE KEY)",
        key="options.sftp.private_key_secret",
    )


def _pkcs8_as_openssh(text: str, passphrase: str | None) -> str | None:
    """A PKCS#8 key (BEGIN PRIVATE KEY, what openssl writes) as OpenSSH text: paramiko reads
    that form for every key type, but PKCS#8 for none."""
    if "BEGIN PRIVATE KEY" not in text and "BEGIN ENCRYPTED PRIVATE KEY" not in text:
        return None
    secret = passphrase.encode() if passphrase and "ENCRYPTED" in text else None
    try:
        key = serialization.load_pem_private_key(text.encode(), password=secret)
        openssh = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None  # not a key, the wrong passphrase, or a type OpenSSH has no form for
    return openssh.decode()


def _is_encrypted(text: str) -> bool:
    """True when the key's text cannot be read without a passphrase."""
    if "ENCRYPTED" in text:  # PEM's "Proc-Type: 4,ENCRYPTED", PKCS#8's ENCRYPTED PRIVATE KEY
        return True
    for key_type in _KEY_TYPES:  # OpenSSH says so only inside its base64
        try:
            key_type.from_private_key(io.StringIO(text))
        except paramiko.PasswordRequiredException:
            return True
        except paramiko.SSHException:
            continue
        return False
    return False


def _connect(
    location: Location, options: SftpOptions, login: _Login, check: HostKeyCheck
) -> SFTPFileSystem:
    where = f"{location.host} port {location.port}"
    arguments = {"allow_agent": False, "look_for_keys": False, **login.arguments}
    timeout = options.timeout_seconds
    try:
        return SFTPFileSystem(
            location.host,
            port=location.port,
            username=location.user,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            host_key_policy=check,
            skip_instance_cache=True,  # fsspec would hand back a cached, maybe dead, session
            **arguments,
        )
    except NoKnownHostsFile as err:
        raise StoreProblem(str(err), key="options.sftp.known_hosts") from None
    except UnknownHostKey as err:
        raise StoreProblem(str(err), key="options.sftp.host_key") from None
    except ChangedHostKey as err:
        raise StoreProblem(str(err), key=check.key_to_fix) from None
    except paramiko.BadHostKeyException as err:
        raise StoreProblem(f"{where}: {err}", key=check.key_to_fix) from None
    except paramiko.AuthenticationException:
        raise StoreProblem(
            f"{where} refused the login of user {location.user!r} (wrong password or key?)",
            key=login.key,
        ) from None
    except (OSError, paramiko.SSHException, EOFError) as err:
        if "authentication methods" in str(err):  # paramiko's words when it has nothing to try
            raise StoreProblem(
                f"{where}: no password or key to log in with (no SSH agent, no ~/.ssh keys)",
                key=login.key,
            ) from None
        raise StoreProblem(f"could not connect to {where}: {_connect_failure(err)}") from err


def _connect_failure(err: Exception) -> str:
    """Why a connection failed, in the socket's words rather than paramiko's wrapper."""
    if isinstance(err, paramiko.ssh_exception.NoValidConnectionsError):
        # Its own text is "[Errno None] Unable to connect to port 22 on host"; the reason of
        # each address tried (refused, unreachable) is what a person can act on.
        reasons = {os_reason(e) or str(e) for e in err.errors.values()}
        return ", ".join(sorted(reasons))
    if "protocol banner" in str(err):
        return f"{err} (it answered, but not as an SSH server: is it the right port?)"
    return os_reason(err) or str(err) or type(err).__name__


class SftpStore:
    """A FileStore on one SFTP session. Moves use SFTP's plain rename, which every server has
    and which refuses to overwrite; listing uses fsspec's glob."""

    # A dropped connection surfaces as paramiko's SSHException or as EOFError, not OSError.
    failures: tuple[type[Exception], ...] = (paramiko.SSHException, EOFError)

    def __init__(self, fs: SFTPFileSystem, location: Location) -> None:
        self._fs = fs
        self._sftp: paramiko.SFTPClient = fs.ftp
        self._location = location

    def origin(self, path: str) -> str:
        return self._location.url(path)

    def glob(self, pattern: str) -> list[FileCandidate]:
        try:
            found = cast("dict[str, dict[str, Any]]", self._fs.glob(pattern, detail=True))
        except FileNotFoundError:
            return []  # the folder is missing: nothing matches, as on a local disk
        return [
            FileCandidate(path, int(info["size"]), int(info["mtime"].timestamp()) * 10**9)
            for path, info in sorted(found.items())
            if info.get("type") == "file"
        ]

    def stat(self, path: str) -> FileCandidate:
        attributes = self._sftp.stat(path)
        if attributes.st_mode is not None and not stat.S_ISREG(attributes.st_mode):
            raise FileNotFoundError(path)
        return FileCandidate(path, attributes.st_size or 0, (attributes.st_mtime or 0) * 10**9)

    def open(self, path: str) -> BinaryIO:
        remote = self._sftp.open(path, "rb")
        # Ask for every block at once: reading block by block waits a round trip per 32 KiB.
        remote.prefetch()
        return cast("BinaryIO", remote)

    def exists(self, path: str) -> bool:
        try:
            self._sftp.stat(path)
        except FileNotFoundError:
            return False
        return True

    def make_folder(self, path: str) -> None:
        if self.exists(path):
            return
        parent = posixpath.dirname(path.rstrip("/"))
        if parent and parent != path:
            self.make_folder(parent)
        self._sftp.mkdir(path)

    def move(self, path: str, target: str) -> None:
        self._sftp.rename(path, target)

    def join(self, folder: str, name: str) -> str:
        return posixpath.join(folder, name)

    def close(self) -> None:
        # Closing a session the server already dropped must not hide why the pull failed.
        with suppress(OSError, *self.failures):
            self._sftp.close()
            self._fs.client.close()
