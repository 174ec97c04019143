"""Finding feed files on disk: glob, skip half-uploaded ones, wait until stable, archive."""

from __future__ import annotations

import glob
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEFAULT_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".filepart", ".crdownload")


class FileChanged(Exception):  # a signal to the caller; never leaves sources/
    """The file changed while it was being read."""


@dataclass(frozen=True, slots=True)
class FileCandidate:
    """A matching file as seen by one stat() call."""

    path: Path
    size: int
    mtime_ns: int

    @property
    def mtime(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)

    @classmethod
    def stat(cls, path: Path) -> FileCandidate:
        st = path.stat()
        return cls(path, st.st_size, st.st_mtime_ns)


def list_candidates(pattern: str, temporary_suffixes: Iterable[str]) -> list[FileCandidate]:
    """Every regular file matching the pattern, minus temporary ones, newest first."""
    suffixes = tuple(s.lower() for s in temporary_suffixes)
    found: list[FileCandidate] = []
    for name in glob.glob(str(Path(pattern).expanduser())):  # noqa: PTH207 - absolute patterns
        path = Path(name)
        if path.name.lower().endswith(suffixes) or not path.is_file():
            continue
        try:
            found.append(FileCandidate.stat(path))
        except FileNotFoundError:
            continue  # moved away between glob and stat: someone else's business
    found.sort(key=lambda c: (c.mtime_ns, c.path.name), reverse=True)
    return found


def is_stable(candidate: FileCandidate, now: datetime, stable_seconds: float) -> bool:
    """True when the file has not been modified for stable_seconds by the injected clock.

    A writer that is still appending keeps moving the mtime forward, so a recent mtime (or one
    in the future, from clock skew) means "not yet"."""
    return now - candidate.mtime >= timedelta(seconds=stable_seconds)


def read_unchanged(candidate: FileCandidate) -> bytes:
    """Read the whole file; raise FileChanged if it is not the file that was judged stable."""
    data = candidate.path.read_bytes()
    after = FileCandidate.stat(candidate.path)
    if after != candidate or len(data) != candidate.size:
        raise FileChanged(str(candidate.path))
    return data


def archive_files(paths: Iterable[Path], archive_dir: Path, tag: str) -> list[Path]:
    """Move files into archive_dir, never overwriting an earlier file of the same name."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    moved: list[Path] = []
    for path in paths:
        if not path.exists():
            continue  # already gone: archiving is idempotent
        target = archive_dir / path.name
        if target.exists():
            target = archive_dir / f"{path.stem}.{tag}{path.suffix}"
        # shutil.move, not rename: the archive may be on another filesystem.
        moved.append(Path(shutil.move(path, target)))
    return moved
