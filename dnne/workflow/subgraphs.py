"""Subgraph flattening: instances of `definitions.subgraphs[]` are replaced by their inner nodes.

Inner ids become "<instance id>:<inner id>" (joined with ':' at every nesting level). Links from the subgraph input
node (-10) take the instance's incoming link; links to the output node (-20) feed the instance's consumers (a -10 → -20
pass-through is a synthetic Reroute made by ui_graph.py, so it chains and nests like inner nodes). Promoted
widget values on the instance (`proxyWidgets` + `widgets_values`, `widgets_values_named`, or widget inputs) become
constant sources or overrides of the inner node's widget. Muted or bypassed instances are not expanded (modes.py
handles them like any node).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from dnne.workflow.raw import Conn, RawNode, Source
from dnne.workflow.ui_graph import DefinitionInputs, Level, read_level

MAX_DEPTH = 16
# Sizes are saturated here so that an exponential bomb's count stays a small, printable number.
SATURATE = 10**15


@dataclass(frozen=True)
class Budget:
    """What one workflow may expand to after flattening its subgraphs."""

    nodes: int
    links: int
    widget_bytes: int


@dataclass(frozen=True)
class Size:
    nodes: int = 0
    links: int = 0
    widget_bytes: int = 0

    def plus(self, other: Size, times: int = 1) -> Size:
        return Size(
            min(SATURATE, self.nodes + times * other.nodes),
            min(SATURATE, self.links + times * other.links),
            min(SATURATE, self.widget_bytes + times * other.widget_bytes),
        )

    def over(self, budget: Budget) -> list[tuple[str, str, int]]:
        """What exceeds `budget`: (what, expanded count as text, limit) for each (empty when within)."""
        found = []
        for what, got, limit in (
            ("nodes", self.nodes, budget.nodes),
            ("links", self.links, budget.links),
            ("widget bytes", self.widget_bytes, budget.widget_bytes),
        ):
            if got > limit:
                found.append((what, f"more than {SATURATE:,}" if got >= SATURATE else f"{got:,}", limit))
        return found


class TooLarge(Exception):
    """Flattening would exceed the budget: `subgraph` names the definition, `over` what is exceeded."""

    def __init__(self, subgraph: str, over: list[tuple[str, str, int]]):
        super().__init__(subgraph)
        self.subgraph = subgraph
        self.over = over


def _instance_counts(graph: dict, definitions: dict) -> tuple[Size, dict[str, int]]:
    """A level's own size (instances excluded) and how many active instances of each definition it holds."""
    nodes = graph.get("nodes") if isinstance(graph.get("nodes"), list) else []
    links = graph.get("links") if isinstance(graph.get("links"), list) else []
    own = Size(0, len(links), 0)
    uses: dict[str, int] = {}
    for obj in nodes:
        if not isinstance(obj, dict):
            continue
        node_type = obj.get("type")
        if isinstance(node_type, str) and node_type in definitions and obj.get("mode", 0) in (0, None):
            uses[node_type] = uses.get(node_type, 0) + 1
            continue
        values = obj.get("widgets_values")
        own = own.plus(Size(1, 0, len(json.dumps(values)) if values is not None else 0))
    return own, uses


def expanded_sizes(definitions: dict) -> dict[str, Size]:
    """The fully expanded size of every definition, computed from the definition tree alone (iterative post-order,
    each definition once: linear in the file, however large the expansion). A recursive definition counts its
    self-use as empty here; flattening reports it."""
    counts = {key: _instance_counts(definition, definitions) for key, (definition, _) in definitions.items()}
    sizes: dict[str, Size] = {}
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in definitions:
        stack = [root]
        while stack:
            key = stack[-1]
            if state.get(key) is None:
                state[key] = 1
                stack.extend(k for k in counts[key][1] if state.get(k) is None)
                continue
            stack.pop()
            if state[key] == 2:
                continue
            own, uses = counts[key]
            size = own
            for inner, times in uses.items():
                size = size.plus(sizes.get(inner, Size()), times)
            sizes[key] = size
            state[key] = 2
    return sizes


def check_expansion(graph: dict, definitions: dict, budget: Budget) -> tuple[str, list[tuple[str, str, int]]] | None:
    """Before any flattening: (the subgraph to blame, what is over, the total) when the expanded workflow would
    exceed `budget`, else None. The blamed subgraph is the top-level one whose instances add the most nodes."""
    sizes = expanded_sizes(definitions)
    total, uses = _instance_counts(graph, definitions)
    for key, times in uses.items():
        total = total.plus(sizes[key], times)
    over = total.over(budget)
    if not over:
        return None
    worst = max(uses, key=lambda k: (sizes[k].nodes * uses[k], sizes[k].links * uses[k]))
    return subgraph_label(definitions, worst, uses[worst], sizes[worst]), over


