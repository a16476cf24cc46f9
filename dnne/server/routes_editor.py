"""The routes the ComfyUI frontend calls at start-up (object_info, settings, users, system stats, …) and `/ws`."""

from __future__ import annotations

import json
import platform
import sys
import uuid

from aiohttp import WSMsgType, web

from dnne import __version__
from dnne.server.exporting import BadRequest, read_json
from dnne.server.frontend import FRONTEND_VERSION, extension_urls
from dnne.server.state import STATE_KEY, log

routes = web.RouteTableDef()


def object_info() -> dict:
    """Every dnne node type as ComfyUI node definitions (empty, with a logged error, if the catalog is broken)."""
    try:
        from dnne.catalog import default_catalog

        return default_catalog().object_info()
    except Exception as exc:  # a broken node pack must not take the editor down with it
        log.error("the node catalog could not be loaded: %s: %s", type(exc).__name__, exc)
        return {}


@routes.get("/api/object_info")
async def get_object_info(request: web.Request) -> web.Response:
    return web.json_response(object_info())


@routes.get("/api/object_info/{node_class}")
async def get_object_info_one(request: web.Request) -> web.Response:
    info = object_info()
    name = request.match_info["node_class"]
    return web.json_response({name: info[name]} if name in info else {})


@routes.get("/api/users")
async def get_users(request: web.Request) -> web.Response:
    return web.json_response({"storage": "server", "migrated": True})


@routes.get("/api/settings")
async def get_settings(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].settings.values)


@routes.post("/api/settings")
async def post_settings(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise BadRequest("settings must be a JSON object")
    for key in body:
        checked_id(key, "setting id")
    request.app[STATE_KEY].settings.update(body)
    return web.Response(status=200)


@routes.get("/api/settings/{setting_id}")
async def get_setting(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE_KEY].settings.get(request.match_info["setting_id"]))


MAX_ID_CHARS = 256  # a setting id, client id or prompt id


def checked_id(value: str, what: str) -> str:
    if len(value) > MAX_ID_CHARS:
        raise BadRequest(f"the {what} is {len(value):,} characters long (at most {MAX_ID_CHARS})", "E_NAME_TOO_LONG")
    return value


@routes.post("/api/settings/{setting_id}")
async def post_setting(request: web.Request) -> web.Response:
    setting_id = checked_id(request.match_info["setting_id"], "setting id")
    value = await read_json(request)
    request.app[STATE_KEY].settings.update({setting_id: value})
    return web.Response(status=200)


def _torch_version() -> str:
    module = sys.modules.get("torch")
    if module is not None:
        return str(getattr(module, "__version__", ""))
    try:
        from importlib.metadata import version

        return version("torch")
    except Exception:
        return ""


@routes.get("/api/system_stats")
async def system_stats(request: web.Request) -> web.Response:
    try:
        import os

        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        free = os.sysconf("SC_AVPHYS_PAGES") * page_size
        total = pages * page_size
    except (ValueError, OSError, AttributeError):
        total = free = 0
    system = {
        "os": sys.platform,
        "ram_total": total,
        "ram_free": free,
        "comfyui_version": __version__,
        "required_frontend_version": FRONTEND_VERSION,
        "python_version": sys.version,
        "pytorch_version": _torch_version(),
        "embedded_python": False,
        # the frontend skips its release check (a request to api.comfy.org at every start) for this flag
        "argv": ["dnne", "serve", "--disable-api-nodes"],
        "dnne_version": __version__,
        "machine": platform.machine(),
    }
    return web.json_response({"system": system, "devices": []})


async def _empty_object(request: web.Request) -> web.Response:
    return web.json_response({})


async def _empty_list(request: web.Request) -> web.Response:
    return web.json_response([])


async def get_extensions(request: web.Request) -> web.Response:
    return web.json_response(extension_urls())


async def free_memory(request: web.Request) -> web.Response:
    return web.Response(status=200)


@routes.get("/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    state = request.app[STATE_KEY]
    sid = checked_id(request.query.get("clientId") or uuid.uuid4().hex, "client id")
    ws = web.WebSocketResponse(heartbeat=30, max_msg_size=1024 * 1024)
    await ws.prepare(request)
    state.sockets.add(ws)
    try:
        status = {"status": {"exec_info": {"queue_remaining": state.queue_remaining()}}, "sid": sid}
        await ws.send_str(json.dumps({"type": "status", "data": status}))
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                try:
                    kind = json.loads(msg.data).get("type")
                except (ValueError, AttributeError):
                    continue
                if kind == "feature_flags":
                    await ws.send_str(json.dumps({"type": "feature_flags", "data": {}}))
            elif msg.type == WSMsgType.ERROR:
                break
    finally:
        state.sockets.discard(ws)
    return ws


def add_editor_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
    add = app.router.add_get
    for path in (
        "/api/features",
        "/api/i18n",
        "/api/global_subgraphs",
        "/api/node_replacements",
        "/api/workflow_templates",
        "/internal/folder_paths",
    ):
        add(path, _empty_object)
    for path in ("/api/embeddings", "/api/experiment/models", "/api/models"):
        add(path, _empty_list)
    add("/api/extensions", get_extensions)
    app.router.add_post("/api/free", free_memory)
