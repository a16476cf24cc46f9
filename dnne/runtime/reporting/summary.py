"""End-of-run summary: an aligned text table of key facts and of each metric's last/min/max."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

X_KEYS = ("step", "global_step", "env_steps", "epoch", "iteration", "episode", "batch", "time", "wall_s", "elapsed_s")


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.6g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"
    return str(value)


def table(rows: Iterable[Iterable[Any]], header: Iterable[str] | None = None, title: str | None = None) -> str:
    """A plain-text table: columns padded to their widest cell; columns holding only numbers are right-aligned."""
    body = [[_cell(v) for v in row] for row in rows]
    head = [str(h) for h in header] if header is not None else []
    width = max([len(head)] + [len(r) for r in body])
    if width == 0:
        return title or ""
    body = [r + [""] * (width - len(r)) for r in body]
    head = head + [""] * (width - len(head)) if head else []
    widths = [max(len(r[i]) for r in ([head] if head else []) + body) for i in range(width)]
    numeric = [bool(body) and all(_is_number_text(r[i]) for r in body) for i in range(width)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    lines = [title] if title else []
    if head:
        lines += [line(head), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in body]
    return "\n".join(lines)


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def key_values(items: Mapping[str, Any] | Iterable[tuple[str, Any]], title: str | None = "Run summary") -> str:
    """A two-column `name  value` table (e.g. exit reason, steps, wall time, final accuracy)."""
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    return table(([k, v] for k, v in pairs), title=title)


def metric_stats(
    records: Iterable[Mapping[str, Any]], keys: Iterable[str] | None = None
) -> dict[str, dict[str, float]]:
    """For each numeric metric: last, min, max, mean and count over the records (x-axis keys like step skipped)."""
    stats: dict[str, dict[str, float]] = {}
    wanted = set(keys) if keys is not None else None
    for record in records:
        for key, value in record.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            if (wanted is not None and key not in wanted) or (wanted is None and key in X_KEYS):
                continue
            s = stats.setdefault(key, {"last": value, "min": value, "max": value, "sum": 0.0, "count": 0})
            s["last"] = value
            s["min"] = min(s["min"], value)
            s["max"] = max(s["max"], value)
            s["sum"] += value
            s["count"] += 1
    for s in stats.values():
        s["mean"] = s.pop("sum") / s["count"]
    return stats


def metrics_table(
    records: Iterable[Mapping[str, Any]], keys: Iterable[str] | None = None, title: str | None = "Metrics"
) -> str:
    """`metric  last  min  max  mean  n` for every numeric metric in the records."""
    stats = metric_stats(records, keys)
    rows = [[k, s["last"], s["min"], s["max"], s["mean"], int(s["count"])] for k, s in sorted(stats.items())]
    return table(rows, header=["metric", "last", "min", "max", "mean", "n"], title=title)
