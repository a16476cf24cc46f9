"""Long runs stay bounded: queues never exceed maxsize and the runner's bookkeeping is O(1) per node/edge."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from dnne.runtime import GraphRunner, Input, QueueNode

from .nodes import Count, Map

pytestmark = pytest.mark.timeout(120)


class Drop(QueueNode):
    INPUTS = {"x": Input.CONSUME}

    async def compute(self, x):
        return None


def build(n: int) -> tuple[GraphRunner, list]:
    r = GraphRunner()
    r.ctx.args.quiet = True
    src = r.add(Count("src", n=n))
    a, b = r.add(Map("a", lambda x: bytearray(64))), r.add(Map("b"))
    fast, slow = r.add(Drop("fast")), r.add(Drop("slow"))
    chans = [
        r.connect(src, "x", a, "x", maxsize=8),
        r.connect(a, "y", b, "x", maxsize=4),
        r.connect(b, "y", fast, "x", maxsize=2),
        r.connect(b, "y", slow, "x", maxsize=3, policy="latest"),
    ]
    return r, chans


def retained_after_run(n: int) -> int:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    r, chans = build(n)
    assert r.run() == 0
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert r.runtime("fast").firings == n
    for ch in chans:
        assert ch.high <= ch.maxsize and len(ch.items) == 0
    return after - before


def test_10k_firings_keep_queues_bounded_and_bookkeeping_constant():
    small = retained_after_run(1_000)
    large = retained_after_run(10_000)
    # what the runner keeps after the run must not grow with the number of firings
    assert large - small < 16_384, (small, large)
