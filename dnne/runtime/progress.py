"""A progress bar that is silent unless stderr is a terminal (and not --quiet): rich if installed, else plain text."""

from __future__ import annotations

import sys
import time
from typing import Any


class Progress:
    """`update(advance=1, total=None, description=None, **fields)`; `log(msg)` prints above the bar; `close()`."""

    def __init__(self, enabled: bool | None = None, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.completed = 0.0
        self.total: float | None = None
        self.description = ""
        self.fields: dict[str, Any] = {}
        self._rich = None
        self._task = None
        self._last_draw = 0.0
        self._closed = False

    def _start_rich(self) -> bool:
        if self._rich is not None:
            return True
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as RichProgress
        except ImportError:
            return False
        self._rich = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=Console(file=self.stream),
            transient=False,
        )
        self._rich.start()
        self._task = self._rich.add_task(self.description, total=self.total, info="")
        return True

    def update(
        self, advance: float = 1, *, total: float | None = None, description: str | None = None, **fields: Any
    ) -> None:
        if self._closed:
            return
        self.completed += advance
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        self.fields.update(fields)
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last_draw < 0.1 and (self.total is None or self.completed < self.total):
            return
        self._last_draw = now
        info = "  ".join(f"{k}={_short(v)}" for k, v in self.fields.items())
        if self._start_rich():
            self._rich.update(
                self._task, completed=self.completed, total=self.total, description=self.description, info=info
            )
        else:
            of = f"/{self.total:g}" if self.total else ""
            self.stream.write(f"\r{self.description} {self.completed:g}{of} {info}".ljust(79))
            self.stream.flush()

    def log(self, message: str) -> None:
        if self._rich is not None and not self._closed:
            self._rich.console.print(message, markup=False, highlight=False)
        else:
            print(message, file=self.stream)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._rich is not None:
            self._rich.stop()
        elif self.enabled and self.completed:
            self.stream.write("\n")


def _short(value: Any) -> str:
    item = getattr(value, "item", None)
    if callable(item):
        try:
            value = item()
        except (TypeError, ValueError, RuntimeError):
            pass
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
