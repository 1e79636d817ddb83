"""A bounded read cache on local disk for objects kept elsewhere (S3): one file per object key,
the least recently used dropped first once the folder outgrows its budget.

Any node may lose it at any time (a new machine, a wiped disk): a missing file is fetched again.
Files appear whole (written to a temp file, then renamed), so several processes can share the
folder; stored objects never change under a key, so a cached copy is never stale.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from store.objects import write_atomically

TEMP_PREFIX = ".part-"


class DiskCache:
    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._tally: int | None = None  # bytes in the folder, as last counted plus added since

    def path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str) -> Path | None:
        """The cached copy, marked as used now, or None."""
        path = self.root / key
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        return path

    def fill(self, key: str, write: Callable[[BinaryIO], None]) -> Path:
        """Cache what `write(handle)` writes under `key`; a failed write leaves nothing."""
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, write, prefix=TEMP_PREFIX)
        self._added(target.stat().st_size)
        return target

    def adopt(self, key: str, source: Path) -> None:
        """Take a local file we were given (an upload just stored) as the cached copy."""
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        size = source.stat().st_size
        try:
            os.replace(source, target)
        except OSError:  # another file system: copy, then drop the source
            self.fill(key, lambda out: _copy_from(source, out))
            source.unlink(missing_ok=True)
            return
        self._added(size)

    def discard(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def discard_prefix(self, prefix: str) -> None:
        if prefix.endswith("/"):
            shutil.rmtree(self.root / prefix.rstrip("/"), ignore_errors=True)

    def usage(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def evict(self, budget: int | None = None) -> int:
        """Delete the files used longest ago until the rest fit in `budget` (default: the
        cache's limit); how many went. Safe while other processes do the same."""
        budget = self.max_bytes if budget is None else budget
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        deleted = 0
        for _, size, path in entries:
            if total <= budget:
                break
            path.unlink(missing_ok=True)
            total -= size
            deleted += 1
        with self._lock:
            self._tally = total
        return deleted

    def _added(self, size: int) -> None:
        """Count a new file; past the limit, evict down to 90 % (so a full cache does not scan
        its folder on every download). The first file of a process counts the folder."""
        with self._lock:
            counted = self._tally is not None
            if counted:
                self._tally += size
            tally = self._tally
        if not counted:
            self.evict()
        elif tally > self.max_bytes:
            self.evict(int(self.max_bytes * 0.9))

    def _entries(self) -> list[tuple[float, int, Path]]:
        entries = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                if name.startswith(TEMP_PREFIX):
                    continue
                path = Path(folder) / name
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                entries.append((stat.st_mtime, stat.st_size, path))
        return entries


def _copy_from(source: Path, out: BinaryIO) -> None:
    with open(source, "rb") as handle:
        shutil.copyfileobj(handle, out, 1024 * 1024)
