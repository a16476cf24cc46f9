"""Property tests: for any chain/fan-out shape and queue sizes, 'block' edges deliver every item once, in order,
within maxsize; 'latest' edges deliver an ordered subsequence ending with the newest item."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnne.runtime import GraphRunner

from .nodes import Collect, Count, Map

pytestmark = pytest.mark.timeout(120)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(0, 60),
    depth=st.integers(1, 5),
    sizes=st.lists(st.integers(1, 4), min_size=6, max_size=6),
    width=st.integers(1, 3),
    latest_branch=st.booleans(),
)
def test_chains_and_fan_out_preserve_order_and_bounds(n, depth, sizes, width, latest_branch):
    r = GraphRunner()
    r.ctx.args.quiet = True
    prev = r.add(Count("src", n=n))
    chans = []
    for i in range(depth):
        node = r.add(Map(f"m{i}", lambda x: x))
        chans.append(r.connect(prev, "x" if i == 0 else "y", node, "x", maxsize=sizes[i]))
        prev = node
    sinks = [r.add(Collect(f"s{j}")) for j in range(width)]
    for sink in sinks:
        chans.append(r.connect(prev, "y", sink, "x", maxsize=sizes[-1]))
    lossy = None
    if latest_branch:
        lossy = r.add(Collect("lossy", delay=0.0002))
        chans.append(r.connect(prev, "y", lossy, "x", maxsize=1, policy="latest"))
    assert r.run() == 0
    for sink in sinks:
        assert sink.seen == list(range(1, n + 1))
    for ch in chans:
        assert ch.high <= ch.maxsize and not ch.items
        if not ch.latest:
            assert ch.sent == n and ch.drops == 0
    if lossy is not None:
        assert lossy.seen == sorted(set(lossy.seen))
        assert len(lossy.seen) + chans[-1].drops == n
        if n:
            assert lossy.seen[-1] == n
