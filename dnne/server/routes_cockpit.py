"""What the editor needs beyond export and run: the Templates panel, the Logs panel and the history of runs.

* `GET /templates/index.json`: the bundled examples as the frontend's core template index (one "dnne" category,
  title + description each); `GET /templates/<name>.json` the workflow, `index_logo.json` (no logos), `GET /templates/<name>-1.svg` its card.
* `GET /internal/logs`, `/internal/logs/raw`, `PATCH /internal/logs/subscribe`: the output of runs started here
  (the runner's stdout/stderr lines, also pushed live as `logs` websocket messages).
* `GET /dnne/runs?export=<name>`: the runs kept in `<workdir>/runs/<export>/`, newest first, each with its final
  numbers from `metrics.jsonl`; `GET /dnne/runs/<export>/<run>/metrics`: that run's metrics records (for plotting).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from dnne.server.examples import EXAMPLES, examples_dirs
from dnne.server.paths import PathRejected, confine, sanitize_name
from dnne.server.state import STATE_KEY

MAX_RUNS_LISTED = 100
MAX_METRICS_RECORDS = 20_000  # one run's records sent for plotting (a long RL run writes one per update)


def _example_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in examples_dirs():
        for path in sorted(folder.glob("*.json")):
            found.setdefault(path.stem, path)
    return found


def template_index() -> list[dict[str, Any]]:
    """The frontend's core-template index (`[{moduleName, title, type, templates: [...]}]`) for the examples."""
    templates = []
    for name in _example_files():
        title, description = EXAMPLES.get(name, (name.replace("_", " "), "A dnne example workflow."))
        templates.append({"name": name, "title": title, "description": description, "mediaType": "image",
                          "mediaSubtype": "svg", "tags": ["dnne"], "username": "dnne"})  # fmt: skip
    return [{"moduleName": "default", "category": "dnne", "title": "dnne examples", "icon": "icon-[lucide--brain]",
             "type": "image", "templates": templates}]  # fmt: skip


async def get_template_index(request: web.Request) -> web.Response:
    return web.json_response(template_index())


def _card(title: str) -> str:
    """A small SVG card for a template (no network, no image files to ship)."""
    text = html.escape(title)
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512" viewBox="0 0 512 512">'
            '<rect width="512" height="512" fill="#1f2937"/><g fill="#60a5fa">'
            '<circle cx="140" cy="200" r="28"/><circle cx="256" cy="140" r="28"/><circle cx="256" cy="260" r="28"/>'
            '<circle cx="372" cy="200" r="28"/></g><g stroke="#93c5fd" stroke-width="6">'
            '<line x1="140" y1="200" x2="256" y2="140"/><line x1="140" y1="200" x2="256" y2="260"/>'
            '<line x1="256" y1="140" x2="372" y2="200"/><line x1="256" y1="260" x2="372" y2="200"/></g>'
            f'<text x="256" y="400" fill="#f9fafb" font-family="sans-serif" font-size="34" text-anchor="middle">{text}'
            "</text></svg>")  # fmt: skip


async def get_template_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name == "index_logo.json":  # provider logos of the frontend's own (cloud) templates: dnne has none
        return web.json_response({})
    files = _example_files()
    if name.endswith(".json") and name[:-5] in files:
        return web.FileResponse(files[name[:-5]], headers={"Content-Type": "application/json"})
    stem = name.rsplit("-", 1)[0]
    if name.endswith(".svg") and stem in files:
        title = EXAMPLES.get(stem, (stem, ""))[0]
        return web.Response(text=_card(title), content_type="image/svg+xml")
    raise web.HTTPNotFound(text=f"no template {name!r}")


async def get_logs(request: web.Request) -> web.Response:
    return web.json_response("".join(e["m"] for e in request.app[STATE_KEY].log_entries))


async def get_raw_logs(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response({"entries": list(state.log_entries), "size": {"cols": 120, "rows": 40}})


async def subscribe_logs(request: web.Request) -> web.Response:
    await request.read()  # every connected editor gets the `logs` messages; nothing to remember per client
    return web.Response(status=200)


def _final_numbers(metrics: Path) -> tuple[dict[str, Any], int]:
    """The last value of every numeric metric in a run's metrics file, and how many records it has."""
    final: dict[str, Any] = {}
    count = 0
    for record in _records(metrics):
        count += 1
        for key, value in record.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                final[key] = value
        if isinstance(record.get("event"), str):
            final["last_event"] = record["event"]
    return final, count


def _records(metrics: Path, limit: int | None = None) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    try:
        with open(metrics, "rb") as fh:
            for raw in fh:
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue  # a partial last line while the run writes, or a hand-edited file
                if isinstance(record, dict):
                    records.append(record)
                    if limit is not None and len(records) >= limit:
                        break
    except OSError:
        return []
    return records


async def list_runs(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    wanted = request.query.get("export")
    exports = [sanitize_name(wanted)] if wanted else sorted(p.name for p in state.runs_dir.iterdir() if p.is_dir())
    runs = []
    for name in exports:
        folder = state.runs_dir / name
        if not folder.is_dir():
            continue
        for run_dir in sorted((p for p in folder.iterdir() if p.is_dir()), reverse=True):
            final, count = _final_numbers(run_dir / "metrics.jsonl")
            active = state.run is not None and state.run.run_dir == run_dir
            runs.append({"export": name, "run": run_dir.name, "run_dir": str(run_dir), "records": count,
                         "final": final, "running": active})  # fmt: skip
    runs.sort(key=lambda r: r["run"], reverse=True)
    return web.json_response({"runs": runs[:MAX_RUNS_LISTED]})


async def run_metrics(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    run_dir = confine(state.runs_dir, f"{request.match_info['export']}/{request.match_info['run']}")
    if run_dir.parent.parent != Path(state.runs_dir).resolve() or not run_dir.is_dir():
        raise PathRejected("not a run folder", "E_NOT_FOUND", 404)
    records = _records(run_dir / "metrics.jsonl", MAX_METRICS_RECORDS)
    return web.json_response({"run_dir": str(run_dir), "records": records})


def add_cockpit_routes(app: web.Application) -> None:
    add = app.router.add_get
    add("/templates/index.json", get_template_index)
    add("/templates/{name}", get_template_file)
    add("/internal/logs", get_logs)
    add("/internal/logs/raw", get_raw_logs)
    app.router.add_patch("/internal/logs/subscribe", subscribe_logs)
    for prefix in ("/dnne", "/api/dnne"):
        add(f"{prefix}/runs", list_runs)
        add(f"{prefix}/runs/{{export}}/{{run}}/metrics", run_metrics)
