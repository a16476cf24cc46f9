"""Metrics as JSON lines: one record per `write`, to `--metrics PATH` and `<run_dir>/metrics.jsonl`."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# records that carry the results of a run (what "final metrics" shows at its end): training epochs, evaluations,
# inference, a max-steps run's partial epoch, and the RL trainer's updates, summary and inference episodes
RESULT_EVENTS = frozenset(
    {"epoch", "partial_epoch", "eval", "implicit_eval", "inference", "update", "summary", "episodes"}
)


def _json_default(value: Any) -> Any:
    """Tensors/numpy scalars → numbers or lists; anything else → its str (a record never fails to write)."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            if getattr(value, "numel", lambda: 1)() == 1:
                return item()
        except (TypeError, ValueError, RuntimeError):
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return tolist()
        except (TypeError, ValueError, RuntimeError):
            pass
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


class Metrics:
    """Appends JSON records to every configured path. Thread-safe; `close` is idempotent."""

    def __init__(self, paths: list[Path | str] | tuple = ()):
        self._files = []
        self.paths: list[Path] = []
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self.count = 0
        self._sinks: list[Any] = []  # extra consumers of data records (e.g. TensorBoard), each with write/close
        # called once per file that fails to write (disk full); without it the OSError propagates
        self.on_error: Callable[[Path, OSError], None] | None = None
        self._failed: set[int] = set()
        self.results: dict[str, dict[str, Any]] = {}  # the last record of each RESULT_EVENTS kind, newest last
        seen = set()
        for p in paths:
            path = Path(p)
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._files.append(open(path, "a", encoding="utf-8", buffering=1))  # noqa: SIM115 - closed in close()
            self.paths.append(path)

    def add_sink(self, sink: Any) -> None:
        """Also hand every data record (one without an "event" key) to `sink.write(record)`; closed with us."""
        self._sinks.append(sink)

    def write(self, record: dict[str, Any]) -> None:
        """Write one record (a dict). `t` (seconds since start) is added unless present."""
        if self._sinks and "event" not in record:
            for sink in self._sinks:
                sink.write(record)
        event = record.get("event")
        if event in RESULT_EVENTS:
            self.results.pop(event, None)
            self.results[event] = dict(record)
        if not self._files:
            return
        rec = {k: _finite(v) for k, v in record.items()}
        rec.setdefault("t", round(time.monotonic() - self._t0, 6))
        line = json.dumps(rec, default=_json_default, allow_nan=False) + "\n"
        failures = []
        with self._lock:
            for i, f in enumerate(self._files):
                if f.closed or i in self._failed:
                    continue
                try:
                    f.write(line)
                except OSError as exc:
                    self._failed.add(i)
                    failures.append((self.paths[i], exc))
            self.count += 1
        for path, exc in failures:
            if self.on_error is None:
                raise exc
            self.on_error(path, exc)

    def close(self) -> None:
        with self._lock:
            for sink in self._sinks:
                sink.close()
            self._sinks.clear()
            for i, f in enumerate(self._files):
                if not f.closed:
                    try:
                        f.close()
                    except OSError:  # the last buffered line did not fit: already reported, or report now
                        if i not in self._failed and self.on_error is None:
                            raise
