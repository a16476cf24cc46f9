"""The ComfyUI custom-node pack surface: node mappings, the editor extension folder and the `/dnne/export` route."""

from __future__ import annotations

import logging
from pathlib import Path

from dnne import __version__
from dnne.catalog import default_catalog
from dnne.comfyui.nodes import build_mappings, unprefixed

log = logging.getLogger("dnne.comfyui")

# the same extension script `dnne serve` lists (absolute: ComfyUI joins it onto the pack folder, which keeps it)
WEB_DIRECTORY = str(Path(__file__).resolve().parent.parent / "server" / "web")
NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS = build_mappings(default_catalog())  # keys `dnne.<key>`

_registered = False


def exports_root() -> Path:
    """Where exports from inside ComfyUI go: `<ComfyUI output dir>/dnne_exports` (else ./dnne_exports)."""
    try:
        import folder_paths  # ComfyUI's module

        base = Path(folder_paths.get_output_directory())
    except ImportError:
        base = Path.cwd()
    root = base / "dnne_exports"
    root.mkdir(parents=True, exist_ok=True)
    return root


async def dnne_info(request):
    from aiohttp import web

    # `run: false`: inside ComfyUI the extension offers no "Export and run" (runs are `dnne serve`'s)
    return web.json_response({"dnne_version": __version__, "host": "comfyui", "run": False})


def add_routes(routes) -> None:
    """Register `POST /dnne/export` and `GET /dnne/info` on an aiohttp `RouteTableDef` (ComfyUI's `routes`)."""
    from dnne.server.exporting import make_export_handler

    known = set(default_catalog().keys())
    routes.post("/dnne/export")(make_export_handler(exports_root, prepare=lambda body: unprefixed(body, known)))
    routes.get("/dnne/info")(dnne_info)


def register_with_comfyui() -> bool:
    """Add the routes to ComfyUI's running `PromptServer` (once); False when not inside ComfyUI."""
    global _registered
    if _registered:
        return True
    try:
        from server import PromptServer  # ComfyUI's module
    except ImportError:
        return False
    instance = getattr(PromptServer, "instance", None)
    if instance is None:
        return False
    add_routes(instance.routes)
    _registered = True
    log.info("dnne %s: %d node types, export route /dnne/export", __version__, len(NODE_CLASS_MAPPINGS))
    return True
