"""Graph analysis on the folded graph: islands without a sink, loops that cannot start, topological order.

Loop-start rule (see dnne/catalog/spec.py): every cycle needs one edge that leaves a `seed=True` output, enters a
`primed=True` input, or enters an ANY input of a node that also has an ANY input fed from outside the loop. Checked
exactly: after removing those edges, what remains must be acyclic.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from dnne.catalog.spec import InputMode
from dnne.errors import Diagnostic, node_id_key, node_label
from dnne.graph.scc import strongly_connected_components
from dnne.workflow.model import Edge, Graph


@dataclass
class GraphAnalysis:
    order: list[str]  # node ids of the pruned graph, topological over the condensation, ties by node id
    sccs: list[list[str]]  # every strongly connected component (singletons too), in that order, members by id
    diagnostics: list[Diagnostic] = field(default_factory=list)
    graph: Graph | None = None  # the graph without unreachable islands

    @property
    def cycles(self) -> list[list[str]]:
        """Components that are loops (more than one node, or a node feeding itself)."""
        if self.graph is None:
            return [c for c in self.sccs if len(c) > 1]
        selfloops = {e.src for e in self.graph.edges if e.src == e.dst}
        return [c for c in self.sccs if len(c) > 1 or c[0] in selfloops]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


def id_key(node_id: str) -> tuple:
    return node_id_key(node_id)


def analyze(graph: Graph) -> GraphAnalysis:
    diagnostics: list[Diagnostic] = []
    pruned = _prune(graph, diagnostics)
    successors = _successors(pruned)
    ids = sorted(pruned.nodes, key=id_key)
    components = strongly_connected_components(ids, successors)
    _check_loops(pruned, components, diagnostics)
    order_components = _topological(components, successors)
    sccs = [sorted(c, key=id_key) for c in order_components]
    order = [n for c in sccs for n in c]
    diagnostics.sort(key=Diagnostic.sort_key)
    return GraphAnalysis(order=order, sccs=sccs, diagnostics=diagnostics, graph=pruned)


def _successors(graph: Graph, edges: list[Edge] | None = None) -> dict[str, list[str]]:
    succ: dict[str, list[str]] = {n: [] for n in graph.nodes}
    seen: set[tuple[str, str]] = set()
    for e in graph.edges if edges is None else edges:
        if (e.src, e.dst) not in seen and e.src in succ and e.dst in succ:
            seen.add((e.src, e.dst))
            succ[e.src].append(e.dst)
    for targets in succ.values():
        targets.sort(key=id_key)
    return succ


def _is_sink(graph: Graph, node_id: str) -> bool:
    spec = graph.nodes[node_id].spec
    return spec.is_sink or spec.output_node


def _prune(graph: Graph, diagnostics: list[Diagnostic]) -> Graph:
    """Drop weakly connected components without a sink (W_UNREACHABLE); E_NO_SINK when there is no sink at all."""
    parent = {n: n for n in graph.nodes}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for e in graph.edges:
        if e.src in parent and e.dst in parent:
            a, b = find(e.src), find(e.dst)
            if a != b:
                parent[a] = b
    has_sink = {find(n) for n in graph.nodes if _is_sink(graph, n)}
    besides = ", ".join(f"{n} {kind}" for kind, n in sorted(graph.left_out.items()))
    also = f" (left out: {besides})" if besides else ""
    if graph.nodes and not has_sink:
        diagnostics.append(
            Diagnostic(
                "E_NO_SINK",
                "the workflow has no terminal node, so nothing would ever finish or produce a result",
                expected="a training step, tracker, trainer or output node",
                got=f"{len(graph.nodes)} node(s), none of them terminal{also}",
                hint="add a terminal node (e.g. TrainingStep, EpochTracker, PPOTrainer) and connect it",
            )
        )
        return Graph(
            name=graph.name,
            nodes=dict(graph.nodes),
            edges=list(graph.edges),
            source_format=graph.source_format,
            left_out=dict(graph.left_out),
        )
    if not graph.nodes:
        if besides:
            diagnostics.append(
                Diagnostic(
                    "E_NO_SINK",
                    f"the workflow has no node that runs: it holds only {besides} node(s), which are left out",
                    expected="a training step, tracker, trainer or output node",
                    got=besides,
                    hint="un-bypass or un-mute the nodes that should run, or add a terminal node and connect it",
                )
            )
        else:
            diagnostics.append(Diagnostic("E_NO_SINK", "the workflow has no nodes", hint="add nodes in the editor"))
    kept = {n: node for n, node in graph.nodes.items() if find(n) in has_sink}
    for node_id in graph.nodes:
        if node_id not in kept:
            diagnostics.append(
                Diagnostic(
                    "W_UNREACHABLE",
                    "this node is not connected to any terminal node; it is left out",
                    **graph.nodes[node_id].where(),
                    hint="connect it to the rest of the graph, or delete it",
                )
            )
    edges = [e for e in graph.edges if e.src in kept and e.dst in kept]
    return Graph(
        name=graph.name, nodes=kept, edges=edges, source_format=graph.source_format, left_out=dict(graph.left_out)
    )


def _starts_loop(graph: Graph, edge: Edge, members: set[str], incoming: dict[str, list[Edge]]) -> bool:
    src_spec = graph.nodes[edge.src].spec
    dst_spec = graph.nodes[edge.dst].spec
    out = src_spec.output(edge.src_output)
    target = dst_spec.input(edge.dst_input)
    if (out is not None and out.seed) or (target is not None and target.primed):
        return True
    if target is not None and target.mode is InputMode.ANY:
        for other in incoming.get(edge.dst, []):
            spec = dst_spec.input(other.dst_input)
            if other.src not in members and spec is not None and spec.mode is InputMode.ANY:
                return True
    return False


def _check_loops(graph: Graph, components: list[list[str]], diagnostics: list[Diagnostic]) -> None:
    incoming: dict[str, list[Edge]] = {}
    comp_of = {n: i for i, c in enumerate(components) for n in c}
    inner: dict[int, list[Edge]] = {}
    for e in graph.edges:
        incoming.setdefault(e.dst, []).append(e)
        if comp_of[e.src] == comp_of[e.dst]:
            inner.setdefault(comp_of[e.src], []).append(e)
    for index, edges in sorted(inner.items()):
        members = set(components[index])
        blocked = [e for e in edges if not _starts_loop(graph, e, members, incoming)]
        sub = Graph(name="", nodes={n: graph.nodes[n] for n in members})
        succ = _successors(sub, blocked)
        for stuck in strongly_connected_components(sorted(members, key=id_key), succ):
            if len(stuck) == 1 and stuck[0] not in succ[stuck[0]]:
                continue
            diagnostics.append(_cycle_error(graph, stuck, succ))


def _is_loop(component: list[str], graph: Graph) -> bool:
    if len(component) > 1:
        return True
    return any(e.src == e.dst == component[0] for e in graph.edges)


def _cycle_error(graph: Graph, members: list[str], succ: dict[str, list[str]]) -> Diagnostic:
    inside = set(members)
    start = min(members, key=id_key)
    path = [start]
    seen = {start}
    current = start
    while True:
        nxt = next(n for n in succ[current] if n in inside)
        if nxt in seen:
            path = path[path.index(nxt) :] + [nxt]
            break
        path.append(nxt)
        seen.add(nxt)
        current = nxt
    labels = " → ".join(_label(graph, n) for n in path)
    seeds = sorted(
        f"{graph.nodes[n].spec.key}.{o.name}" for n in inside for o in graph.nodes[n].spec.outputs if o.seed
    ) + sorted(f"{graph.nodes[n].spec.key}.{i.name}" for n in inside for i in graph.nodes[n].spec.inputs if i.primed)
    hint = "add a seed: close the loop through an output that emits a first token (e.g. TrainingStep.ready) or an "
    hint += "input that holds one at start (e.g. IsaacGymStep.trigger)"
    if seeds:
        hint += "; in this loop: " + ", ".join(seeds)
    node = graph.nodes[path[0]]
    return Diagnostic(
        "E_CYCLE",
        f"these nodes form a loop that can never start (every node waits on the previous one): {labels}",
        **node.where(),
        expected="a loop through a seed output or a primed input",
        got="a loop through " + ", ".join(sorted(inside, key=id_key)),
        hint=hint,
    )


def _label(graph: Graph, node_id: str) -> str:
    node = graph.nodes[node_id]
    return f"{node_label(node_id, node.user_id)} ({node.spec.key})"


def _topological(components: list[list[str]], successors: dict[str, list[str]]) -> list[list[str]]:
    """Kahn's algorithm over the condensation, smallest node id first among ready components."""
    comp_of = {n: i for i, c in enumerate(components) for n in c}
    keys = [min(id_key(n) for n in c) for c in components]
    indegree = [0] * len(components)
    out: list[set[int]] = [set() for _ in components]
    for src, targets in successors.items():
        for dst in targets:
            a, b = comp_of[src], comp_of[dst]
            if a != b and b not in out[a]:
                out[a].add(b)
                indegree[b] += 1
    ready = [(keys[i], i) for i in range(len(components)) if indegree[i] == 0]
    heapq.heapify(ready)
    result = []
    while ready:
        _, i = heapq.heappop(ready)
        result.append(components[i])
        for j in out[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                heapq.heappush(ready, (keys[j], j))
    return result
