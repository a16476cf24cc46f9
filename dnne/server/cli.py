"""`dnne serve`: start the visual editor (typer-compatible function; `dnne.cli` registers it)."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import typer

from dnne.errors import DnneError


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
        typer.echo(f"error: dnne serve needs the editor extra: pip install 'dnne[editor]' ({exc})", err=True)
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

    web.run_app(
        app,
        host=host,
        port=port,
        print=announce,
        access_log=None,
        handle_signals=True,
    )


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:
        return "this user"


def main() -> None:
    typer.run(serve)
