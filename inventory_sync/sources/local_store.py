"""Feed files on this machine's disks: the store behind a plain path such as /srv/feeds/*.csv."""

from __future__ import annotations

import glob
import shutil
from pathlib import Path
from typing import BinaryIO

from inventory_sync.sources.files import FileCandidate


class LocalStore:
    """A FileStore over local paths; ``~`` is expanded in patterns and folders."""

    failures: tuple[type[Exception], ...] = ()  # the standard library raises OSError

    def origin(self, path: str) -> str:
        return path

    def glob(self, pattern: str) -> list[FileCandidate]:
        found: list[FileCandidate] = []
        for name in glob.glob(str(Path(pattern).expanduser())):  # noqa: PTH207 - absolute patterns
            path = Path(name)
            if not path.is_file():
                continue
            try:
                found.append(self.stat(name))
            except FileNotFoundError:
                continue  # moved away between glob and stat: someone else's business
        return found

    def stat(self, path: str) -> FileCandidate:
        st = Path(path).stat()
        return FileCandidate(path, st.st_size, st.st_mtime_ns)

    def open(self, path: str) -> BinaryIO:
        return Path(path).open("rb")

    def exists(self, path: str) -> bool:
        return Path(path).exists()

    def make_folder(self, path: str) -> None:
        Path(path).expanduser().mkdir(parents=True, exist_ok=True)

    def move(self, path: str, target: str) -> None:
        # shutil.move, not rename: the archive may be on another filesystem.
        shutil.move(path, target)

    def join(self, folder: str, name: str) -> str:
        return str(Path(folder).expanduser() / name)

    def close(self) -> None:
        """Nothing to release."""
