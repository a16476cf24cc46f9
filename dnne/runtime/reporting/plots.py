"""PNG plots of metric records (loss/accuracy curves, RL learning curves), with matplotlib when it is installed.

Headless: the Agg canvas is used directly (no pyplot, no display). Without matplotlib `plot_metrics` returns None
and `unavailable_reason()` says how to get plots; nothing else depends on it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .summary import X_KEYS

MAX_PANELS = 6
# metrics that are bookkeeping, not curves
SKIP_KEYS = frozenset(
    {"time", "wall_s", "elapsed_s", "timestamp", "completed", "batch", "batches_per_epoch", "samples"}
)


def unavailable_reason() -> str | None:
    """None when plots can be drawn, else a sentence saying what to install."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "plots skipped: matplotlib is not installed (pip install matplotlib)"
    return None


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Records from a JSON-lines metrics file (blank and malformed lines are skipped)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            records.append(value)
    return records


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _has_metric(record: Mapping[str, Any]) -> bool:
    return any(k not in X_KEYS and k not in SKIP_KEYS and _number(v) is not None for k, v in record.items())


def choose_x(records: Sequence[Mapping[str, Any]]) -> str | None:
    """The first x-axis key (step, env_steps, epoch, …) carried by every record that has a metric; None = index."""
    with_metrics = [r for r in records if _has_metric(r)]
    for key in X_KEYS:
        if key in SKIP_KEYS:
            continue
        if with_metrics and all(_number(r.get(key)) is not None for r in with_metrics):
            return key
    return None


def curves(
    records: Sequence[Mapping[str, Any]], x_key: str | None = None, keys: Iterable[str] | None = None
) -> tuple[str, dict[str, tuple[list[float], list[float]]]]:
    """Group records into curves: metric name → (x values, y values). Returns the x label too."""
    x_key = x_key or choose_x(records)
    wanted = list(keys) if keys is not None else None
    series: dict[str, tuple[list[float], list[float]]] = {}
    for index, record in enumerate(records):
        x = _number(record.get(x_key)) if x_key else float(index)
        if x is None:
            continue
        for key, value in record.items():
            y = _number(value)
            if y is None or key == x_key or (wanted is None and (key in X_KEYS or key in SKIP_KEYS)):
                continue
            if wanted is not None and key not in wanted:
                continue
            xs, ys = series.setdefault(key, ([], []))
            xs.append(x)
            ys.append(y)
    if wanted is not None:
        series = {k: series[k] for k in wanted if k in series}
    return x_key or "record", series


def plot_metrics(
    records: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    x_key: str | None = None,
    keys: Iterable[str] | None = None,
    title: str | None = None,
) -> Path | None:
    """Draw one panel per metric (at most 6) into a PNG at `path`; None when matplotlib is missing or no curve exists."""
    if unavailable_reason():
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    x_label, series = curves(records, x_key, keys)
    if not series:
        return None
    names = list(series)[:MAX_PANELS]
    cols = 1 if len(names) == 1 else 2
    rows = math.ceil(len(names) / cols)
    fig = Figure(figsize=(5.5 * cols, 3.2 * rows), dpi=100)
    FigureCanvasAgg(fig)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        xs, ys = series[name]
        ax.plot(xs, ys, linewidth=1.2, marker="o" if len(xs) <= 30 else None, markersize=3)
        ax.set_title(name)
        ax.set_xlabel(x_label)
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png")
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dnne_runtime.reporting.plots", description="plot a metrics.jsonl")
    parser.add_argument("metrics", help="JSON-lines metrics file written by a run (run_dir/metrics.jsonl)")
    parser.add_argument("-o", "--out", help="PNG to write (default: next to the metrics file)")
    parser.add_argument("--x", dest="x_key", help="x-axis key (default: step, env_steps or epoch when present)")
    parser.add_argument("--keys", nargs="*", help="metrics to plot (default: every numeric one)")
    args = parser.parse_args(argv)
    reason = unavailable_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    try:
        records = read_metrics(args.metrics)
    except OSError as exc:
        print(f"error: cannot read {args.metrics}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(args.metrics).with_suffix(".png")
    written = plot_metrics(records, out, x_key=args.x_key, keys=args.keys, title=Path(args.metrics).name)
    if written is None:
        print(f"error: no numeric metric to plot in {args.metrics}", file=sys.stderr)
        return 1
    print(written)
    return 0


if __name__ == "__main__":
    sys.exit(main())
