"""Runtime hop cost vs bare asyncio queues (performance.md §2, targets G4-G6).

Prints, for each case, the median over interleaved rounds of the paired ratio runtime/bare in process CPU time:
  * lockstep hop: a 2-node cycle with one message in flight vs a bare asyncio.Queue(1) ping-pong
  * pipelined 10-node chain (maxsize 100) vs a bare chain of asyncio.Queue(100)
  * fan-out 1→4 (maxsize 100) vs a bare producer putting into 4 queues

    python bench/runtime_hops.py [--messages 20000] [--rounds 9]
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/runtime_hops.py` puts bench/ first on sys.path, where bench/numbers.py would shadow the standard
# library's `numbers` (which `statistics` imports): drop that folder, add the repository root instead
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
sys.path.insert(0, str(_BENCH.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from dnne.runtime import STOP, GraphRunner, Input, QueueNode  # noqa: E402

# -- runtime nodes -------------------------------------------------------------------------------------------------


class Source(QueueNode):
    OUTPUTS = ("x",)
    REPEAT = True

    def __init__(self, node_id, n):
        super().__init__(node_id, "source")
        self.n, self.i = n, 0

    async def compute(self):
        i = self.i
        if i >= self.n:
            return STOP
        self.i = i + 1
        return {"x": i}


class Relay(QueueNode):
    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("x",)

    async def compute(self, x):
        return {"x": x}


class Sink(QueueNode):
    INPUTS = {"x": Input.CONSUME}

    def __init__(self, node_id):
        super().__init__(node_id, "sink")
        self.count = 0

    async def compute(self, x):
        self.count += 1


class Ping(QueueNode):
    """One side of the lockstep cycle: stops the graph after `n` round trips."""

    INPUTS = {"x": Input.CONSUME}
    OUTPUTS = ("x",)

    def __init__(self, node_id, n):
        super().__init__(node_id, "ping")
        self.n = n

    def initial_outputs(self):
        return {"x": 0}

    async def compute(self, x):
        if x >= self.n:
            self.ctx.request_stop("done")
            return None
        return {"x": x + 1}


def _runner() -> GraphRunner:
    r = GraphRunner()
    r.ctx.args.quiet = True
    return r


def node_pingpong(n: int) -> None:
    r = _runner()
    a, b = r.add(Ping("a", n)), r.add(Relay("b"))
    r.connect(a, "x", b, "x", maxsize=1)
    r.connect(b, "x", a, "x", maxsize=1)
    assert r.run() == 0


def node_chain(n: int, k: int = 10) -> None:
    r = _runner()
    prev = r.add(Source("0", n))
    for i in range(1, k - 1):
        node = r.add(Relay(str(i)))
        r.connect(prev, "x", node, "x", maxsize=100)
        prev = node
    sink = r.add(Sink(str(k - 1)))
    r.connect(prev, "x", sink, "x", maxsize=100)
    assert r.run() == 0 and sink.count == n


def node_fanout(n: int, width: int = 4) -> None:
    r = _runner()
    src = r.add(Source("src", n))
    sinks = [r.add(Sink(f"s{i}")) for i in range(width)]
    for s in sinks:
        r.connect(src, "x", s, "x", maxsize=100)
    assert r.run() == 0 and all(s.count == n for s in sinks)


# -- bare asyncio baselines ----------------------------------------------------------------------------------------


def bare_pingpong(n: int) -> None:
    async def main():
        q1, q2 = asyncio.Queue(1), asyncio.Queue(1)

        async def pong():
            while True:
                x = await q1.get()
                await q2.put(x)

        task = asyncio.create_task(pong())
        await q1.put(0)
        while True:
            x = await q2.get()
            if x >= n:
                break
            await q1.put(x + 1)
        task.cancel()

    asyncio.run(main())


def bare_chain(n: int, k: int = 10) -> None:
    async def main():
        qs = [asyncio.Queue(100) for _ in range(k - 1)]

        async def source():
            for i in range(n):
                await qs[0].put(i)

        async def relay(qin, qout):
            while True:
                await qout.put(await qin.get())

        async def sink():
            for _ in range(n):
                await qs[-1].get()

        relays = [asyncio.create_task(relay(qs[i], qs[i + 1])) for i in range(k - 2)]
        await asyncio.gather(source(), sink())
        for t in relays:
            t.cancel()

    asyncio.run(main())


def bare_fanout(n: int, width: int = 4) -> None:
    async def main():
        qs = [asyncio.Queue(100) for _ in range(width)]

        async def source():
            for i in range(n):
                for q in qs:
                    await q.put(i)

        async def sink(q):
            for _ in range(n):
                await q.get()

        await asyncio.gather(source(), *(sink(q) for q in qs))

    asyncio.run(main())


CASES = {
    "lockstep hop (2-node cycle vs Queue(1) ping-pong)": (node_pingpong, bare_pingpong, 2),
    "pipelined 10-node chain, maxsize 100": (node_chain, bare_chain, 9),
    "fan-out 1->4, maxsize 100": (node_fanout, bare_fanout, 4),
}


def cpu(fn, n: int) -> float:
    t0 = time.process_time()
    fn(n)
    return time.process_time() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args(argv)
    n = args.messages
    print(f"python {sys.version.split()[0]}, {n} messages x {args.rounds} rounds, CPU time, median of paired ratios")
    for name, (node_fn, bare_fn, hops) in CASES.items():
        node_fn(n // 10)  # warm-up
        bare_fn(n // 10)
        ratios, node_us, bare_us = [], [], []
        for r in range(args.rounds):
            pair = [("node", node_fn), ("bare", bare_fn)]
            if r % 2:
                pair.reverse()
            got = {label: cpu(fn, n) for label, fn in pair}
            ratios.append(got["node"] / got["bare"])
            node_us.append(got["node"] / (n * hops) * 1e6)
            bare_us.append(got["bare"] / (n * hops) * 1e6)
        print(
            f"{name:52s} ratio {statistics.median(ratios):.2f}x  "
            f"(runtime {statistics.median(node_us):.2f} us/delivery, bare {statistics.median(bare_us):.2f} us)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
