"""Loader budgets, measured: the nested-subgraph expansion bomb and 200k-long reroute chains (time and peak memory).

A benchmark-style check, not a timed assertion: `python bench/loader_budget.py` (from the repository root).
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dnne.workflow.load import load_workflow  # noqa: E402
from tests.workflow.bombs import expansion_bomb, native_reroute_chain, reroute_node_chain  # noqa: E402
from tests.workflow.mini_catalog import mini_catalog  # noqa: E402


def measure(label: str, source, **limits) -> None:
    catalog = mini_catalog()
    tracemalloc.start()
    start = time.perf_counter()
    result = load_workflow(source, catalog, **limits)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    codes = sorted({d.code for d in result.diagnostics})
    print(f"{label:45s} {seconds:8.3f} s  peak {peak / 1e6:8.1f} MB  codes {', '.join(codes) or '-'}")


def main() -> None:
    bomb = json.dumps(expansion_bomb(levels=7, fanout=10))
    measure(f"expansion bomb ({len(bomb):,} B → 10^7 nodes)", bomb)
    measure("native reroutes, 200k chain", native_reroute_chain(200_000))
    measure("native reroutes, 200k loop", native_reroute_chain(200_000, loop=True))
    big = {"max_nodes": 300_000, "max_links": 300_000}
    measure("Reroute nodes, 200k chain", reroute_node_chain(200_000), **big)
    measure("Reroute nodes, 200k loop", reroute_node_chain(200_000, loop=True), **big)


if __name__ == "__main__":
    main()
