"""Every matplotlib figure of a process is drawn in one thread.

matplotlib is not thread-safe, so a threaded web worker draws one figure at a time. Its fonts
are also kept per thread (`font_manager.get_font` caches FreeType faces by thread id) and a
face loads each glyph on first use: drawn under a lock from whichever thread served the
request, each of a worker's request threads paid for its own fonts on its first chart
(~15-20 ms), and the warm-up warmed only its own thread's. One long-lived drawing thread keeps
one set of fonts, warmed at start-up, and the caches the charts share (blank figures,
renderers, text layouts and glyphs) are touched by that thread alone.

A process that forks gets a drawing thread of its own in the child, when it first draws.
`drawing_here()` draws in the calling thread instead: gunicorn's master warms the charts'
imports before it forks its workers and must not start a thread.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger("quartile.charts")
_STATE_LOCK = threading.Lock()
_state: dict[str, Any] = {"pid": None, "executor": None, "ident": None, "here": False}


def draw(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`fn(*args, **kwargs)` run in this process's drawing thread: its result, or its
    exception raised here. A call from the drawing thread itself runs at once."""
    if _state["here"] or threading.get_ident() == _state["ident"]:
        return fn(*args, **kwargs)
    return _executor().submit(fn, *args, **kwargs).result()


def drawn(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate a function that builds and draws a figure: it runs in the drawing thread."""
    @functools.wraps(fn)
    def in_drawing_thread(*args: Any, **kwargs: Any) -> T:
        return draw(fn, *args, **kwargs)
    return in_drawing_thread


def soon(fn: Callable[..., object], /, *args: Any) -> None:
    """Queue `fn(*args)` for the drawing thread, after what it draws now, without waiting: work
    done ahead (a failure is logged). Skipped where drawing happens in place (`drawing_here`)."""
    if _state["here"]:
        return
    _executor().submit(fn, *args).add_done_callback(_log_failure)


def _log_failure(done: Future) -> None:
    error = done.exception()
    if error is not None:
        log.error("work done ahead in the drawing thread failed", exc_info=error)


@contextmanager
def drawing_here() -> Iterator[None]:
    """Draw in the calling thread while inside (for a process that must not start threads;
    single-threaded, so nothing else draws meanwhile)."""
    _state["here"] = True
    try:
        yield
    finally:
        _state["here"] = False


def _executor() -> ThreadPoolExecutor:
    with _STATE_LOCK:
        if _state["pid"] != os.getpid():  # first use, or a forked child: the thread is new
            executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quartile-draw",
                                          initializer=_remember_thread)
            _state.update(pid=os.getpid(), executor=executor, ident=None)
        return _state["executor"]


def _remember_thread() -> None:
    _state["ident"] = threading.get_ident()
