"""What one `dnne serve` process holds: its work directory, persisted settings, websocket clients and jobs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

log = logging.getLogger("dnne.server")

SETTINGS_FILE = "comfy.settings.json"
# defaults the frontend reads at start (a user's own setting wins): no tutorial; full node detail down to 43 % zoom
# (the frontend's default, 8 px, draws fitted examples as empty boxes)
PRESET_SETTINGS = {"Comfy.TutorialCompleted": True, "LiteGraph.Canvas.MinFontSizeForLOD": 6}
MAX_LOG_ENTRIES = 2000  # run output lines kept for the Logs panel
RUN_AFTER_EXPORT = "dnne.RunAfterExport"
RUN_AFTER_EXPORT_DEFAULT = True  # the Run button trains (the extension registers the same default)
RUN_ARGS = "dnne.RunArgs"


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, then rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def strict_json_bytes(value: Any) -> bytes:
    """`value` as strict JSON (NaN/Infinity raise ValueError: the frontend's JSON.parse would choke on them)."""
    return json.dumps(value, indent=2, sort_keys=True, allow_nan=False).encode("utf-8")


class Settings:
    """The editor's settings, one JSON object persisted in the work directory."""

    def __init__(self, path: Path):
        self.path = path
        self.values: dict[str, Any] = dict(PRESET_SETTINGS)
        if path.is_file():
            self._load()
        else:
            self.save()

    def _load(self) -> None:
        """Read the stored settings; a broken file is set aside (never fatal) so the editor still loads."""
        from dnne.workflow.parse import parse_json  # the one strict JSON reader (NaN, duplicates, depth)

        try:
            stored, problems = parse_json(self.path.read_bytes())
        except OSError as exc:
            stored, problems = None, [f"cannot read it: {exc.strerror or exc}"]
        if not problems and not isinstance(stored, dict):
            problems = [f"expected a JSON object, got {type(stored).__name__}"]
        if not problems:
            self.values.update(stored)
            return
        aside = self.path.with_name(f"{self.path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(self.path, aside)
            kept = f"moved to {aside.name}"
        except OSError:
            kept = "left in place"
        reason = "; ".join(p.format() if hasattr(p, "format") else str(p) for p in problems)
        log.warning("W_SETTINGS_UNREADABLE: ignoring the settings file %s (%s), using defaults: %s",
                    self.path, kept, reason)  # fmt: skip

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def update(self, values: dict[str, Any]) -> None:
        merged = {**self.values, **values}
        data = strict_json_bytes(merged)  # raises ValueError before anything changes
        write_atomic(self.path, data)
        self.values = merged

    def save(self) -> None:
        write_atomic(self.path, strict_json_bytes(self.values))


@dataclass
class Job:
    """One prompt sent to the server: an export, optionally followed by a run."""

    id: str
    number: int
    status: str = "pending"  # pending | in_progress | completed | failed | cancelled
    create_time: int = field(default_factory=lambda: int(time.time() * 1000))
    start_time: int | None = None
    end_time: int | None = None
    workflow: dict | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    error: dict | None = None
    messages: list = field(default_factory=list)
    run_pid: int | None = None  # the child process of the run, once started

    def summary(self) -> dict[str, Any]:
        """The `/api/jobs` entry."""
        return {
            "id": self.id,
            "status": self.status,
            "create_time": self.create_time,
            "execution_start_time": self.start_time,
            "execution_end_time": self.end_time,
            "outputs_count": len(self.outputs),
            "previewable_outputs_count": 0,
            "execution_error": self.error,
            "priority": self.number,
        }

    def history(self) -> dict[str, Any]:
        """The `/api/history` entry."""
        return {
            "prompt": [self.number, self.id, {}, {}, []],
            "outputs": self.outputs,
            "status": {
                "status_str": "success" if self.status == "completed" else "error",
                "completed": self.status == "completed",
                "messages": self.messages,
            },
            "meta": {},
        }


class ServerState:
    """Shared state of the server: paths, settings, websocket clients, jobs, the active run and background tasks.

    One run at a time: `claim_run` takes the slot synchronously (before any await), so two requests racing through
    an export cannot both start a child; every task and child is tracked here so shutdown can stop them all.
    """

    def __init__(self, workdir: Path):
        self.workdir = workdir.resolve()
        self.workflows_dir = self.workdir / "workflows"
        self.exports_dir = self.workdir / "exports"
        self.runs_dir = self.workdir / "runs"
        for folder in (self.workdir, self.workflows_dir, self.workdir / "subgraphs", self.exports_dir, self.runs_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.settings = Settings(self.workdir / SETTINGS_FILE)
        self.sockets: set[web.WebSocketResponse] = set()
        self.jobs: dict[str, Job] = {}
        self._counter = 0
        self.run = None  # the active dnne.server.runs.RunProcess, if any
        self.run_claim: str | None = None  # export name of the run holding the slot (claimed before its export)
        self.export_lock = asyncio.Lock()  # one export at a time: two never write the same folder at once
        self.tasks: set[asyncio.Task] = set()
        self.closing = False
        # the write token: the editor page fetches it same-origin and sends it on every write (see app.guard)
        self.token = secrets.token_urlsafe(32)
        self.log_entries: deque[dict[str, str]] = deque(maxlen=MAX_LOG_ENTRIES)  # the Logs panel's lines

    async def add_log(self, line: str) -> None:
        """One output line of a run: kept for the Logs panel and pushed to it (the frontend's `logs` message)."""
        entry = {"t": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "m": line + "\n"}
        self.log_entries.append(entry)
        await self.send("logs", {"entries": [entry], "size": {"cols": 120, "rows": 40}})

    def claim_run(self, export_name: str) -> bool:
        """Take the single run slot for `export_name`; False while another run holds it or the server is stopping."""
        if self.run_claim is not None or self.closing:
            return False
        self.run_claim = export_name
        return True

    def release_run(self) -> None:
        self.run_claim = None

    def spawn(self, coro) -> asyncio.Task:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def new_job(self, prompt_id: str | None = None, workflow: dict | None = None) -> Job:
        self._counter += 1
        job = Job(id=prompt_id or uuid.uuid4().hex, number=self._counter, workflow=workflow)
        self.jobs[job.id] = job
        return job

    def queue_remaining(self) -> int:
        return sum(1 for j in self.jobs.values() if j.status in ("pending", "in_progress"))

    async def send(self, kind: str, data: dict[str, Any]) -> None:
        """Broadcast one ComfyUI websocket message `{"type": kind, "data": data}` to every client."""
        message = json.dumps({"type": kind, "data": data})
        for ws in list(self.sockets):
            if ws.closed:
                self.sockets.discard(ws)
                continue
            try:
                await ws.send_str(message)
            except (ConnectionError, RuntimeError):
                self.sockets.discard(ws)

    async def send_status(self) -> None:
        await self.send("status", {"status": {"exec_info": {"queue_remaining": self.queue_remaining()}}})


STATE_KEY: web.AppKey[ServerState] = web.AppKey("dnne_state", ServerState)