def subgraph_label(definitions: dict, key: str, times: int | None = None, size: Size | None = None) -> str:
    definition = definitions[key][0]
    name = definition.get("name") if isinstance(definition.get("name"), str) else None
    label = f"subgraph {name!r} ({key})" if name and name != key else f"subgraph {key!r}"
    if times is not None and size is not None:
        label += f", used {times:,} time(s) at the top level, each expanding to {size.nodes:,} nodes"
    return label[:300]


@dataclass
class _Expanded:
    inner: Level
    in_names: list[str]
    out_names: list[str]
    promoted: dict[str, Any]  # subgraph input name -> constant value (instance input unconnected)


def collect_definitions(graph: dict, path: str, found: dict[str, tuple[dict, str]] | None = None) -> dict:
    """Every subgraph definition by id, including nested `definitions` (iterative)."""
    found = {} if found is None else found
    stack = [(graph, path)]
    while stack:
        current, current_path = stack.pop()
        definitions = current.get("definitions")
        subgraphs = definitions.get("subgraphs") if isinstance(definitions, dict) else None
        if not isinstance(subgraphs, list):
            continue
        for index, definition in enumerate(subgraphs):
            def_path = f"{current_path}.definitions.subgraphs[{index}]"
            if isinstance(definition, dict) and isinstance(definition.get("id"), str):
                found.setdefault(definition["id"], (definition, def_path))
                stack.append((definition, def_path))
    return found


def flatten(
    level: Level,
    definitions: dict,
    *,
    budget: Budget,
    definition_inputs: DefinitionInputs | None = None,
    _stack: tuple[str, ...] = (),
) -> Level:
    """Expand every active subgraph instance in `level` (recursively). Raises TooLarge past `budget`: the running
    totals cover every instance of the level, so the check holds during expansion, not only per instance."""
    instances = [n for n in level.nodes.values() if n.type in definitions and n.mode == 0]
    if not instances:
        return level
    expanded: dict[str, _Expanded] = {}
    nodes_so_far, links_so_far = len(level.nodes), len(level.conns)
    for inst in instances:
        if inst.type in _stack or len(_stack) >= MAX_DEPTH:
            level.add(
                "E_UNSUPPORTED",
                "this subgraph contains itself" if inst.type in _stack else "subgraphs are nested too deeply",
                **inst.where(),
                hint="subgraphs may nest, but not recursively",
            )
            continue
        definition, def_path = definitions[inst.type]
        inner_level = read_level(definition, def_path, is_subgraph=True, definition_inputs=definition_inputs)
        inner = _prefixed(inner_level, inst)
        inner_ids = inner.ids  # before nested flattening, which builds a new level
        inner = flatten(
            inner, definitions, budget=budget, definition_inputs=definition_inputs, _stack=(*_stack, inst.type)
        )
        nodes_so_far += len(inner.nodes) - 1
        links_so_far += len(inner.conns)
        over = Size(nodes_so_far, links_so_far).over(Budget(budget.nodes, budget.links, SATURATE))
        if over:
            raise TooLarge(subgraph_label(definitions, inst.type), over)
        in_names = _io_names(definition.get("inputs"))
        out_names = _io_names(definition.get("outputs"))
        expanded[inst.id] = _Expanded(inner, in_names, out_names, _promote(inst, in_names, inner, inner_ids))
    if not expanded:
        return level
    return _merge(level, expanded)


