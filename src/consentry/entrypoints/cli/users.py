"""`consentry user`: create, list and disable the admin app's users."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from consentry.domain.users import Role
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.output import handled
from consentry.services import users

app = typer.Typer(help="Create, list and disable the admin app's users.", no_args_is_help=True)


@app.command("create")
@handled
def user_create(
    email: Annotated[str, typer.Argument(help="The user's e-mail address (their login).")],
    role: Annotated[Role, typer.Option("--role", help="beheerder, marketeer, privacy_officer or read_only.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input's first line.")
    ] = False,
) -> None:
    """Create a user (the first beheerder, say); the password is asked for, or read from stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Wachtwoord / password", hide_input=True, confirmation_prompt=True)
    user = users.create_user(accounts(current()), email, role, password, actor=None)
    typer.echo(f"created {user.email} ({user.role.value})")


@app.command("list")
@handled
def user_list() -> None:
    """List the users, their roles, second factor and state."""
    for u in users.list_users(accounts(current())):
        state = f"disabled {u.disabled_at:%Y-%m-%d}" if u.disabled_at else "active"
        factor = "totp" if u.has_second_factor else "-"
        typer.echo(f"{u.email:40} {u.role.value:16} {factor:5} {state}")


@app.command("disable")
@handled
def user_disable(email: Annotated[str, typer.Argument(help="The user's e-mail address.")]) -> None:
    """Disable a user: no more logins, and their open sessions end at once."""
    user = users.disable_user(accounts(current()), email, actor=None)
    typer.echo(f"disabled {user.email}")
