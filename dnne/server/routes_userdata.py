"""`/api/userdata`: the editor's file storage (saved workflows, user.css, …), confined to the work directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from aiohttp import web

from dnne.server.exporting import BadRequest
from dnne.server.paths import confine, relative_posix
from dnne.server.state import STATE_KEY, write_atomic

routes = web.RouteTableDef()

# files the frontend asks for at start-up; answered with an empty default until the user saves their own
DEFAULT_FILES = {
    "user.css": ("", "text/css"),
    "comfy.templates.json": ("[]", "application/json"),
    "workflows/.index.json": ('{"favorites": []}', "application/json"),  # workflow bookmarks
}


def _file_info(path: Path, root: Path) -> dict:
    stat = path.stat()
    return {
        "path": relative_posix(path, root),
        "size": stat.st_size,
        "modified": int(stat.st_mtime * 1000),
        "created": int(stat.st_ctime * 1000),
    }


def _flag(request: web.Request, key: str, default: str) -> bool:
    return request.query.get(key, default).lower() == "true"


def _target(request: web.Request, param: str = "file") -> Path:
    """The confined path of a route parameter (`PathRejected` becomes a coded 4xx answer in app.bad_requests)."""
    return confine(request.app[STATE_KEY].workdir, request.match_info.get(param, ""))


@routes.get("/api/userdata")
async def list_userdata(request: web.Request) -> web.Response:
    root = request.app[STATE_KEY].workdir
    directory = request.query.get("dir", "")
    if not directory:
        return web.Response(status=400, text="Directory not provided")
    folder = confine(root, directory)
    if not folder.is_dir():
        return web.Response(status=404, text="Directory not found")
    recurse, full_info, split = (
        _flag(request, "recurse", ""),
        _flag(request, "full_info", ""),
        _flag(request, "split", ""),
    )
    candidates = folder.rglob("*") if recurse else folder.glob("*")
    results = []
    for path in sorted(candidates):
        # never follow a link out of the work directory while listing
        if not path.is_file() or not os.path.realpath(path).startswith(str(root) + os.sep):
            continue
        if full_info:
            results.append(_file_info(path, folder))
            continue
        rel = relative_posix(path, folder)
        results.append([rel, *rel.split("/")] if split else rel)
    return web.json_response(results)


@routes.get("/api/userdata/{file}")
async def get_userdata(request: web.Request) -> web.StreamResponse:
    path = _target(request)
    if not path.is_file():
        default = DEFAULT_FILES.get(request.match_info["file"])
        if default is not None:
            return web.Response(text=default[0], content_type=default[1])
        return web.Response(status=404, text="File not found")
    is_css = path.name == "user.css" and path.parent == request.app[STATE_KEY].workdir
    content_type = "text/css" if is_css else ("application/json" if path.suffix == ".json" else "text/plain")
    headers = {"X-Content-Type-Options": "nosniff", "Content-Type": content_type}
    if not is_css and path.suffix != ".json":
        headers["Content-Disposition"] = "attachment"
    return web.FileResponse(path, headers=headers)


def _check_strict_json(body: bytes) -> None:
    """A saved .json file must be strict JSON: a NaN in a workflow would break the editor when it loads it again."""
    from dnne.workflow.parse import parse_json  # the one strict JSON reader

    _, problems = parse_json(body, max_bytes=len(body))
    if problems:
        raise BadRequest(f"a .json file must be valid strict JSON: {problems[0].format()}", problems[0].code)


@routes.post("/api/userdata/{file}")
async def post_userdata(request: web.Request) -> web.Response:
    root = request.app[STATE_KEY].workdir
    path = _target(request)
    if not _flag(request, "overwrite", "true") and path.exists():
        return web.Response(status=409, text="File already exists")
    if path.is_dir():
        return web.Response(status=400, text="A folder of that name exists")
    body = await request.read()
    if path.suffix.lower() == ".json":
        _check_strict_json(body)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, body)
    except OSError as exc:
        return web.Response(status=400, text=f"could not save the file: {exc.strerror or exc}")
    if _flag(request, "full_info", "false"):
        return web.json_response(_file_info(path, root))
    return web.json_response(relative_posix(path, root))


@routes.delete("/api/userdata/{file}")
async def delete_userdata(request: web.Request) -> web.Response:
    path = _target(request)
    if not path.is_file():
        return web.Response(status=404, text="File not found")
    path.unlink()
    return web.Response(status=204)


@routes.post("/api/userdata/{file}/move/{dest}")
async def move_userdata(request: web.Request) -> web.Response:
    root = request.app[STATE_KEY].workdir
    source, dest = _target(request), _target(request, "dest")
    if not source.is_file():
        return web.Response(status=404, text="File not found")
    if not _flag(request, "overwrite", "true") and dest.exists():
        return web.Response(status=409, text="File already exists")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, dest)
    if _flag(request, "full_info", "false"):
        return web.json_response(_file_info(dest, root))
    return web.json_response(relative_posix(dest, root))


def add_userdata_routes(app: web.Application) -> None:
    app.router.add_routes(routes)
