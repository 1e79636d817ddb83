"""Stored sheets kept in memory as DataFrames: read once per process, read ahead after uploads.

A stored parse never changes (its key names the bytes' sha256 and the parse options), so a
frame read once serves every later request for it, whoever asks: the key is the content. A
first chart of a fresh upload still paid the read (~3 ms for 545 rows × 13 columns) after its
own authentication and database work; `read_ahead`, called as the upload answers, reads
small sheets on a background thread meanwhile. A request for a sheet being read waits for
that read instead of reading it a second time (single flight).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable

import pandas as pd

from errors import StorageUnavailable

log = logging.getLogger("quartile.upload")


class SheetCache:
    """`cache(objects, key)` → the frame `read(objects, key)` returns, kept for the `maxsize`
    keys used last. A failed read is not kept: the next caller reads (and fails) itself."""

    def __init__(self, read: Callable[..., pd.DataFrame], maxsize: int = 64):
        self._read = read
        self.maxsize = maxsize
        self._frames: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.reads = 0  # reads actually made (tests check that a read-ahead is not repeated)
        self._generation = 0  # cache_clear() counts up: a read begun before it is not kept

    def __call__(self, objects, key: str) -> pd.DataFrame:
        ident = (objects, key)
        while True:
            with self._lock:
                frame = self._frames.get(ident)
                if frame is not None:
                    self._frames.move_to_end(ident)
                    return frame
                event = self._pending.get(ident)
                if event is None:
                    event = self._pending[ident] = threading.Event()
                    generation = self._generation
                    break
            event.wait()  # another thread is reading it: then cached, or failed (read ourselves)
        return self._read_claimed(objects, key, event, generation)

    def _read_claimed(self, objects, key: str, event: threading.Event,
                      generation: int) -> pd.DataFrame:
        """Read a key this thread claimed (as pending) in `generation` of the cache."""
        ident = (objects, key)
        try:
            frame = self._read(objects, key)
            with self._lock:
                self.reads += 1
                if generation != self._generation:
                    return frame  # read before cache_clear(): given to its caller, not kept
                self._frames[ident] = frame
                while len(self._frames) > self.maxsize:
                    self._frames.popitem(last=False)
            return frame
        finally:
            with self._lock:
                self._pending.pop(ident, None)
            event.set()

    def read_ahead(self, objects, keys: Iterable[str]) -> threading.Thread | None:
        """Read `keys` not cached yet on a background thread; returns it (None: nothing to read).

        The keys are claimed before this returns, so a request arriving next waits for the
        read under way rather than starting another one.
        """
        claimed = []
        with self._lock:
            generation = self._generation
            for key in keys:
                ident = (objects, key)
                if ident not in self._frames and ident not in self._pending:
                    self._pending[ident] = threading.Event()
                    claimed.append((key, self._pending[ident]))
        if not claimed:
            return None
        thread = threading.Thread(target=self._read_all, args=(objects, claimed, generation),
                                  name="sheet-read-ahead", daemon=True)
        thread.start()
        return thread

    def _read_all(self, objects, claimed: list[tuple[str, threading.Event]],
                  generation: int) -> None:
        for key, event in claimed:
            try:
                self._read_claimed(objects, key, event, generation)
            except (OSError, ValueError, StorageUnavailable) as error:
                # only a head start: whoever asks for the sheet reads it and reports the error
                log.info("sheet %s not read ahead: %s", key, error)

    def cache_clear(self) -> None:
        """Forget every frame, and those being read now: as in a process that never read them."""
        with self._lock:
            self._frames.clear()
            self._generation += 1
