"""Helpers for the editor-server tests: an in-process aiohttp test client on a temporary work directory."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("comfyui_frontend_package", reason="the editor frontend (dnne[editor]) is not installed")

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from dnne.server.app import create_app  # noqa: E402


@contextlib.asynccontextmanager
async def editor_client(workdir: Path, *, as_editor: bool = True, **kwargs):
    """A test client for `dnne serve` on `workdir` (requests go to 127.0.0.1).

    `as_editor`: every request carries what the editor page sends (its own Origin and the write token);
    False gives a client with neither, as another program or page would be.
    """
    app = create_app(workdir, **kwargs)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    headers = editor_headers(app, server.port) if as_editor else None
    client = TestClient(server, headers=headers)
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def editor_headers(app, port: int) -> dict[str, str]:
    """The headers the editor page's writes carry: its own Origin and the server's write token."""
    from dnne.server.app import TOKEN_HEADER
    from dnne.server.state import STATE_KEY

    return {"Origin": f"http://127.0.0.1:{port}", TOKEN_HEADER: app[STATE_KEY].token}


def run(coro):
    return asyncio.run(coro)


def catalog_or_skip():
    """The real catalog; tests that need node types skip (with the reason) while it cannot load."""
    try:
        from dnne.catalog import default_catalog

        catalog = default_catalog()
    except Exception as exc:  # the catalog is assembled by other parts of dnne
        pytest.skip(f"the node catalog does not load yet: {type(exc).__name__}: {exc}")
    if not len(catalog):
        pytest.skip("the node catalog is empty")
    return catalog


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "work"


@pytest.fixture
def client_for():
    """`async with client_for(workdir) as client:` → an aiohttp test client for the editor server."""
    return editor_client


@pytest.fixture
def catalog():
    return catalog_or_skip()
