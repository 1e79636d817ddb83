"""`flask --app app quartile ...`: the command line shares the code paths of the pages and API."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from errors import QuartileError

quartile = AppGroup("quartile", help="Quartile administration and batch commands.")


def fail(exc: QuartileError) -> None:
    """Print a QuartileError the way the API would say it, and exit non-zero."""
    raise click.ClickException(exc.message)


@quartile.command("create-user")
@click.argument("name")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
def create_user_command(name: str, password: str, admin: bool) -> None:
    """Create a user NAME."""
    from web.auth import create_user

    try:
        user = create_user(name, password, is_admin=admin)
    except QuartileError as exc:
        fail(exc)
    click.echo(f"Created user {user.username!r}{' (administrator)' if admin else ''}.")


@quartile.command("create-token")
@click.argument("name")
@click.option("--label", default="cli", help="A name for the token, shown on the account page.")
def create_token_command(name: str, label: str) -> None:
    """Create an API token for user NAME; the token is printed on the last line."""
    from web.auth import create_token, find_user

    try:
        user = find_user(name)
    except QuartileError as exc:
        fail(exc)
    _, clear = create_token(user, label)
    click.echo(f"API token for {user.username!r} (shown once; send as 'Authorization: Bearer'):")
    click.echo(clear)


@quartile.command("purge-trash")
@click.option("--all", "everything", is_flag=True,
              help="Empty every trash now, not only what is older than QUARTILE_TRASH_DAYS.")
def purge_trash_command(everything: bool) -> None:
    """Delete for good what has been in the trash longer than QUARTILE_TRASH_DAYS."""
    from pathlib import Path

    from flask import current_app

    from upload import trash

    files = Path(current_app.config["FILES_DIR"])
    purged = (trash.empty(files) if everything
              else trash.purge_expired(files, current_app.config["TRASH_DAYS"]))
    click.echo(f"Purged {purged} item(s) from the trash.")
    _sweep(SWEEP_GRACE_MINUTES)  # and what interrupted uploads left behind


def owner_for_cli(owner: str | None):
    """--owner NAME, or the local user when log-in is off."""
    from flask import current_app

    from web.auth import find_user, local_user

    if owner:
        return find_user(owner)
    if current_app.config.get("AUTH") == "off":
        return local_user()
    raise click.UsageError("Name the owner with --owner NAME (log-in is on).")


@quartile.command("ingest")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--owner", help="User who owns the datasets (default: the local user if auth is off)."
)
def ingest_command(files: tuple[str, ...], owner: str | None) -> None:
    """Upload FILES through the same path as the upload page and the API."""
    from pathlib import Path

    from flask import current_app

    from upload.service import ingest_upload

    try:
        user = owner_for_cli(owner)
    except QuartileError as exc:
        fail(exc)
    failed = 0
    for name in files:
        try:
            with open(name, "rb") as stream:
                dataset, created = ingest_upload(
                    Path(current_app.config["FILES_DIR"]), user, stream, Path(name).name
                )
        except QuartileError as exc:
            failed += 1
            click.echo(f"{name}: error: {exc.message}", err=True)
            continue
        sheets = ", ".join(
            f"{s['name']} ({s['n_rows']}×{s['n_cols']})" for s in dataset.meta["sheets"]
        )
        state = "stored" if created else "already stored"
        click.echo(f"{dataset.id}\t{name}: {state}; sheets: {sheets}")
    if failed:
        raise SystemExit(1)


@quartile.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, writable=True))
def backup_command(out: str) -> None:
    """Write the SQLite database and every stored file to the tar archive OUT, consistently,
    while the app runs (store/backup.py)."""
    from pathlib import Path

    from flask import current_app

    from store import backup
    from store.storage import default_url

    stored_in = current_app.extensions["quartile_objects"].url
    if stored_in != default_url(current_app.config["FILES_DIR"]):
        raise click.ClickException(
            f"backup covers the embedded default (SQLite and the files under "
            f"QUARTILE_FILES_DIR); this Quartile stores its files in {stored_in}: back up that "
            "store with its own tools (versioning, replication) and the database with its own.")
    try:
        summary = backup.backup(current_app.config["SQLALCHEMY_DATABASE_URI"],
                                Path(current_app.config["FILES_DIR"]), Path(out))
    except QuartileError as exc:
        fail(exc)
    click.echo(f"Backed up the database and {summary.files} file(s) "
               f"({summary.bytes / 1e6:.1f} MB) to {summary.path}.")


@quartile.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--into", "target", required=True, type=click.Path(file_okay=False),
              help="A new or empty directory: the restored files directory, database included.")
def restore_command(archive: str, target: str) -> None:
    """Unpack a backup made by `quartile backup` into a new or empty directory."""
    from pathlib import Path

    from store import backup

    try:
        restored = backup.restore(Path(archive), Path(target))
    except QuartileError as exc:
        fail(exc)
    click.echo(f"Restored the database and {restored['files']} file(s) into {target}. Start "
               f"Quartile on them with QUARTILE_FILES_DIR={Path(target).resolve()} and "
               f"QUARTILE_DATABASE_URL=sqlite:///{restored['database']}.")


# -- the object store ----------------------------------------------------------------------------
storage_group = AppGroup("storage", help="The object store: migrate to another one, sweep orphans.")
quartile.add_command(storage_group)
SWEEP_GRACE_MINUTES = 60.0


@storage_group.command("migrate")
@click.option("--to", "target_url", required=True, metavar="URL",
              help="file:///path or s3://bucket/prefix (S3 credentials the standard AWS way).")
def storage_migrate_command(target_url: str) -> None:
    """Copy every stored object to URL, verify each by its sha256, and only then switch to it.

    Re-runnable: objects already there with the same bytes are skipped. Run it last with the
    app stopped, so nothing uploaded meanwhile is left behind; then restart every node."""
    from flask import current_app

    from store import storage, storage_admin

    source = current_app.extensions["quartile_objects"]
    try:
        target = storage.store_from_config(current_app.config, target_url)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if target.url == source.url:
        raise click.ClickException(f"Quartile already stores its files in {source.url}.")
    try:
        result = storage_admin.migrate(source, target, click.echo)
    except QuartileError as exc:
        fail(exc)
    if not result.complete:
        raise click.ClickException(
            f"{len(result.mismatched)} object(s) read back differently from {target.url}; "
            "nothing was switched. Run the command again.")
    storage.record_url(target.url)
    click.echo(f"Copied {result.copied} object(s), {result.already_there} already there; every "
               f"one verified by its sha256. Quartile now stores its files in {target.url}: "
               "restart the app and the workers.")
    explicit = current_app.config.get("STORAGE_URL")
    if explicit and explicit.rstrip("/") != target.url:
        click.echo(f"Warning: QUARTILE_STORAGE_URL={explicit} is set and wins over the "
                   "recorded storage; change or unset it.", err=True)


@storage_group.command("sweep")
@click.option("--grace-minutes", type=float, default=SWEEP_GRACE_MINUTES, show_default=True,
              help="Keep unreferenced objects younger than this (uploads in progress).")
def storage_sweep_command(grace_minutes: float) -> None:
    """Delete stored originals, parses and PDFs that no row needs (interrupted uploads)."""
    _sweep(grace_minutes)


def _sweep(grace_minutes: float) -> None:
    from datetime import timedelta

    from flask import current_app

    from store import storage_admin

    try:
        deleted = storage_admin.sweep(current_app.extensions["quartile_objects"],
                                      timedelta(minutes=grace_minutes))
    except QuartileError as exc:
        fail(exc)
    click.echo(f"Swept {len(deleted)} unreferenced object(s) older than {grace_minutes:g} "
               "minutes.")
