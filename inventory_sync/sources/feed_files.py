"""The files of one file-based source: pick the file to read, read it, archive it.

Every file kind (csv, and any kind like it) reads through this, so a local path, an sftp://
URL and an s3:// URL behave the same: globs, temporary suffixes, the stability window, the
check that the file did not change while read, and archive_dir as a move on the same store.

A complete feed reads its newest stable file, which supersedes the older ones. A change feed
that archives (``drain``) reads its oldest stable file and supersedes nothing: each file holds
changes of its own, so they are read one at a time, in the order they came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from inventory_sync.domain.model import SourceName
from inventory_sync.errors import (
    ConfigError,
    ConfigProblem,
    NoNewFile,
    SourceError,
    SourceMisconfigured,
    SourceUnavailable,
)
from inventory_sync.sources.base import SourceContext
from inventory_sync.sources.file_options import FileOptions, S3Options, SftpOptions
from inventory_sync.sources.files import (
    FileCandidate,
    FileChanged,
    FileStore,
    StoreProblem,
    archive_files,
    check_unchanged,
    is_stable,
    list_matches,
    read_unchanged,
)
from inventory_sync.sources.local_store import LocalStore
from inventory_sync.sources.locations import Location


@dataclass(frozen=True)
class PickedFile:
    """The file a pull uses, its bytes, and the older complete files it supersedes."""

    candidate: FileCandidate
    origin: str  # the path or URL shown in errors and rejected rows
    data: bytes
    superseded: tuple[str, ...]  # the paths archived with it, the chosen one first
    waiting: int = 0  # stable files a later pull will read (a change feed's backlog)
    newest_at: datetime | None = None  # the mtime of the newest of those, if any wait


@dataclass(frozen=True)
class OpenedFile:
    """The file a pull uses, open for reading from its first byte, and the files it supersedes."""

    candidate: FileCandidate
    origin: str
    stream: BinaryIO
    superseded: tuple[str, ...]
    waiting: int = 0
    newest_at: datetime | None = None


@dataclass(frozen=True)
class _Choice:
    """Which stable file a pull reads, what archiving it moves, and how many wait after it."""

    chosen: FileCandidate
    superseded: tuple[str, ...]
    waiting: int
    newest_at: datetime | None = None


class FeedFiles:
    """Where one source's files are, and the rules for choosing and archiving them."""

    def __init__(
        self,
        options: FileOptions,
        source: SourceName,
        context: SourceContext,
        *,
        drain: bool = False,
    ) -> None:
        self._options = options
        self._source = source
        self._drain = drain  # oldest first, one at a time: a change feed with archive_dir
        self._clock = context.clock
        self._location = options.location
        try:
            self._connect = store_connector(self._location, options, context.read_secret)
        except StoreProblem as err:  # a key that cannot be read, a missing extra
            problem = ConfigProblem(err.key or "options.path", str(err))
            raise ConfigError([problem], origin=f"source {source!r}") from None

    @property
    def reads_from(self) -> str:
        """The server or bucket of a remote path (``sftp://feeds@host``, ``s3://bucket``),
        else the configured path: what a person waiting on the pull is shown."""
        return self._location.server or self._options.path

    @property
    def shown_path(self) -> str:
        """The configured path as errors show it (never holds a password: the URL cannot)."""
        return self._options.path

    def pick(self) -> PickedFile:
        """Read the file to use (see the module docstring); raise SourceUnavailable while none
        is ready."""
        with self._errors(f"could not read {self.shown_path}"), self._store() as store:
            choice = self._choose(self._stable(store))
            chosen = choice.chosen
            try:
                data = read_unchanged(store, chosen)
            except FileChanged:
                raise self._unavailable(
                    f"{store.origin(chosen.path)} changed while being read"
                ) from None
            origin = store.origin(chosen.path)
            waiting, newest_at = choice.waiting, choice.newest_at
            return PickedFile(chosen, origin, data, choice.superseded, waiting, newest_at)

    @contextmanager
    def opened(self) -> Iterator[OpenedFile]:
        """The file to use as a binary stream, for readers that stream it themselves.

        After the block the file is looked at again: one that changed while it was read
        raises SourceUnavailable, so what the block built from it must then be dropped."""
        with self._errors(f"could not read {self.shown_path}"), self._store() as store:
            choice = self._choose(self._stable(store))
            chosen = choice.chosen
            origin = store.origin(chosen.path)
            with store.open(chosen.path) as stream:
                waiting, newest_at = choice.waiting, choice.newest_at
                yield OpenedFile(chosen, origin, stream, choice.superseded, waiting, newest_at)
            try:
                check_unchanged(store, chosen, chosen.size)
            except FileChanged:
                raise self._unavailable(f"{origin} changed while being read") from None

    def archive(self, paths: Sequence[str], tag: str) -> None:
        """Move the files into archive_dir on their own store; a no-op without archive_dir."""
        folder = self._options.archive_folder
        if folder is None or not paths:
            return
        doing = f"could not archive into {self._options.archive_dir}"
        with self._errors(doing), self._store() as store:
            archive_files(store, paths, folder, tag)

    def _choose(self, stable: list[FileCandidate]) -> _Choice:
        """From the stable files, newest first: the one to read and what goes with it."""
        if self._drain:
            # A change file left unread loses its changes: the oldest goes first, alone, and
            # the next is read once this one is counted and archived.
            oldest = stable[-1]
            newest_at = stable[0].mtime if len(stable) > 1 else None
            return _Choice(oldest, (oldest.path,), len(stable) - 1, newest_at)
        # The newest complete file is the whole truth; older ones are obsolete. A change feed
        # without archive_dir cannot tell read files from unread ones: it reads the newest.
        return _Choice(stable[0], tuple(c.path for c in stable), 0)

    def _stable(self, store: FileStore) -> list[FileCandidate]:
        pattern = self._location.pattern
        found, uploading = list_matches(store, pattern, self._options.temporary_suffixes)
        if not found and uploading:
            names = ", ".join(c.name for c in uploading[:3]) + (", ..." if uploading[3:] else "")
            raise self._unavailable(
                f"no complete file matches {self.shown_path}: only {len(uploading)} upload(s) in"
                f" progress ({names}), never read until renamed without the temporary suffix"
            )
        if not found:
            message = f"no file matches {self.shown_path}"
            archive_dir = self._options.archive_dir
            if archive_dir is None:
                raise self._unavailable(message)
            # With archiving, an empty inbox is what every run sees between two uploads.
            raise NoNewFile(
                f"{message} (files already used were moved to {archive_dir}: no new one since?)",
                source=self._source,
                archive_dir=archive_dir,
                origin=self.shown_path,
            )
        now = self._clock.now()
        stable = [c for c in found if is_stable(c, now, self._options.stable_seconds)]
        if not stable:
            raise self._unavailable(
                f"{len(found)} file(s) match {self.shown_path} but none has been unchanged"
                f" for {self._options.stable_seconds}s yet (still being written?)"
            )
        return stable

    @contextmanager
    def _store(self) -> Iterator[FileStore]:
        """A connected store, closed after; its library's I/O errors become OSError."""
        store = self._connect()
        try:
            yield store
        except store.failures as err:
            raise OSError(f"{type(err).__name__}: {err}") from err
        finally:
            store.close()

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Store problems and I/O errors become the project's errors, naming this source."""
        try:
            yield
        except SourceError:
            raise
        except StoreProblem as err:
            if err.key is not None:
                raise SourceMisconfigured(
                    f"{self.shown_path}: {err} (fix {err.key})",
                    source=self._source,
                    key=err.key,
                    origin=self.shown_path,
                ) from None
            raise self._unavailable(f"{self.shown_path}: {err}") from err
        except OSError as err:
            raise self._unavailable(f"{doing}: {err}") from err

    def _unavailable(self, message: str) -> SourceUnavailable:
        return SourceUnavailable(message, source=self._source, origin=self.shown_path)


def store_connector(
    location: Location, options: FileOptions, read_secret: Callable[[str], str]
) -> Callable[[], FileStore]:
    """A function that opens the location's store; credentials are read once, here.

    The remote stores are imported only when configured: s3fs alone takes a third of a second
    to import, and a service with local feeds should not pay for it at every start."""
    if location.scheme == "sftp":
        from inventory_sync.sources.sftp_store import sftp_connector  # noqa: PLC0415 - see above

        return sftp_connector(location, options.sftp or SftpOptions(), read_secret)
    if location.scheme == "s3":
        try:
            from inventory_sync.sources.s3_store import s3_connector  # noqa: PLC0415 - see above
        except ImportError:
            message = "s3:// paths need the s3 extra: pip install 'inventory-sync[s3]'"
            raise StoreProblem(message, key="options.path") from None
        return s3_connector(location, options.s3 or S3Options(), read_secret)
    return LocalStore
