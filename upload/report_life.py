"""A report's life apart from computing it: its PDF in the object store, its status following
its job, a build cancelled, a report deleted for good.

Flask-free, below web/: the pages and API (web/reports.py), the report job (web/report_build.py
builds the document, this module keeps the PDF), the trash and the CLI all call these.

A PDF is stored under `reports/<inputs_hash>.pdf`: identical reports (same bytes, parse, title,
author, sections and Quartile version) share one, typeset once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm.exc import StaleDataError

import jobs
from errors import Conflict, StorageUnavailable
from jobs import Cancelled, lifecycle
from store.db import db
from store.models import Job, Report
from store.objects import objects_for

log = logging.getLogger("quartile.reports")


def pdf_key(name: str) -> str:
    if not name or "/" in name or "\\" in name or not name.endswith(".pdf"):
        raise ValueError(f"not a report PDF's name: {name!r}")
    return f"reports/{name}"


def has_pdf(files_dir: Path, report: Report) -> bool:
    return bool(report.pdf_path) and objects_for(files_dir).exists(pdf_key(report.pdf_path))


def pdf_file(files_dir: Path, report: Report) -> Path:
    """A readable local copy of the report's PDF (FileNotFoundError when it is gone)."""
    if not report.pdf_path:
        raise FileNotFoundError(f"report {report.id} has no PDF")
    return objects_for(files_dir).local_path(pdf_key(report.pdf_path))


def save_pdf(files_dir: Path, report: Report, render: Callable[[], bytes]) -> None:
    """Store the report's PDF (rendered only when no identical report stored it already) and
    mark the report done. Cancelled if the report was deleted while it was typeset."""
    name = f"{report.inputs_hash}.pdf"
    store = objects_for(files_dir)
    if not store.exists(pdf_key(name)):
        store.put_bytes(pdf_key(name), render())
    report_id = report.id
    report.pdf_path = name
    report.status, report.error = "done", None
    try:
        db.session.commit()
    except StaleDataError:  # the report was deleted while pdflatex ran
        db.session.rollback()
        drop_unused_pdf(files_dir, name)
        raise Cancelled(report_id) from None


def drop_unused_pdf(files_dir: Path, name: str) -> None:
    """Delete a PDF no report row names (identical reports share one file; a report in the
    trash still names its own)."""
    if not db.session.scalar(select(Report.id).where(Report.pdf_path == name).limit(1)):
        try:
            objects_for(files_dir).delete(pdf_key(name))
        except StorageUnavailable:  # no row names it: `quartile storage sweep` will
            log.warning("Unused PDF %s left in the unreachable object store for the sweep.",
                        name)


def mark_failed(report: Report, error: str) -> None:
    report.status, report.error = "failed", error
    db.session.commit()
    jobs.publish_change(report.owner_id, "reports", report.id)


def follow_job(report: Report) -> Report:
    """A report whose job ended without it (cancelled, worker lost) takes the job's outcome."""
    if report.status not in ("queued", "running") or not report.job_id:
        return report
    job = db.session.get(Job, report.job_id)
    if job is not None and job.state in (lifecycle.FAILED, lifecycle.CANCELLED):
        error = job.error if job.state == lifecycle.FAILED else "The build was cancelled."
        report.status, report.error = "failed", error or "The build failed."
        db.session.commit()
    elif job is not None and job.state == lifecycle.RUNNING and report.status == "queued":
        report.status = "running"  # the task marks it too; this covers a read in between
    return report


def in_flight(owner_id: int, key: str) -> Report | None:
    """The same report being built right now (a second click, a retrying client)."""
    return db.session.scalar(select(Report).where(
        Report.owner_id == owner_id, Report.inputs_hash == key, Report.deleted_at.is_(None),
        Report.status.in_(("queued", "running"))).order_by(Report.created_at.desc()).limit(1))


def stop_build(report: Report) -> None:
    """Cancel the report's build if it is still queued or running."""
    if report.status in ("queued", "running") and report.job_id:
        job = db.session.get(Job, report.job_id)
        if job is not None and job.state in lifecycle.ACTIVE:
            with contextlib.suppress(Conflict):  # it finished meanwhile
                jobs.cancel(job.id)


def delete_report(files_dir: Path, report: Report) -> bool:
    """Delete a report for good: stop its build, drop the row, and the PDF unless another
    report (an identical one, typeset once) still uses it. False if it was gone already."""
    stop_build(report)
    owner_id, report_id, pdf_name = report.owner_id, report.id, report.pdf_path
    gone = db.session.execute(delete(Report).where(Report.id == report_id)).rowcount
    db.session.commit()
    if pdf_name:
        drop_unused_pdf(files_dir, pdf_name)
    jobs.publish_change(owner_id, "reports", report_id)
    return gone == 1
