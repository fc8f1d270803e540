"""`arbitrage users ...` and shared CLI helpers for the capability layer."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from tools.settings import Settings, SettingsError, get_settings

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def load_settings_or_exit() -> Settings:
    """Settings for a CLI command; an invalid value ends the command with one clear line."""
    try:
        return get_settings()
    except SettingsError as err:
        err_console.print(f"[red]{err}[/red]")
        raise typer.Exit(2) from None


def friendly_errors(*errors: type[Exception]) -> Callable[[F], F]:
    """Turn expected errors into one red line and exit code 1 instead of a traceback."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except errors as err:
                err_console.print(f"[red]{err}[/red]")
                raise typer.Exit(1) from None

        return wrapper  # type: ignore[return-value]

    return decorate


users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


def _prompt_password(confirm: bool = True) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            raise typer.BadParameter("no password given on standard input")
        return line
    return typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)


from tools.users import UserError  # noqa: E402


@users_app.command("add")
@friendly_errors(UserError)
def users_add(
    name: str,
    admin: Annotated[bool, typer.Option("--admin", help="give the admin role")] = False,
    password: Annotated[str | None, typer.Option(help="else prompted (or read from stdin)")] = None,
) -> None:
    """Create a user (a seller, or an admin with --admin)."""
    from tools.db import migrate, session_scope
    from tools.models import Role
    from tools.users import add_user

    settings = load_settings_or_exit()
    migrate(settings)
    pw = password or _prompt_password()
    with session_scope(settings) as session:
        user = add_user(session, name, pw, Role.admin if admin else Role.user)
        console.print(f"created {user.role.value} [bold]{user.name}[/bold]")


@users_app.command("list")
def users_list() -> None:
    """List users and their roles."""
    from tools.db import migrate, session_scope
    from tools.users import list_users

    settings = load_settings_or_exit()
    migrate(settings)
    table = Table("name", "role", "seller id", "created")
    with session_scope(settings) as session:
        for u in list_users(session):
            table.add_row(u.name, u.role.value, u.seller_id or "-", f"{u.created_at:%Y-%m-%d}")
    console.print(table)


@users_app.command("passwd")
@friendly_errors(UserError)
def users_passwd(
    name: str,
    password: Annotated[str | None, typer.Option(help="else prompted (or read from stdin)")] = None,
) -> None:
    """Set a user's password."""
    from tools.db import migrate, session_scope
    from tools.users import set_password

    settings = load_settings_or_exit()
    migrate(settings)
    pw = password or _prompt_password()
    with session_scope(settings) as session:
        set_password(session, name, pw)
    console.print(f"password changed for [bold]{name}[/bold]")
