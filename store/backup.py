"""Backup and restore of the embedded default: one SQLite file and the files directory.

    quartile backup OUT.tar     while the app runs
    quartile restore OUT.tar --into DIR     into an empty (or new) directory

The archive holds `quartile-backup.json` (the format, the database's name and every file's
sha256), `database.sqlite3` (SQLite's online backup of the live database) and `files/…`.

Consistent while the app runs: the backup takes SQLite's write lock (BEGIN IMMEDIATE) and,
holding it, copies the database with the online backup API and hard-links (or, on a file system
without hard links, copies) every stored file into a staging directory. Nothing can commit
meanwhile, and the app writes a file before the row that names it and deletes a file only after
its row's deletion committed, so every row in the copy finds its file. The lock is held for the
database copy and the links only; the archive is written from the staging directory afterwards.
Flask-free: the CLI calls it with the configured paths.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import make_url

from errors import BadInput

FORMAT = "quartile-backup/1"
MANIFEST = "quartile-backup.json"
DATABASE = "database.sqlite3"
FILES = "files"
SKIPPED_DIRS = {"tmp", "cache"}  # partial uploads, the S3 read cache: never part of a dataset
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    files: int
    bytes: int
    database: str  # the database file's name

    def to_dict(self) -> dict:
        return {"path": str(self.path), "files": self.files, "bytes": self.bytes,
                "database": self.database}


def sqlite_path(database_url: str) -> Path:
    """The SQLite file of the configured database (BadInput for any other database)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BadInput("Backup and restore cover the embedded default (a SQLite file). For "
                       "PostgreSQL use pg_dump, and back up the files directory or the object "
                       "store beside it.", code="not_sqlite")
    return Path(url.database).resolve()


def backup(database_url: str, files_dir: Path, out: Path) -> BackupSummary:
    """Write a consistent archive of the database and every stored file to `out`."""
    database = sqlite_path(database_url)
    if not database.exists():
        raise BadInput(f"There is no database at {database}.", code="no_database")
    files_dir = Path(files_dir).resolve()
    out = Path(out).resolve()
    if out.is_relative_to(files_dir):
        raise BadInput("Write the backup outside the files directory it copies.",
                       code="backup_inside")
    skipped = {database.name, f"{database.name}-wal", f"{database.name}-shm",
               f"{database.name}-journal"}
    with tempfile.TemporaryDirectory(dir=files_dir, prefix=".backup-") as staging_name:
        staging = Path(staging_name)
        _snapshot(database, files_dir, staging, skipped)
        manifest = {"format": FORMAT, "database": database.name,
                    "files": {name: _sha256(staging / FILES / name)
                              for name in _relative_files(staging / FILES)}}
        size = sum((staging / FILES / name).stat().st_size for name in manifest["files"])
        partial = out.with_name(f".{out.name}.partial")
        with tarfile.open(partial, "w") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
            archive.add(staging / DATABASE, DATABASE)
            for name in manifest["files"]:
                archive.add(staging / FILES / name, f"{FILES}/{name}")
        os.replace(partial, out)
    return BackupSummary(out, len(manifest["files"]), size, database.name)


def _snapshot(database: Path, files_dir: Path, staging: Path, skipped: set[str]) -> None:
    live = sqlite3.connect(database, timeout=60, isolation_level=None)
    try:
        live.execute("BEGIN IMMEDIATE")  # writers wait (busy timeout) until the links exist
        try:  # the lock's holder may not read for the backup API (SQLITE_LOCKED): another may
            reader = sqlite3.connect(database, timeout=60)
            copy = sqlite3.connect(staging / DATABASE)
            try:
                reader.backup(copy)
            finally:
                copy.close()
                reader.close()
            for name in _relative_files(files_dir, skipped):
                target = staging / FILES / name
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(files_dir / name, target)
                except FileNotFoundError:
                    continue  # deleted after its row (whose deletion committed) before the lock
                except OSError:
                    shutil.copy2(files_dir / name, target)
        finally:
            live.execute("ROLLBACK")
    finally:
        live.close()


