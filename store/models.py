"""Database rows: who owns what. Data itself lives in files/ (originals and Parquet sheets).

Every user-facing row has an owner. The content-addressed file store is shared underneath: two
users uploading the same bytes share one blob and its Parquet sheets, but each has their own
Dataset row, sharing settings and analyses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.db import db, new_id, utcnow


class User(db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Set by an administrator: the account can no longer log in, nor use its sessions or tokens.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    # Flask-Login protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False
    login_session_id = None  # set by web.auth for a browser session (not a column)

    def get_id(self) -> str:
        """"<user id>:<login session id>" for a browser session (the cookie and the remember-me
        cookie carry it, so ending the LoginSession row ends them), the bare id otherwise."""
        return f"{self.id}:{self.login_session_id}" if self.login_session_id else str(self.id)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin}


class ApiToken(db.Model):
    """A personal API token; only its sha256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    user: Mapped[User] = relationship()


class LoginSession(db.Model):
    """One browser log-in, so the server can end it: log-out ends this one, a password change
    ends all others, and none outlives `expires_at` (the remember-me bound)."""

    __tablename__ = "login_sessions"
    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SiteSetting(db.Model):
    """A server-wide setting an administrator changes on a page (sign-up open or closed)."""

    __tablename__ = "site_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(300))


class AuditEvent(db.Model):
    """A security event: who (a user, or the name tried), what, when and from where."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    username: Mapped[str] = mapped_column(String(64), default="")
    event: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(String(500), default="")
    address: Mapped[str] = mapped_column(String(64), default="")


class Dataset(db.Model):
    """One uploaded file as one owner sees it. `meta` holds the parse result (sheets, log)."""

    __tablename__ = "datasets"
    __table_args__ = (
        UniqueConstraint("owner_id", "sha256", name="uq_datasets_owner_sha256"),
        UniqueConstraint("family_id", "release_label", name="uq_datasets_family_release"),
    )
    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))
    parse_key: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A release of a publication (issue 14): its family, its label ("2020Q1", editable) and the
    # last period of its main sheet, which orders releases whose label is not a period.
    family_id: Mapped[str | None] = mapped_column(
        ForeignKey("families.id", ondelete="SET NULL"), index=True, nullable=True
    )
    release_label: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_period: Mapped[str | None] = mapped_column(String(32), nullable=True)
    owner: Mapped[User] = relationship()
    family: Mapped[Family | None] = relationship()
    shares: Mapped[list[DatasetShare]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan"
    )


class Family(db.Model):
    """Releases of one publication (the Dallas Fed workbook every quarter), one owner's.

    Deleting a release leaves the family (with its name, corrections and recipes) in place, even
    when it has no release left: the next upload can join it. Deleting the family keeps its
    datasets as standalone uploads.
    """

    __tablename__ = "families"
    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Releases in the trash are not releases until restored (a 404 everywhere, as any trashed
    # dataset): the relationship is read-only and skips them.
    releases: Mapped[list[Dataset]] = relationship(
        primaryjoin="and_(Family.id == foreign(Dataset.family_id), Dataset.deleted_at.is_(None))",
        viewonly=True,
    )


class SeriesCorrection(db.Model):
    """A user's word on the series mapping: column `column` of sheet `sheet` in this release is
    the series `series` (None: a series of its own, matched to nothing before it)."""

    __tablename__ = "series_corrections"
    __table_args__ = (UniqueConstraint("dataset_id", "sheet", "column",
                                       name="uq_series_corrections_release_column"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    family_id: Mapped[str] = mapped_column(
        ForeignKey("families.id", ondelete="CASCADE"), index=True
    )
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    sheet: Mapped[str] = mapped_column(String(300))
    column: Mapped[str] = mapped_column(String(300))
    series: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DatasetShare(db.Model):
    """Read-only access to a dataset for a named user."""

    __tablename__ = "dataset_shares"
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    dataset: Mapped[Dataset] = relationship(back_populates="shares")
    user: Mapped[User] = relationship()


class Chart(db.Model):
    __tablename__ = "charts"
    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    spec: Mapped[dict] = mapped_column(JSON)
    spec_hash: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Report(db.Model):
    __tablename__ = "reports"
    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    spec: Mapped[dict] = mapped_column(JSON)
    inputs_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    pdf_path: Mapped[str | None] = mapped_column(String(300), nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Job(db.Model):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    engine: Mapped[str] = mapped_column(String(16), default="embedded")
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(500), default="")
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # "host:pid" of the process that claimed the job (embedded engine): a sibling worker on the
    # same host fails the job when that process is gone (jobs.embedded.EmbeddedEngine.watch).
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "progress": self.progress,
            "message": self.message,
            "result": self.result,
            "error": self.error,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


class CriticalValueSet(db.Model):
    """Monte-Carlo critical values of the exuberance tests, simulated once and shared by all
    users and nodes; `key` is `analysis.exuberance_cv.cache_key(...)`, `data` its to_dict()."""

    __tablename__ = "critical_values"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    t: Mapped[int] = mapped_column(Integer)
    min_window: Mapped[int] = mapped_column(Integer)
    lag: Mapped[int] = mapped_column(Integer)
    reps: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChangeEvent(db.Model):
    """A change event on its way to other web processes (QUARTILE_EVENTS=database): written
    by `jobs.events_db.DatabaseBroker.publish`, read by each process's poller, deleted after a
    few minutes. Hints for open pages, never the truth (that is the rows they point at)."""

    __tablename__ = "change_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(80))
    data: Mapped[dict] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(80))  # the publishing process: it skips its own
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 index=True)


class Recipe(db.Model):
    """How a saved chart, analysis result or report was made, so it can run on another release:
    the family (or dataset), sheet, kind, parameters and the Quartile version that made it.

    `result` keeps an analysis result as saved (the numbers a re-run is compared with).
    """

    __tablename__ = "recipes"
    id: Mapped[str] = mapped_column(String(16), primary_key=True, default=new_id)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[str | None] = mapped_column(
        ForeignKey("families.id", ondelete="SET NULL"), index=True, nullable=True
    )
    dataset_id: Mapped[str | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="SET NULL"), index=True, nullable=True
    )
    sheet: Mapped[str | None] = mapped_column(String(300), nullable=True)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    quartile_version: Mapped[str] = mapped_column(String(64))
    chart_id: Mapped[str | None] = mapped_column(
        ForeignKey("charts.id", ondelete="CASCADE"), index=True, nullable=True
    )
    report_id: Mapped[str | None] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
