"""``everyclaim serve`` (the web work queue) and ``everyclaim users reset-password``.

    everyclaim serve --host 127.0.0.1 --port 8000 [--db URL] [--workers N]
    everyclaim users reset-password NAME          # prompts; or --password-stdin

The server logs one line per request (method, route template, status, milliseconds): never the
filled-in path or query, which can carry a claim number.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from typing import Annotated

import typer
from rich.console import Console

from everyclaim.cli.options import DbOption, open_ledger
from everyclaim.ledger import db as ledger_db

out = Console()
err = Console(stderr=True)


def register(app: typer.Typer, users_app: typer.Typer) -> None:
    app.command("serve")(serve)
    users_app.command("reset-password")(reset_password)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    db: DbOption = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes (more than 1 needs "
                                         "EVERYCLAIM_SECRET_KEY, so every process signs sessions alike).")] = 1,
) -> None:
    """Serve the web work queue (FastAPI + uvicorn) on the database, migrating it first."""
    import os

    import uvicorn

    from everyclaim.web.app import DB_ENV, SECRET_ENV, WebSettings, create_app

    url = ledger_db.resolve_url(db)
    open_ledger(db).dispose()  # migrate to the current schema
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings = WebSettings.from_env()
    except ValueError as exc:
        err.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(2) from None
    if not _loopback(host):
        err.print(f"[yellow]note[/yellow]: listening on {host}; put a TLS proxy in front (session cookies are "
                  f"marked Secure when the request arrives over https) and set {SECRET_ENV}.")
    if workers > 1 and not os.environ.get(SECRET_ENV):
        err.print(f"[red]error[/red]: --workers {workers} needs {SECRET_ENV} (each process would sign sessions "
                  "with its own random key)")
        raise typer.Exit(2)
    out.print(f"everyclaim web on http://{host}:{port}/  (database {ledger_db.redact(url)}, {workers} "
              f"process{'es' if workers > 1 else ''}; Ctrl+C stops)")
    common = {"host": host, "port": port, "log_level": log_level, "access_log": False, "proxy_headers": True,
              "server_header": False}
    if workers == 1:
        uvicorn.run(create_app(url, settings), **common)  # type: ignore[arg-type]
        return
    os.environ[DB_ENV] = url  # the processes build their app from the environment
    uvicorn.run("everyclaim.web.app:app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]


def reset_password(
    username: Annotated[str, typer.Argument(help="The user whose password to set.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
    db: DbOption = None,
) -> None:
    """Set a user's password (ends their sessions). Prompts unless --password-stdin."""
    from everyclaim.work import users as work_users
    from everyclaim.work.errors import WorkError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    engine = open_ledger(db)
    try:
        with engine.begin() as conn:
            user = work_users.get_by_username(conn, username)
            work_users.set_password(conn, None, user.id, password)
    except WorkError as exc:
        err.print(f"[red]{exc.code}[/red]: {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    out.print(f"password of {username} set; their open sessions have ended")