def _relative_files(root: Path, skipped: set[str] = frozenset()) -> list[str]:
    """Every file under root, relative, sorted; at the top: no tmp/, staging or database files."""
    names = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        if here == root:
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".backup-")]
            files = [f for f in files if f not in skipped]
        dirs.sort()
        names.extend((here / f).relative_to(root).as_posix() for f in sorted(files))
    return names


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    archive.addfile(info, io.BytesIO(data))


# -- restore ----------------------------------------------------------------------------------
def restore(archive_path: Path, target: Path) -> dict:
    """Unpack a backup into `target` (new or empty): the files, and the database as
    target/<its backed-up name>. Every member's name and sha256 is checked first."""
    target = Path(target).resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BadInput(f"{target} is not empty: restore into a new or empty directory, so "
                       "nothing there is overwritten.", code="target_not_empty")
    try:
        archive = tarfile.open(archive_path, "r")
    except (OSError, tarfile.TarError) as exc:
        raise BadInput(f"{archive_path} is not a Quartile backup ({exc}).",
                       code="not_a_backup") from None
    with archive:
        members = {member.name: member for member in archive.getmembers()}
        manifest = _manifest(archive, members)
        expected = {f"{FILES}/{name}" for name in manifest["files"]} | {MANIFEST, DATABASE}
        for name, member in members.items():
            _check_member(name, member, expected)
        missing = sorted(expected - set(members))
        if missing:
            raise BadInput(f"The backup lacks {missing[0]}.", code="not_a_backup")
        target.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(dir=target, prefix=".restore-"))
        try:
            archive.extractall(partial, members=[members[n] for n in sorted(expected - {MANIFEST})],
                               filter="data")
            for name, sha256 in manifest["files"].items():
                if _sha256(partial / FILES / name) != sha256:
                    raise BadInput(f"{name} in the backup does not match its checksum.",
                                   code="backup_corrupt")
            _check_database(partial / DATABASE)
            (partial / FILES).mkdir(exist_ok=True)
            for child in sorted((partial / FILES).iterdir()):
                os.replace(child, target / child.name)
            os.replace(partial / DATABASE, target / manifest["database"])
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            for child in target.iterdir():  # the directory was empty: leave it so
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            raise
        shutil.rmtree(partial)
    return {"files": len(manifest["files"]), "database": str(target / manifest["database"])}


def _manifest(archive: tarfile.TarFile, members: dict) -> dict:
    member = members.get(MANIFEST)
    if member is None or not member.isfile():
        raise BadInput("This archive is not a Quartile backup (no quartile-backup.json).",
                       code="not_a_backup")
    try:
        manifest = json.loads(archive.extractfile(member).read())
    except ValueError:
        raise BadInput("The backup's quartile-backup.json is not JSON.",
                       code="not_a_backup") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadInput(f"This backup's format is not {FORMAT}.", code="not_a_backup")
    name, files = manifest.get("database"), manifest.get("files")
    if not isinstance(name, str) or not _plain_name(name) or not isinstance(files, dict):
        raise BadInput("The backup's quartile-backup.json is damaged.", code="not_a_backup")
    for path in files:
        _check_member(f"{FILES}/{path}", None, None)
    return manifest


def _check_member(name: str, member: tarfile.TarInfo | None, expected: set[str] | None) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or name != path.as_posix():
        raise BadInput(f"The backup holds an unsafe path ({name!r}); nothing was restored.",
                       code="unsafe_member")
    if member is not None and not (member.isfile() or member.isdir()):
        raise BadInput(f"The backup holds a link or device ({name!r}); nothing was restored.",
                       code="unsafe_member")
    if expected is not None and member is not None and member.isfile() and name not in expected:
        raise BadInput(f"The backup holds a file its manifest does not list ({name!r}).",
                       code="unsafe_member")


def _plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name


def _check_database(path: Path) -> None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = connection.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BadInput(f"The backup's database is not readable ({exc}).",
                       code="backup_corrupt") from None
    if ok != "ok":
        raise BadInput(f"The backup's database fails SQLite's integrity check ({ok}).",
                       code="backup_corrupt")
