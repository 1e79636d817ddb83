"""Quartile's exception hierarchy: raised where a problem is found, answered in one place.

Flask-free on purpose: `analysis/`, `upload/` and `rendition/` raise these, and
`web/errors.py` turns them into `{"error": {"status", "code", "message"}}` or an HTML page.
The message is for a person: say what was wrong and, where possible, what to do.
"""

from __future__ import annotations


class QuartileError(Exception):
    """Base of every error a user may see. `status` is the HTTP status it maps to."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def to_dict(self) -> dict:
        return {"status": self.status, "code": self.code, "message": self.message}


class BadInput(QuartileError):
    """The request is malformed or names something that makes no sense (400)."""

    status, code = 400, "bad_input"


class Unauthorized(QuartileError):
    status, code = 401, "unauthorized"


class NotFound(QuartileError):
    status, code = 404, "not_found"


class Conflict(QuartileError):
    status, code = 409, "conflict"


class TooLarge(QuartileError):
    status, code = 413, "too_large"


class UnsupportedFile(QuartileError):
    """The bytes are not a spreadsheet we can read (415)."""

    status, code = 415, "unsupported_file"


class Unprocessable(QuartileError):
    """Well-formed, but the data or expression cannot be processed as asked (422)."""

    status, code = 422, "unprocessable"


class TooManyRequests(QuartileError):
    status, code = 429, "too_many_requests"


class StoredFileMissing(QuartileError):
    """A dataset's row is there but its stored file is not (lost from the object store, or a
    database restored without its files): say so instead of failing with a traceback."""

    status, code = 410, "stored_file_missing"


class Unavailable(QuartileError):
    """A backing service (Redis, the job engine, pdflatex) is down (503)."""

    status, code = 503, "unavailable"


class StorageUnavailable(Unavailable):
    """The object store (S3) does not answer: nothing was saved, or the file cannot be read."""

    code = "storage_unavailable"
    WRITE = "File storage is not reachable right now; nothing was saved. Try again in a minute."
    READ = ("File storage is not reachable right now, so this file cannot be read. Try again in "
            "a minute.")

    def __init__(self, message: str | None = None, *, writing: bool = True):
        super().__init__(message or (self.WRITE if writing else self.READ))
