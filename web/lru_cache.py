"""One thread-safe LRU for the web layer's in-process caches (analysis results, chart bytes)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class LruCache:
    """Least recently used first out, bounded by entry count, by total size, or both.

    `size_of(value)` measures an entry for `max_bytes` (len, for bytes). Compute functions run
    outside the lock: two threads missing the same key both compute, and the second result
    replaces the first, which is harmless for pure results and cheaper than serialising them.
    """

    def __init__(self, max_entries: int | None = None, max_bytes: int | None = None,
                 size_of: Callable[[Any], int] = len):
        if max_entries is None and max_bytes is None:
            raise ValueError("An LruCache needs max_entries, max_bytes or both.")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size_of = size_of
        self.size = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            if key not in self._items:
                return default
            self._items.move_to_end(key)
            return self._items[key][0]

    def put(self, key: Hashable, value: Any) -> None:
        size = self.size_of(value) if self.max_bytes is not None else 0
        with self._lock:
            if key in self._items:
                self.size -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self.size += size
            while self._items and self._over():
                self.size -= self._items.popitem(last=False)[1][1]

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            value = compute()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0

    def _over(self) -> bool:
        return ((self.max_entries is not None and len(self._items) > self.max_entries)
                or (self.max_bytes is not None and self.size > self.max_bytes))
