"""`arbitrage users ...` and shared CLI helpers for the capability layer."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
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


def warn_secret_flags(**given: str | None) -> None:
    """Secrets typed as flags stay in the shell history and the process list: say so."""
    flags = [f"--{name.replace('_', '-')}" for name, value in given.items() if value]
    if flags:
        err_console.print(
            f"[yellow]warning: {', '.join(flags)} on the command line ends up in "
            "your shell history and is visible to other processes; leave it "
            "out to be prompted, or pipe it on standard input[/yellow]"
        )


users_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)


def _prompt_password(confirm: bool = True) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            raise typer.BadParameter("no password given on standard input")
        return line
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return password


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

    warn_secret_flags(password=password)
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
    table = Table("name", "role", "state", "seller id", "created")
    with session_scope(settings) as session:
        for u in list_users(session):
            table.add_row(
                u.name,
                u.role.value,
                "disabled" if u.disabled else "active",
                u.seller_id or "-",
                f"{u.created_at:%Y-%m-%d}",
            )
    console.print(table)


@users_app.command("passwd")
@friendly_errors(UserError)
def users_passwd(
    name: str,
    password: Annotated[str | None, typer.Option(help="else prompted (or read from stdin)")] = None,
) -> None:
    """Set a user's password; the user's signed-in sessions end."""
    from tools.db import migrate, session_scope
    from tools.users import set_password

    warn_secret_flags(password=password)
    settings = load_settings_or_exit()
    migrate(settings)
    pw = password or _prompt_password()
    with session_scope(settings) as session:
        set_password(session, name, pw)
    console.print(f"password changed for [bold]{name}[/bold]; their sessions are signed out")


class RoleName(StrEnum):
    admin = "admin"
    user = "user"


@users_app.command("role")
@friendly_errors(UserError)
def users_role(
    name: str,
    role: Annotated[RoleName, typer.Argument(help="admin or user")],
) -> None:
    """Make a user an admin or a seller; their signed-in sessions end (the role applies at
    once)."""
    from tools.db import migrate, session_scope
    from tools.models import Role
    from tools.users import set_role

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        set_role(session, name, Role(role.value))
    console.print(f"[bold]{name}[/bold] is now {role.value}; their sessions are signed out")


@users_app.command("disable")
@friendly_errors(UserError)
def users_disable(name: str) -> None:
    """Disable an account: it cannot sign in and its open sessions end at once."""
    from tools.db import migrate, session_scope
    from tools.users import set_disabled

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        set_disabled(session, name, True)
    console.print(f"[bold]{name}[/bold] is disabled; their sessions are signed out")


@users_app.command("enable")
@friendly_errors(UserError)
def users_enable(name: str) -> None:
    """Let a disabled account sign in again."""
    from tools.db import migrate, session_scope
    from tools.users import set_disabled

    settings = load_settings_or_exit()
    migrate(settings)
    with session_scope(settings) as session:
        set_disabled(session, name, False)
    console.print(f"[bold]{name}[/bold] can sign in again")
