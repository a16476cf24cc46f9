"""`dnne serve`: start the visual editor (typer-compatible function; `dnne.cli` registers it)."""

from __future__ import annotations

import errno
import logging
import re
import sys
from pathlib import Path

import typer

from dnne.errors import DnneError

# dnne is installed from its clone (it is not on PyPI): the Makefile target adds the extra to the project's venv
EDITOR_INSTALL_HINT = "Install it with `make serve` in the dnne clone, or: .venv/bin/pip install -e '.[editor]'"


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to bind. Anything but loopback needs --allow-remote."),
    port: int = typer.Option(8188, min=0, max=65535, help="TCP port (0 = pick a free one)."),
    workdir: Path = typer.Option(
        Path("dnne-workdir"), help="Folder for settings, saved workflows (workflows/), exports/ and runs/."
    ),
    allow_remote: bool = typer.Option(
        False,
        "--allow-remote",
        help="Allow binding a non-loopback interface. The editor can run code: trust the network.",
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Log every request."),
) -> None:
    """Serve the node editor (the pinned ComfyUI frontend) with dnne's nodes, export and run."""
    try:
        from aiohttp import web

        from dnne.server.app import _is_loopback, create_app
    except ImportError as exc:
        typer.echo(f"error: dnne serve needs the editor extra ({exc}). {EDITOR_INSTALL_HINT}", err=True)
        raise typer.Exit(2) from None

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("dnne.server").setLevel(logging.INFO if verbose else logging.WARNING)
    if not _is_loopback(host):
        if not allow_remote:
            typer.echo(
                f"error: refusing to bind {host!r}: the editor can export and run code on this machine.\n"
                "Bind 127.0.0.1 (the default), or pass --allow-remote if every host that can reach it is trusted.",
                err=True,
            )
            raise typer.Exit(2)
        typer.echo(
            f"WARNING: serving on {host}: anyone who can reach this port can run code as {_user()} on this machine.",
            err=True,
        )
    try:
        app = create_app(workdir, allow_remote=allow_remote)
    except DnneError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    def announce(message: str) -> None:
        urls = re.findall(r"https?://\S+", message)  # aiohttp's text names the bound address (port 0 resolved)
        typer.echo(f"dnne editor: {urls[0] if urls else message}  (work directory: {workdir.resolve()})")

    try:
        web.run_app(
            app,
            host=host,
            port=port,
            print=announce,
            access_log=None,
            handle_signals=True,
        )
    except OSError as exc:
        # aiohttp raises at bind time; a traceback says nothing a user can act on
        if exc.errno == errno.EADDRINUSE:
            typer.echo(f"error: port {port} on {host} is already in use. {_free_port_hint(host)}", err=True)
        elif exc.errno == errno.EACCES:
            typer.echo(f"error: no permission to bind port {port} on {host}. {_free_port_hint(host)}", err=True)
        else:
            typer.echo(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None


def _free_port_hint(host: str) -> str:
    """Suggest a port that is free right now (the OS picks it), or port 0, which lets dnne pick one."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, 0))
            free = probe.getsockname()[1]
    except OSError:
        return "Pass another one with --port N, or --port 0 to pick a free one."
    return f"Try --port {free} (free now), or --port 0 to pick a free one."


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "this user"


def main() -> None:
    typer.run(serve)
