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
