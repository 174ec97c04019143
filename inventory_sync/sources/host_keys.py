"""Knowing the SFTP server is the right one: known_hosts files, or one pinned host key.

paramiko is given no host keys of its own, so it asks this policy about every server; the
policy accepts only a key that known_hosts (or the pin) names, as ``ssh`` does by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import paramiko

DEFAULT_KNOWN_HOSTS = ("~/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts")


class UnknownHostKey(paramiko.SSHException):
    """The server's key is in no known_hosts file and matches no pin."""


class NoKnownHostsFile(UnknownHostKey):
    """The configured known_hosts file does not exist: a wrong path more often than not."""


class ChangedHostKey(paramiko.SSHException):
    """known_hosts has another key of this type for the server: a reinstall, or an attack."""


def describe(key: paramiko.PKey) -> str:
    return f"{key.get_name()} key {key.fingerprint}"


@dataclass(frozen=True)
class HostKeyCheck(paramiko.MissingHostKeyPolicy):
    """Accepts a server key only when the pin or a known_hosts file names it."""

    pin: str | None
    files: tuple[Path, ...]
    named: bool = False  # files is options.sftp.known_hosts, not the defaults

    @classmethod
    def from_options(cls, pin: str | None, known_hosts: str | None) -> HostKeyCheck:
        names = (known_hosts,) if known_hosts else DEFAULT_KNOWN_HOSTS
        files = tuple(Path(n).expanduser() for n in names)
        return cls(pin.strip() if pin else None, files, named=bool(known_hosts))

    @property
    def key_to_fix(self) -> str:
        return "options.sftp.host_key" if self.pin else "options.sftp.known_hosts"

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        del client  # paramiko's signature; nothing is stored in the client
        if self.pin is not None:
            if not self._pinned(key):
                raise UnknownHostKey(
                    f"{hostname} offered {describe(key)}, not the pinned options.sftp.host_key"
                    f" {self.pin!r}; if the server's key really changed, pin the new one"
                )
            return
        known = self._known(hostname)
        if known is not None and key.get_name() in known:
            if known[key.get_name()] == key:
                return
            raise ChangedHostKey(
                f"{hostname} offered {describe(key)}, but known_hosts"
                f" ({self._shown_files()}) has another {key.get_name()} key for it: the server was"
                " reinstalled, or someone is in between. Check with the server's owner, then"
                " replace the line (ssh-keygen -R) or pin the new key in options.sftp.host_key"
            )
        advice = (
            "Check the fingerprint with the server's owner, then add it (ssh-keyscan) or pin"
            f" it: options.sftp.host_key = {key.fingerprint!r}"
        )
        missing = not any(path.is_file() for path in self.files)
        if missing and self.named:
            raise NoKnownHostsFile(
                f"{hostname} offered {describe(key)}, but the known_hosts file"
                f" {self._shown_files()} does not exist (is options.sftp.known_hosts the right"
                f" path?). {advice}"
            )
        none_there = ", none of which exists" if missing else ""
        raise UnknownHostKey(
            f"{hostname} offered {describe(key)}, which is not in known_hosts"
            f" ({self._shown_files()}{none_there}). {advice}"
        )

    def _pinned(self, key: paramiko.PKey) -> bool:
        pin = self.pin or ""
        if pin.startswith("SHA256:"):
            return key.fingerprint == pin.rstrip("=")
        kind, _, rest = pin.partition(" ")
        return kind == key.get_name() and rest.split(" ")[0] == key.get_base64()

    def _known(self, hostname: str) -> dict[str, paramiko.PKey] | None:
        keys = paramiko.HostKeys()
        for path in self.files:
            if path.is_file():
                keys.load(str(path))
        entry = keys.lookup(hostname)
        return None if entry is None else dict(entry.items())

    def _shown_files(self) -> str:
        return ", ".join(str(p) for p in self.files)
