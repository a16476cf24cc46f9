"""Graph analysis: loop-start rule, E_NO_SINK, W_UNREACHABLE pruning, deterministic topological order, big chains."""

from __future__ import annotations

import time

from dnne.graph.analysis import analyze
from dnne.graph.scc import strongly_connected_components
from dnne.workflow.load import load_workflow
from dnne.workflow.model import Edge, Graph, GraphNode
from tests.workflow.builder import WorkflowBuilder, mnist


def load(builder) -> Graph:
    result = load_workflow(builder.to_ui(), builder.catalog)
    assert result.graph is not None, [d.format() for d in result.diagnostics]
    return result.graph


def fold_layers(graph: Graph) -> Graph:
    """What the Network exporter does: absorb its LinearLayer chain (drop the layer nodes and their edges)."""
    layers = {n.id for n in graph if n.type == "LinearLayer"}
    graph.nodes = {k: v for k, v in graph.nodes.items() if k not in layers}
    graph.edges = [e for e in graph.edges if e.src not in layers and e.dst not in layers]
    return graph


def test_mnist_loop_is_seeded_by_training_step_ready(catalog):
    analysis = analyze(fold_layers(load(mnist(catalog))))
    assert analysis.errors == []
    assert analysis.cycles == [["3", "4", "6", "7", "8"]]
    assert analysis.order.index("1") < analysis.order.index("2") < analysis.order.index("3")
    assert analysis.order[-1] == "9"


def test_unfolded_layer_loop_is_reported_with_its_nodes(catalog):
    analysis = analyze(load(mnist(catalog)))
    cycle = [d for d in analysis.diagnostics if d.code == "E_CYCLE"]
    assert len(cycle) == 1
    assert "4 (Network) → 5 (LinearLayer) → 4 (Network)" in cycle[0].message
    assert cycle[0].hint.startswith("add a seed:")


def cartpole(catalog, *, trigger: bool) -> WorkflowBuilder:
    b = WorkflowBuilder(catalog)
    env = b.add("IsaacGymEnvNode")
    router = b.add("ORNode")
    agent = b.add("PPOAgentNode")
    step = b.add("IsaacGymStepNode")
    action = b.add("CartpoleActionNode")
    trainer = b.add("PPOTrainerNode")
    b.link(env, "sim_handle", step, "sim_handle")
    b.link(env, "observations", router, "input_a")
    b.link(step, "observations", router, "input_b")
    b.link(router, "output", agent, "observations")
    b.link(agent, "policy_output", action, "policy")
    b.link(action, "action", step, "actions")
    b.link(step, "observations", trainer, "state")
    b.link(agent, "policy_output", trainer, "policy_output")
    b.link(step, "rewards", trainer, "reward")
    b.link(step, "done", trainer, "done")
    b.link(agent, "model", trainer, "model")
    if trigger:
        b.link(trainer, "training_complete", step, "trigger")
    return b


def test_or_router_and_primed_trigger_start_the_rl_loops(catalog):
    for trigger in (False, True):
        analysis = analyze(load(cartpole(catalog, trigger=trigger)))
        assert analysis.errors == [], [d.format() for d in analysis.diagnostics]


def test_or_router_fed_only_from_inside_cannot_start(catalog):
    b = cartpole(catalog, trigger=False)
    b.links = [lk for lk in b.links if lk[4] != "input_a"]
    analysis = analyze(load(b))
    assert [d.code for d in analysis.errors] == ["E_CYCLE"]
    assert "2 (ORNode)" in analysis.errors[0].message


def test_no_sink_and_unreachable_islands(catalog):
    b = WorkflowBuilder(catalog)
    b.add("MNISTDataset")
    assert [d.code for d in analyze(load(b)).diagnostics] == ["E_NO_SINK"]
    b = mnist(catalog)
    lone = b.add("IntConstant", value=1)
    printer = b.add("PrintValue")
    spare = b.add("MNISTDataset")
    b.link(lone, "INT", printer, "value")  # PrintValue is an output node: this island is kept
    analysis = analyze(fold_layers(load(b)))
    assert [(d.code, d.node_id) for d in analysis.diagnostics] == [("W_UNREACHABLE", str(spare))]
    assert str(spare) not in analysis.graph.nodes and str(printer) in analysis.graph.nodes
    assert str(spare) not in analysis.order


def _chain(catalog, n: int, *, close: bool) -> Graph:
    spec = catalog.get("PrintValue")
    graph = Graph(name="chain", nodes={str(i): GraphNode(str(i), spec, "p", {"prefix": ""}) for i in range(n)})
    graph.edges = [Edge(str(i), "output", str(i + 1), "value") for i in range(n - 1)]
    if close:
        graph.edges.append(Edge(str(n - 1), "output", "0", "value"))
    return graph


def test_ten_thousand_node_chain_and_ring_without_recursion(catalog):
    start = time.perf_counter()
    analysis = analyze(_chain(catalog, 10_000, close=False))
    elapsed = time.perf_counter() - start
    assert analysis.order == [str(i) for i in range(10_000)]
    assert elapsed < 2.0
    ring = analyze(_chain(catalog, 10_000, close=True))
    assert [d.code for d in ring.errors] == ["E_CYCLE"]
    assert len(ring.cycles[0]) == 10_000


def test_order_is_deterministic_by_node_id(catalog):
    spec = catalog.get("PrintValue")
    ids = ["10", "2", "1:3", "1:10", "1"]
    graph = Graph(name="g", nodes={i: GraphNode(i, spec, "p", {"prefix": ""}) for i in ids})
    assert analyze(graph).order == ["1", "1:3", "1:10", "2", "10"]


def test_tarjan_matches_a_brute_force_reachability_check():
    import random

    rng = random.Random(7)
    for _ in range(50):
        n = rng.randint(1, 12)
        nodes = [str(i) for i in range(n)]
        succ = {v: rng.sample(nodes, rng.randint(0, min(3, n))) for v in nodes}
        reach = {v: _reachable(v, succ) for v in nodes}
        expected = {frozenset(w for w in nodes if w in reach[v] and v in reach[w]) | {v} for v in nodes}
        got = {frozenset(c) for c in strongly_connected_components(nodes, succ)}
        assert got == expected


def _reachable(start: str, succ: dict[str, list[str]]) -> set[str]:
    seen, stack = set(), list(succ[start])
    while stack:
        v = stack.pop()
        if v not in seen:
            seen.add(v)
            stack.extend(succ[v])
    return seen
