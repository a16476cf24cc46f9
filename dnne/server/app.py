"""The aiohttp application behind `dnne serve`."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from dnne.server.examples import seed_examples
from dnne.server.exporting import MAX_BODY_BYTES, BadRequest
from dnne.server.frontend import WEB_DIR, frontend_static_dir
from dnne.server.paths import PathRejected
from dnne.server.routes_editor import add_editor_routes
from dnne.server.routes_prompt import add_prompt_routes
from dnne.server.routes_userdata import add_userdata_routes
from dnne.server.state import STATE_KEY, ServerState, log

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
REMOTE_KEY: web.AppKey[bool] = web.AppKey("dnne_allow_remote", bool)
STATIC_KEY: web.AppKey[Path] = web.AppKey("dnne_static_dir", Path)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(value: str) -> str:
    return (urlsplit("//" + value).hostname or "").lower()


@web.middleware
async def guard(request: web.Request, handler):
    """Refuse DNS-rebinding (a non-loopback Host while local-only) and cross-site writes (Origin ≠ Host)."""
    if not request.app[REMOTE_KEY] and not _is_loopback(_host_name(request.host)):
        return web.Response(status=403, text="dnne serve only answers to localhost (start it with --allow-remote)")
    origin = request.headers.get("Origin")
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS") or request.path == "/ws"
    if unsafe and origin and origin != "null" and urlsplit(origin).netloc.lower() != request.host.lower():
        return web.Response(status=403, text="cross-origin request refused")
    return await handler(request)


@web.middleware
async def bad_requests(request: web.Request, handler):
    """Turn malformed requests into 4xx answers."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return web.json_response({"error": {"type": "invalid_request", "message": str(exc)}}, status=400)
    except PathRejected as exc:
        return web.Response(status=403, text=f"rejected path: {exc}")


async def _log_response(request: web.Request, response: web.StreamResponse) -> None:
    """One log line per answered request, with its final status (`METHOD path status`)."""
    log.info("%s %s %d", request.method, request.path_qs, response.status)


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(request.app[STATIC_KEY] / "index.html", headers={"Cache-Control": "no-cache"})


async def user_css(request: web.Request) -> web.StreamResponse:
    """`/user.css` (linked from index.html): the work directory's user.css, else an empty stylesheet."""
    path = request.app[STATE_KEY].workdir / "user.css"
    if path.is_file():
        return web.FileResponse(path, headers={"Content-Type": "text/css"})
    return web.Response(text="", content_type="text/css")


def create_app(workdir: Path, *, allow_remote: bool = False, max_body: int = MAX_BODY_BYTES) -> web.Application:
    """The editor backend for `workdir` (created if needed; examples copied into workflows/ on first start)."""
    static = frontend_static_dir()
    state = ServerState(Path(workdir))
    copied = seed_examples(state.workflows_dir)
    if copied:
        log.info("copied %d example workflow(s) into %s", len(copied), state.workflows_dir)
    app = web.Application(middlewares=[bad_requests, guard], client_max_size=max_body)
    app[STATE_KEY] = state
    app[REMOTE_KEY] = allow_remote
    app[STATIC_KEY] = static
    add_editor_routes(app)
    add_userdata_routes(app)
    add_prompt_routes(app)
    app.router.add_get("/", index)
    app.router.add_get("/user.css", user_css)
    app.router.add_static("/extensions/dnne/", WEB_DIR)
    app.router.add_static("/", static)
    app.on_response_prepare.append(_log_response)
    app.on_shutdown.append(_shutdown)
    return app


async def _shutdown(app: web.Application) -> None:
    state = app[STATE_KEY]
    if state.run is not None:
        await state.run.interrupt()
    for ws in list(state.sockets):
        await ws.close()
