"""What one `dnne serve` process holds: its work directory, persisted settings, websocket clients and jobs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

log = logging.getLogger("dnne.server")

SETTINGS_FILE = "comfy.settings.json"
PRESET_SETTINGS = {"Comfy.TutorialCompleted": True}
RUN_AFTER_EXPORT = "dnne.RunAfterExport"
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


class Settings:
    """The editor's settings, one JSON object persisted in the work directory."""

    def __init__(self, path: Path):
        self.path = path
        self.values: dict[str, Any] = dict(PRESET_SETTINGS)
        if path.is_file():
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("ignoring unreadable settings file %s: %s", path, exc)
            else:
                if isinstance(stored, dict):
                    self.values.update(stored)
        else:
            self.save()

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def update(self, values: dict[str, Any]) -> None:
        self.values.update(values)
        self.save()

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.values, indent=2, sort_keys=True).encode("utf-8"))


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
    """Shared state of the server: paths, settings, websocket clients, jobs and the active run."""

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
        self.lock = asyncio.Lock()

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
