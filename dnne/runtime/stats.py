"""Per-node and per-queue statistics printed at the end of a run (and written as one metrics record)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .snapshot import RunSnapshot


def node_stats(snap: RunSnapshot) -> list[dict[str, Any]]:
    return [
        {
            "node_id": node.node_id,
            "class": node.node_class,
            "title": node.title,
            "firings": node.firings,
            "mean_ms": node.mean_ms,
            "max_ms": round(node.max_ns / 1e6, 4),
            "state": node.state_name,
        }
        for node in snap.nodes
    ]


def queue_stats(snap: RunSnapshot) -> list[dict[str, Any]]:
    return [
        {
            "edge": ch.label,
            "mode": ch.mode,
            "policy": ch.policy,
            "maxsize": ch.maxsize,
            "sent": ch.sent,
            "high_water": ch.high_water,
            "drops": ch.drops,
        }
        for ch in snap.channels
    ]


def stats_record(snap: RunSnapshot) -> dict[str, Any]:
    return {"event": "stats", "nodes": node_stats(snap), "queues": queue_stats(snap)}


SHORT_NODES = 5  # nodes shown in the default (short) table: those that took the most compute time


def format_stats(snap: RunSnapshot, reason: str, *, full: bool = True) -> str:
    """A plain-text table: node firings and compute times, then queues with high-water marks and drops. Short
    (`full=False`): the nodes that took the most time and the queues that dropped tokens, and how to see it all."""
    nodes = node_stats(snap)
    lines = [f"run ended: {reason}"]
    queues = queue_stats(snap)
    if not full:
        hidden = max(0, len(nodes) - SHORT_NODES) + sum(1 for q in queues if not q["drops"])
        nodes = sorted(nodes, key=lambda r: -r["mean_ms"] * r["firings"])[:SHORT_NODES]
        queues = [q for q in queues if q["drops"]]
    else:
        hidden = 0
    if nodes:
        w = max(len(f"{r['node_id']} {r['class']} {r['title']!r}") for r in nodes)
        lines.append(f"  {'node'.ljust(w)}  {'firings':>9}  {'mean ms':>9}  {'max ms':>9}")
        for r in nodes:
            label = f"{r['node_id']} {r['class']} {r['title']!r}".ljust(w)
            lines.append(f"  {label}  {r['firings']:>9}  {r['mean_ms']:>9.3f}  {r['max_ms']:>9.3f}")
    if queues:
        w = max(len(q["edge"]) for q in queues)
        lines.append(f"  {'queue'.ljust(w)}  {'sent':>9}  {'high/max':>9}  {'drops':>7}")
        for q in queues:
            hw = f"{q['high_water']}/{q['maxsize']}" if q["mode"] != "sticky" else "sticky"
            lines.append(f"  {q['edge'].ljust(w)}  {q['sent']:>9}  {hw:>9}  {q['drops']:>7}")
    if hidden:
        lines.append(f"  ({hidden} more nodes and queues: --verbose shows them all)")
    return "\n".join(lines)
