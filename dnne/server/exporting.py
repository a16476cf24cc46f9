"""Export a graph sent by the editor: pick the workflow out of the request, export it, describe the result.

Shared by `dnne serve` (`POST /api/prompt`, `POST /dnne/export`) and the ComfyUI node pack (`POST /dnne/export`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from dnne.errors import Diagnostic, DiagnosticError, DnneError
from dnne.server.node_errors import error_body, plain_error
from dnne.server.paths import sanitize_name

MAX_BODY_BYTES = 16 * 1024 * 1024
log = logging.getLogger("dnne.server")


class BadRequest(ValueError):
    """The request body does not have the expected shape: answered with `status` and the stable `code`."""

    def __init__(self, message: str, code: str = "E_BAD_REQUEST", status: int = 400):
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass
class ExportOutcome:
    name: str
    export_path: Path
    files: list[str]
    runner_py: str
    warnings: list[Diagnostic] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "export_path": str(self.export_path),
            "files": self.files,
            "runner_py": self.runner_py,
            "warnings": [w.to_json() for w in self.warnings],
        }


def workflow_from_prompt_body(body: Any) -> dict:
    """The graph to export from a ComfyUI `/api/prompt` body: the UI workflow when present, else the API prompt."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    extra = body.get("extra_data")
    workflow = None
    if isinstance(extra, dict) and isinstance(extra.get("extra_pnginfo"), dict):
        workflow = extra["extra_pnginfo"].get("workflow")
    if isinstance(workflow, dict):
        return workflow
    prompt = body.get("prompt")
    if isinstance(prompt, dict):
        return prompt
    raise BadRequest("the request has neither extra_data.extra_pnginfo.workflow nor a prompt object")


def workflow_from_export_body(body: Any) -> dict:
    """The graph to export from a `/dnne/export` body `{workflow?, prompt?, name?, run?}`."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    for key in ("workflow", "prompt"):
        if isinstance(body.get(key), dict):
            return body[key]
    raise BadRequest("the request needs a 'workflow' (UI JSON) or 'prompt' (API JSON) object")


def export_name(requested: Any, source: dict) -> str:
    """A safe folder name: the requested name, else the workflow's id, else a content hash (never server state)."""
    if isinstance(requested, str) and requested.strip():
        return sanitize_name(requested)
    workflow_id = source.get("id")
    if isinstance(workflow_id, str) and workflow_id.strip():
        return "workflow_" + sanitize_name(workflow_id)[:12]
    digest = hashlib.sha256(json.dumps(source, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:10]
    return f"workflow_{digest}"


def export_now(source: dict, exports_root: Path, name: str) -> ExportOutcome:
    """Validate and export `source` to `exports_root/name/` (replacing it). Raises `DiagnosticError` if invalid."""
    from dnne.codegen.export import export_workflow  # imported late: the server starts even if codegen is broken

    out_dir = exports_root / name
    result = export_workflow(source, out_dir, name=name)
    files = sorted(Path(f).relative_to(out_dir).as_posix() if Path(f).is_absolute() else str(f) for f in result.files)
    runner = out_dir / "runner.py"
    return ExportOutcome(
        name=name,
        export_path=out_dir,
        files=files,
        runner_py=runner.read_text(encoding="utf-8"),
        warnings=[d for d in result.diagnostics if not d.is_error],
    )


async def export_async(source: dict, exports_root: Path, name: str) -> ExportOutcome:
    return await asyncio.to_thread(export_now, source, exports_root, name)


async def read_json(request: web.Request) -> Any:
    """The body as strict JSON (no NaN/Infinity, duplicate keys or deep nesting); `BadRequest` otherwise."""
    from dnne.workflow.parse import parse_json  # the one strict JSON reader

    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise BadRequest(f"the request body is too large: {exc.text}", "E_BODY_TOO_LARGE", 413) from None
    # the size limit is aiohttp's (client_max_size, answered 413 above); the parser checks only the content
    value, problems = parse_json(raw, max_bytes=len(raw))
    if problems:
        problem = problems[0]
        raise BadRequest(f"the request body is not valid strict JSON: {problem.format()}", problem.code)
    return value


def failure_response(exc: Exception) -> web.Response:
    """The HTTP answer for an export that did not happen."""
    if isinstance(exc, DiagnosticError):
        return web.json_response(error_body(exc.diagnostics), status=400)
    if isinstance(exc, BadRequest):
        return web.json_response(plain_error("invalid_prompt", str(exc), code=exc.code), status=exc.status)
    if isinstance(exc, ImportError):
        body = plain_error("dnne_unavailable", "dnne's exporter could not be imported", f"{type(exc).__name__}: {exc}")
        return web.json_response(body, status=503)
    if isinstance(exc, DnneError):
        return web.json_response(plain_error("dnne_error", str(exc), code="E_DNNE"), status=400)
    if isinstance(exc, RecursionError):  # a graph nested too deeply for the loader: the input's fault
        body = plain_error("invalid_prompt", "the workflow is nested too deeply to load", code="E_TOO_LARGE")
        return web.json_response(body, status=400)
    # a bug in dnne or a node pack, not in the graph: say so instead of an empty 500 page
    log.error("export failed with an internal error", exc_info=exc)
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    body = plain_error("exception_during_validation", f"internal error while exporting: {type(exc).__name__}: {exc}")
    body["error"]["details"] = details
    return web.json_response(body, status=500)


ExportHook = Callable[[ExportOutcome, dict], Awaitable[dict[str, Any]]]


def make_export_handler(
    exports_root: Callable[[], Path],
    after_export: ExportHook | None = None,
    prepare: Callable[[Any], Any] | None = None,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The `POST /dnne/export` handler: body `{workflow|prompt, name?, run?}` → `{export_path, files, runner_py, …}`.

    `prepare(body)` may rewrite the body first (the ComfyUI pack maps its prefixed node keys back to dnne's);
    `after_export(outcome, body)` may add keys to the answer (the editor server starts a run there).
    """

    async def dnne_export(request: web.Request) -> web.Response:
        try:
            body = await read_json(request)
            if prepare is not None:
                body = prepare(body)
            source = workflow_from_export_body(body)
            outcome = await export_async(source, exports_root(), export_name(body.get("name"), source))
        except Exception as exc:  # every failure becomes a JSON answer the editor can show
            return failure_response(exc)
        answer = outcome.to_json()
        if after_export is not None:
            answer.update(await after_export(outcome, body))
        return web.json_response(answer)

    return dnne_export