def _io_names(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [
        i.get("name") if isinstance(i, dict) and isinstance(i.get("name"), str) else f"#{k}"
        for k, i in enumerate(items)
    ]


def _prefixed(level: Level, inst: RawNode) -> Level:
    """The inner level of instance `inst` with ids "<instance id>:<inner id>". A node gets a user id ("sampler:a",
    the frontend's own execution id) when the instance's or its own id was mapped."""
    prefix = inst.id + ":"
    out = Level(diagnostics=level.diagnostics)
    out.ids = {text: prefix + internal for text, internal in level.ids.items()}
    for node in level.nodes.values():
        if inst.user_id is not None or node.user_id is not None:
            node.user_id = (inst.user_id or inst.id) + ":" + (node.user_id or node.id)
        node.id = prefix + node.id
        out.nodes[node.id] = node
    for conn in level.conns:
        src = conn.src
        if src.node is not None:
            src.node = prefix + src.node
        out.conns.append(Conn(src, prefix + conn.dst, conn.dst_input, conn.type, conn.link_id))
    out.from_inputs = [(k, prefix + dst, name) for k, dst, name in level.from_inputs]
    for k, src in level.to_outputs:
        if src.node is not None:
            src.node = prefix + src.node
        out.to_outputs.append((k, src))
    out.orphans = [(prefix + node_id, name, link) for node_id, name, link in level.orphans]
    out.broken = {(prefix + node_id, name) for node_id, name in level.broken}
    return out


def _promote(inst: RawNode, in_names: list[str], inner: Level, inner_ids: dict[str, str]) -> dict[str, Any]:
    """Promoted widget values of an instance: subgraph-input constants (returned) and inner overrides (applied).
    `inner_ids`: the definition's own node ids (the file's text, as proxyWidgets name them) → prefixed ids."""
    promoted: dict[str, Any] = {}
    proxies = inst.properties.get("proxyWidgets")
    values = inst.widgets_values if isinstance(inst.widgets_values, list) else None
    named = inst.widgets_named or (inst.widgets_values if isinstance(inst.widgets_values, dict) else None)
    if isinstance(proxies, list) and values and len(values) == len(proxies):
        for proxy, value in zip(proxies, values, strict=True):
            if not (isinstance(proxy, list) and len(proxy) == 2 and all(isinstance(p, str) for p in proxy)):
                continue
            inner_id, widget_name = proxy
            head, sep, rest = inner_id.partition(":")  # "3:1": node 1 inside the definition's nested instance 3
            target = inner_ids.get(inner_id) or (inner_ids[head] + sep + rest if sep and head in inner_ids else None)
            if inner_id == "-1":
                promoted[widget_name] = value
            elif target in inner.nodes:
                inner.nodes[target].overrides[widget_name] = value
        return promoted
    widget_inputs = [slot for slot in inst.inputs if slot.widget is not None]
    if named:
        for name, value in named.items():
            if name in in_names:
                promoted[name] = value
    elif values and len(values) == len(widget_inputs):
        for slot, value in zip(widget_inputs, values, strict=True):
            if slot.name in in_names:
                promoted[slot.name] = value
    return promoted


def _merge(level: Level, expanded: dict[str, _Expanded]) -> Level:
    out = Level(diagnostics=list(level.diagnostics))
    targets: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    outs: dict[tuple[str, int], Source] = {}
    for inst_id, exp in expanded.items():
        for k, dst, dst_input in exp.inner.from_inputs:
            if k < len(exp.in_names):
                targets[(inst_id, exp.in_names[k])].append((dst, dst_input))
        for k, src in exp.inner.to_outputs:
            outs[(inst_id, k)] = src
    fed: set[tuple[str, str]] = set()

    def sources(src: Source) -> Source | None:
        exp = expanded.get(src.node) if src.node is not None else None
        if exp is None:
            return src
        slot = src.slot
        if slot is None and src.name in exp.out_names:
            slot = exp.out_names.index(src.name)
        return outs.get((src.node, slot)) if slot is not None else None

    def dests(dst: str, dst_input: str) -> list[tuple[str, str]]:
        if dst in expanded:
            fed.add((dst, dst_input))
            return targets.get((dst, dst_input), [])
        return [(dst, dst_input)]

    for node_id, node in level.nodes.items():
        if node_id not in expanded:
            out.nodes[node_id] = node
    for exp in expanded.values():
        out.nodes.update(exp.inner.nodes)
        out.diagnostics.extend(exp.inner.diagnostics)
        out.orphans.extend(exp.inner.orphans)
        out.broken |= exp.inner.broken
    for conn in [*level.conns, *(c for exp in expanded.values() for c in exp.inner.conns)]:
        src = sources(conn.src)
        if src is None:
            continue
        for dst, dst_input in dests(conn.dst, conn.dst_input):
            out.conns.append(Conn(src, dst, dst_input, conn.type, conn.link_id))
    for k, dst, dst_input in level.from_inputs:
        out.from_inputs.extend((k, d, i) for d, i in dests(dst, dst_input))
    for inst_id, exp in expanded.items():
        for name, value in exp.promoted.items():
            if (inst_id, name) in fed:
                continue
            for dst, dst_input in targets.get((inst_id, name), []):
                out.conns.append(Conn(Source(None, constant=value, is_constant=True), dst, dst_input))
    for k, src in level.to_outputs:
        resolved = sources(src)
        if resolved is not None:
            out.to_outputs.append((k, resolved))
    out.orphans.extend(level.orphans)
    out.broken |= level.broken
    return out
