"""Finding feed files in a store: glob, skip half-uploaded ones, wait until stable, archive.

The rules are the same wherever the files live; a ``FileStore`` (local disk, SFTP, a bucket)
only lists, stats, opens and moves. Stores raise OSError for I/O failures and StoreProblem for
what they can name better (an unknown host key, a missing bucket).
"""

from __future__ import annotations

import os
import posixpath
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, Protocol

DEFAULT_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload")


class FileChanged(Exception):  # a signal to the caller; never leaves sources/
    """The file changed while it was being read."""


class StoreProblem(Exception):  # turned into a SourceError, with the source's name, by FeedFiles
    """A store could not do what was asked. ``key`` names the option to fix when asking again
    cannot help (a refused password, an unknown host key, a missing bucket)."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class FileCandidate:
    """A matching file as seen by one listing or stat: where it is, how big, how old.

    ``version`` is what the store knows besides size and mtime that changes with the content
    (an S3 ETag); None where there is nothing more."""

    path: str  # the store's own path: a local path, a path on the server, bucket/key
    size: int
    mtime_ns: int
    version: str | None = None

    @property
    def name(self) -> str:
        return posixpath.basename(self.path.replace("\\", "/"))

    @property
    def mtime(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)


class FileStore(Protocol):
    """Where a source's files live. Paths are the store's own; patterns may hold globs.

    ``failures`` lists the store library's own exception types that mean "the I/O failed"
    besides OSError (paramiko's, say), wherever they surface: also while a stream is read."""

    failures: tuple[type[Exception], ...]

    def origin(self, path: str) -> str:
        """How a path is shown in errors and rejected rows (a URL for remote stores)."""
        ...

    def glob(self, pattern: str) -> list[FileCandidate]:
        """Every regular file matching the pattern (files that vanish meanwhile are left out)."""
        ...

    def stat(self, path: str) -> FileCandidate: ...

    def open(self, path: str) -> BinaryIO:
        """The file's bytes as a stream, from the start; the caller closes it."""
        ...

    def exists(self, path: str) -> bool: ...

    def make_folder(self, path: str) -> None:
        """Create a folder and its parents if missing (a no-op where folders are implied)."""
        ...

    def move(self, path: str, target: str) -> None:
        """Move a file on the store itself; ``target`` does not exist yet."""
        ...

    def join(self, folder: str, name: str) -> str: ...

    def close(self) -> None: ...


def os_reason(err: BaseException) -> str | None:
    """The operating system's words for the socket error behind ``err`` ("connection
    refused", "name or service not known"), or None when there is none.

    Libraries wrap it: paramiko in "[Errno None] Unable to connect", botocore in "Could not
    connect to the endpoint URL" (the cause kept in ``kwargs["error"]``), aiohttp in a message
    of its own that keeps only the errno."""
    current: BaseException | None = err
    for _ in range(8):  # a cause chain is short; never loop on a cycle
        if current is None:
            return None
        if isinstance(current, socket.gaierror) and current.strerror:
            return current.strerror.lower()
        if isinstance(current, OSError) and current.errno and current.errno > 0:
            return os.strerror(current.errno).lower()
        kwargs = getattr(current, "kwargs", None)
        nested = kwargs.get("error") if isinstance(kwargs, dict) else None
        current = nested if isinstance(nested, BaseException) else current.__cause__
    return None


def is_temporary(name: str, temporary_suffixes: Iterable[str]) -> bool:
    """True for names of uploads in progress (``stock.csv.part``), in any letter case."""
    return name.lower().endswith(tuple(s.lower() for s in temporary_suffixes))


def list_candidates(
    store: FileStore, pattern: str, temporary_suffixes: Iterable[str]
) -> list[FileCandidate]:
    """Every file matching the pattern, minus temporary ones, newest first."""
    return list_matches(store, pattern, temporary_suffixes)[0]


def list_matches(
    store: FileStore, pattern: str, temporary_suffixes: Iterable[str]
) -> tuple[list[FileCandidate], list[FileCandidate]]:
    """The files matching the pattern, newest first: the candidates, and the uploads in
    progress (temporary names) that were left out, to be named when nothing else matched."""
    suffixes = tuple(temporary_suffixes)
    found: list[FileCandidate] = []
    uploading: list[FileCandidate] = []
    for candidate in store.glob(pattern):
        (uploading if is_temporary(candidate.name, suffixes) else found).append(candidate)
    for files in (found, uploading):
        files.sort(key=lambda c: (c.mtime_ns, c.name), reverse=True)
    return found, uploading


def is_stable(candidate: FileCandidate, now: datetime, stable_seconds: float) -> bool:
    """True when the file has not been modified for stable_seconds by the injected clock.

    A writer that is still appending keeps moving the mtime forward, so a recent mtime (or one
    in the future, from clock skew) means "not yet"."""
    return now - candidate.mtime >= timedelta(seconds=stable_seconds)


def read_unchanged(store: FileStore, candidate: FileCandidate) -> bytes:
    """Read the whole file; raise FileChanged if it is not the file that was judged stable."""
    with store.open(candidate.path) as stream:
        data = stream.read()
    check_unchanged(store, candidate, len(data))
    return data


def check_unchanged(store: FileStore, candidate: FileCandidate, size_read: int) -> None:
    """Raise FileChanged unless the file still looks as it did when it was chosen.

    For readers that stream the file themselves: call after the last byte was read."""
    try:
        after = store.stat(candidate.path)
    except FileNotFoundError:
        raise FileChanged(candidate.path) from None
    if after != candidate or size_read != candidate.size:
        raise FileChanged(candidate.path)


def archive_files(store: FileStore, paths: Iterable[str], folder: str, tag: str) -> list[str]:
    """Move files into folder on their own store, never overwriting an earlier file."""
    store.make_folder(folder)
    moved: list[str] = []
    for path in paths:
        if not store.exists(path):
            continue  # already gone: archiving is idempotent
        name = posixpath.basename(path.replace("\\", "/"))
        target = store.join(folder, name)
        if store.exists(target):
            stem, dot, suffix = name.rpartition(".")
            tagged = f"{stem}.{tag}.{suffix}" if dot and stem else f"{name}.{tag}"
            target = store.join(folder, tagged)
        try:
            store.move(path, target)
        except FileNotFoundError:
            if store.exists(path):
                raise
            continue  # archived meanwhile by another run of the same source (the service's
            # pull job retrying a change file's archive while a reconcile archives it)
        moved.append(target)
    return moved
