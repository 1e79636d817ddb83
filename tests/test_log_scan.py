"""The log scan of tests/conftest.py: it catches a traceback from any logger or thread, names
the test that ran, and lets through only what a test marked as expected."""

import logging
import threading

import pytest

from tests.conftest import TRACEBACKS, TracebackLog


def log_a_traceback(logger: str) -> None:
    try:
        raise ZeroDivisionError("scan me")
    except ZeroDivisionError:
        logging.getLogger(logger).exception("failed")


def test_the_scan_records_tracebacks_from_any_thread_and_names_the_test():
    scan = TracebackLog()
    scan.current = "tests/x.py::test_a"
    logger = logging.getLogger("quartile.scan-demo")
    logger.addHandler(scan)
    logger.propagate = False  # keep the demo out of the suite's own scan
    try:
        logger.error("an error without a traceback")  # not a traceback: not recorded
        thread = threading.Thread(target=log_a_traceback, args=("quartile.scan-demo",))
        thread.start()
        thread.join()
    finally:
        logger.removeHandler(scan)
        logger.propagate = True
    assert [(test, r.getMessage()) for test, r in scan.records] == [
        ("tests/x.py::test_a", "failed")]
    [stray] = scan.unexpected(expected=set())
    assert stray.startswith("tests/x.py::test_a: quartile.scan-demo: failed")
    assert "ZeroDivisionError: scan me" in stray
    assert scan.unexpected(expected={"tests/x.py::test_a"}) == []


@pytest.mark.expected_traceback
def test_a_marked_test_may_log_a_traceback(request):
    log_a_traceback("quartile.scan-demo")
    assert TRACEBACKS.records[-1][0] == request.node.nodeid
