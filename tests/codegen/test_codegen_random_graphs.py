"""Valid-by-construction random graphs always export to a compiling, lint-clean, equivalent program."""

from __future__ import annotations

import ast
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testpack import make_graph

from dnne.codegen.export import build_export
from dnne.codegen.format import lint_code


@st.composite
def chain_graphs(draw):
    n_chains = draw(st.integers(1, 4))
    ids = draw(st.permutations(list(range(1, 40))))
    nodes, edges, k = [], [], 0
    for _ in range(n_chains):
        length = draw(st.integers(0, 3))
        chain = [str(ids[k + i]) for i in range(length + 2)]
        k += length + 2
        nodes.append((chain[0], "TestCounter", draw(st.text(max_size=10)), {"label": draw(st.text(max_size=10))}))
        for node_id in chain[1:-1]:
            factor = draw(st.floats(-1e6, 1e6, allow_nan=False))
            nodes.append((node_id, "TestScale", draw(st.text(max_size=10)), {"factor": factor}))
        nodes.append((chain[-1], "TestCollect", draw(st.text(max_size=10)), {"name": draw(st.text(max_size=10))}))
        edges += [
            (a, "value" if i == 0 else "y", b, "x") for i, (a, b) in enumerate(zip(chain[:-1], chain[1:], strict=True))
        ]
    return make_graph(nodes, edges, name=draw(st.text(max_size=20)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chain_graphs())
def test_random_graphs_export(graph):
    result = build_export(graph)
    runner = result.contents["runner.py"].decode()
    module = ast.parse(runner)
    compile(module, "runner.py", "exec")
    assert lint_code(runner) == []
    adds = {
        call.args[0].value: call.args[1].value
        for call in ast.walk(module)
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id.startswith("Test")
    }
    assert adds == {node.id: node.title for node in graph}
    connects = [c for c in ast.walk(module) if isinstance(c, ast.Call) and getattr(c.func, "attr", "") == "connect"]
    assert len(connects) == len(graph.edges)
    config = json.loads(result.contents["config.json"])
    assert config["workflow"] == graph.name
    assert {i: p for i, p in config["nodes"].items()} == {n.id: n.widgets for n in graph}
    assert build_export(graph).contents == result.contents
