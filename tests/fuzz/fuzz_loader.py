"""Fuzz the workflow loader with mutated bytes and mutated JSON trees.

    python tests/fuzz/fuzz_loader.py --seconds 60 [--seed 1] [--analyze]

Seeds: workflows built from the test catalog (UI 0.4, UI 1, API, prompt body), the bad-workflow cases, and the
original Cartpole workflow when present. Each input is either a byte-level mutation (flip, insert, delete, splice,
truncate) or a JSON-level one (replace a value with a random value of another type, delete a key, duplicate a list
item, deepen). The only allowed outcome is a LoadResult of Diagnostics (or a DnneError); anything else is a bug and
is printed with the input that caused it.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dnne.errors import Diagnostic, DnneError  # noqa: E402
from dnne.graph.analysis import analyze  # noqa: E402
from dnne.workflow.load import LoadResult, load_workflow  # noqa: E402
from tests.workflow.builder import mnist  # noqa: E402
from tests.workflow.mini_catalog import mini_catalog  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
INTERESTING = [
    None, True, False, 0, -1, 1, 2**31, 2**63, 10**30, 0.5, -0.0, 1e308, "", "0", "-10", "*", "Reroute",
    "PrimitiveNode", "workflow>x", "Note", "12:3", "\u202e", "\x00", "a" * 300, [], {}, [0], [1, 2], ["1", 0],
    {"__value__": [1]}, {"name": "x"}, [[1, 1, 0, 2, 0, "*"]],
]  # fmt: skip


def seeds(catalog) -> list[bytes]:
    b = mnist(catalog)
    docs = [b.to_ui(), b.to_ui(version=1), b.to_api(), {"client_id": "x", "prompt": b.to_api()}, b.to_ui(named=True)]
    out = [json.dumps(d).encode() for d in docs]
    out += [p.read_bytes() for p in sorted((ROOT / "bad_workflows").glob("*.json")) if p.stat().st_size < 200_000]
    from tests.workflow.test_subgraphs import workflow

    out.append(json.dumps(workflow()).encode())
    cartpole = ROOT.parents[1] / "shared" / "workflows" / "original-dnne" / "Cartpole_PPO.json"
    if cartpole.exists():
        out.append(cartpole.read_bytes())
    return out


def mutate_bytes(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(pos, len(buf) - 1)] = rng.randrange(256)
        elif op == 1:
            buf[pos:pos] = rng.choice([b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b"-1", b"null", b"\xff"])
        elif op == 2:
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 3:
            other = rng.choice(pool)
            start = rng.randrange(len(other) + 1)
            buf[pos:pos] = other[start : start + rng.randint(1, 64)]
        else:
            del buf[pos:]
    return bytes(buf)


def _containers(tree, out: list) -> list:
    stack = [tree]
    while stack:
        item = stack.pop()
        if isinstance(item, (dict, list)):
            out.append(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
    return out


def mutate_tree(rng: random.Random, doc):
    doc = copy.deepcopy(doc)
    places = _containers(doc, [])
    for _ in range(rng.randint(1, 3)):
        if not places:
            break
        target = rng.choice(places)
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if not keys:
            continue
        key = rng.choice(keys)
        op = rng.randrange(4)
        if op == 0:
            target[key] = copy.deepcopy(rng.choice(INTERESTING))
        elif op == 1:
            del target[key]
        elif op == 2 and isinstance(target, list):
            target.insert(key, copy.deepcopy(target[key]))
        else:
            target[key] = [target[key]] if rng.random() < 0.5 else {"x": target[key]}
    return doc


def check(data, catalog, analyze_graph: bool) -> str | None:
    """None when the loader behaved; otherwise the traceback."""
    try:
        result = load_workflow(data, catalog)
        assert isinstance(result, LoadResult)
        assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
        assert result.graph is None or not any(d.is_error for d in result.diagnostics)
        for d in result.diagnostics:
            d.format()
        if analyze_graph and result.graph is not None:
            analyze(result.graph)
    except DnneError:
        return None
    except Exception:
        return traceback.format_exc()
    return None


def fuzz(*, inputs: int | None = None, seconds: float | None = None, seed: int = 0, analyze_graph: bool = True):
    """Run until `inputs` were tried or `seconds` passed. Returns (count, elapsed, failures)."""
    catalog = mini_catalog()
    rng = random.Random(seed)
    pool = seeds(catalog)
    trees = []
    for data in pool:
        try:
            trees.append(json.loads(data))
        except (ValueError, RecursionError):
            pass
    failures: list[tuple[bytes | str, str]] = []
    count = 0
    start = time.perf_counter()
    while (inputs is None or count < inputs) and (seconds is None or time.perf_counter() - start < seconds):
        if rng.random() < 0.5:
            data: bytes | dict = mutate_bytes(rng, rng.choice(pool), pool)
        else:
            tree = mutate_tree(rng, rng.choice(trees))
            data = tree if isinstance(tree, dict) and rng.random() < 0.5 else json.dumps(tree).encode()
        count += 1
        problem = check(data, catalog, analyze_graph)
        if problem is not None:
            failures.append((data if isinstance(data, bytes) else json.dumps(data), problem))
    return count, time.perf_counter() - start, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    count, elapsed, failures = fuzz(seconds=args.seconds, seed=args.seed)
    print(f"{count} inputs in {elapsed:.1f} s ({count / elapsed:.0f}/s), {len(failures)} failure(s)")
    kinds: dict[str, tuple] = {}
    for data, problem in failures:
        lines = problem.strip().splitlines()
        kinds.setdefault(lines[-3].strip() + " | " + lines[-1], (data, problem))
    for signature, (data, problem) in kinds.items():
        print("-" * 60, f"\n{signature}\ninput: {data[:300]!r}\n{problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
