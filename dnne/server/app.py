"""The aiohttp application behind `dnne serve`."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from dnne.server.examples import seed_examples
from dnne.server.exporting import MAX_BODY_BYTES, BadRequest
from dnne.server.frontend import WEB_DIR, frontend_static_dir
from dnne.server.node_errors import plain_error
from dnne.server.paths import PathRejected
from dnne.server.routes_cockpit import add_cockpit_routes
from dnne.server.routes_editor import add_editor_routes
from dnne.server.routes_prompt import add_prompt_routes, stop_everything
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


# The custom header that carries the per-server write token. A cross-site form, `sendBeacon` or a no-cors fetch
# cannot set it, and a page of another origin cannot read the token (GET /dnne/session has no CORS headers).
TOKEN_HEADER = "X-DNNE-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _refuse(status: int, code: str, message: str) -> web.Response:
    return web.json_response(plain_error("forbidden", message, code=code), status=status)


def _from_own_origin(request: web.Request) -> bool:
    """The request's `Origin` is this server's own (`null`, a missing Origin or another port are not)."""
    parts = urlsplit(request.headers.get("Origin", ""))
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.host.lower()


@web.middleware
async def guard(request: web.Request, handler):
    """Refuse DNS rebinding (a non-loopback Host while local-only) and every write or websocket from another page.

    A write is any method but GET/HEAD/OPTIONS, on any route: it needs the editor's own Origin AND the write token
    (`TOKEN_HEADER`), which the editor extension fetches same-origin. A websocket needs the editor's own Origin
    (browsers always send it on upgrades; they cannot add custom headers there).
    """
    if not request.app[REMOTE_KEY] and not _is_loopback(_host_name(request.host)):
        return _refuse(403, "E_HOST_REFUSED", "dnne serve only answers to localhost (start it with --allow-remote)")
    websocket = request.headers.get("Upgrade", "").lower() == "websocket" or request.path == "/ws"
    if websocket or request.method not in SAFE_METHODS:
        if not _from_own_origin(request):
            origin = request.headers.get("Origin")
            return _refuse(403, "E_ORIGIN_REFUSED", f"cross-origin request refused (Origin: {origin!r})")
        if not websocket:
            token = request.headers.get(TOKEN_HEADER, "")
            if not secrets.compare_digest(token.encode(), request.app[STATE_KEY].token.encode()):
                return _refuse(403, "E_TOKEN_REQUIRED", f"a write needs the editor's {TOKEN_HEADER} header")
    return await handler(request)


async def session(request: web.Request) -> web.Response:
    """The write token, for the editor page only: same-origin reads (fetch metadata, when sent, must say so)."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site not in (None, "same-origin", "none") or (
        "Origin" in request.headers and not _from_own_origin(request)
    ):
        return _refuse(403, "E_ORIGIN_REFUSED", "the session token is only given to the editor page itself")
    body = {"token": request.app[STATE_KEY].token, "header": TOKEN_HEADER}
    return web.json_response(body, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


_HTTP_CODES = {404: "E_NOT_FOUND", 405: "E_METHOD_NOT_ALLOWED", 413: "E_BODY_TOO_LARGE", 403: "E_FORBIDDEN"}


@web.middleware
async def bad_requests(request: web.Request, handler):
    """Turn malformed requests into coded 4xx JSON answers (never a 500 for bad input)."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return web.json_response(plain_error("invalid_request", str(exc), code=exc.code), status=exc.status)
    except PathRejected as exc:
        return web.json_response(
            plain_error("rejected_path", f"rejected path: {exc}", code=exc.code), status=exc.status
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, f"E_HTTP_{exc.status}")
        return web.json_response(plain_error("http_error", exc.text or exc.reason, code=code), status=exc.status)
    except RecursionError:
        body = plain_error("invalid_request", "the request is nested too deeply", code="E_TOO_LARGE")
        return web.json_response(body, status=400)


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
    add_cockpit_routes(app)
    app.router.add_get("/dnne/session", session)
    app.router.add_get("/api/dnne/session", session)
    app.router.add_get("/", index)
    app.router.add_get("/user.css", user_css)
    app.router.add_static("/extensions/dnne/", WEB_DIR)
    app.router.add_static("/", static)
    app.on_response_prepare.append(_log_response)
    app.on_shutdown.append(_shutdown)
    return app


async def _shutdown(app: web.Application) -> None:
    """Stop every child this server started (SIGTERM, then SIGKILL) and every background task, then the sockets."""
    state = app[STATE_KEY]
    await stop_everything(state)
    for ws in list(state.sockets):
        await ws.close()
