"""Bypassed / muted nodes and frontend-only nodes (Reroute, PrimitiveNode, Note, GetNode/SetNode) are resolved away.

Each connection into a remaining node gets its real source: through Reroute chains, through bypassed nodes (the
first input whose type matches the output's, preferring the same slot index), from a GetNode to the input of the
SetNode with the same name (KJNodes wormholes, matched within one graph level: the id prefix before the last ':'),
to a PrimitiveNode's value (a constant source), or to nothing when the chain ends at a muted node or an unconnected
input.
"""

from __future__ import annotations

from typing import Any

from dnne.errors import node_id_key, node_label
from dnne.runtime.suggest import did_you_mean
from dnne.workflow.raw import Conn, RawNode, Source, canonical_type, listing, short
from dnne.workflow.ui_graph import Level

MUTED, BYPASSED = 2, 4
REROUTE = "Reroute"
PRIMITIVE = "PrimitiveNode"
GET_NODE, SET_NODE = "GetNode", "SetNode"
WORMHOLES = frozenset({GET_NODE, SET_NODE})
DECORATIVE = frozenset({"Note", "MarkdownNote"})
VIRTUAL = frozenset({REROUTE, PRIMITIVE}) | WORMHOLES | DECORATIVE


def is_legacy_group_node(node_type: str) -> bool:
    return node_type.startswith(("workflow>", "workflow/"))


def left_out(level: Level) -> dict[str, int]:
    """What `resolve` will drop, by kind, for messages such as E_NO_SINK."""
    kinds: dict[str, int] = {}
    for node in level.nodes.values():
        if node.type in DECORATIVE:
            kind = "note"
        elif node.type in VIRTUAL:
            kind = "reroute/primitive/wormhole"
        elif node.mode == BYPASSED:
            kind = "bypassed"
        elif node.mode == MUTED:
            kind = "muted"
        else:
            continue
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def resolve(level: Level) -> Level:
    """Drop virtual, muted and bypassed nodes; rewire every connection into a remaining node to its real source."""
    out = Level(diagnostics=list(level.diagnostics))
    incoming: dict[str, dict[str, Conn]] = {}
    for conn in level.conns:
        incoming.setdefault(conn.dst, {}).setdefault(conn.dst_input, conn)
    for node in level.nodes.values():
        if is_legacy_group_node(node.type):
            out.add(
                "E_UNSUPPORTED",
                "legacy group nodes are not supported",
                **node.where(),
                hint="recreate the group as a subgraph in the editor (right-click → Convert to Subgraph)",
            )
        elif node.mode == MUTED and node.type not in DECORATIVE:
            out.add("W_MUTED", "this node is muted (mode 2) and left out of the program", **node.where())
        elif node.mode != BYPASSED and node.type not in VIRTUAL:
            out.nodes[node.id] = node
    resolver = _Resolver(level.nodes, incoming, out, _setters(level.nodes, out))
    for conn in level.conns:
        if conn.dst not in out.nodes:
            continue
        src = resolver.resolve(conn.src)
        if src is not None:
            out.conns.append(Conn(src, conn.dst, conn.dst_input, conn.type, conn.link_id))
    out.orphans = [o for o in level.orphans if o[0] in out.nodes]
    out.broken = level.broken
    return out


class _Resolver:
    def __init__(
        self,
        nodes: dict[str, RawNode],
        incoming: dict[str, dict[str, Conn]],
        out: Level,
        setters: dict[tuple[str, str], list[RawNode]],
    ):
        self.nodes = nodes
        self.incoming = incoming
        self.out = out
        self.setters = setters
        self.memo: dict[tuple[str, Any], Source | None] = {}
        self.reported: set[str] = set()

    def resolve(self, src: Source) -> Source | None:
        path: list[tuple[str, Any]] = []
        seen: set[tuple[str, Any]] = set()
        result: Source | None = None
        current: Source | None = src
        while current is not None:
            if current.is_constant or current.node is None:
                result = current
                break
            key = (current.node, current.slot if current.slot is not None else current.name)
            if key in self.memo:
                result = self.memo[key]
                break
            if key in seen:
                self._loop(current.node, path)
                result = None
                break
            seen.add(key)
            path.append(key)
            node = self.nodes.get(current.node)
            if node is None or not self._is_pass_through(node):
                result = current
                break
            current, done = self._step(node, current)
            if done:
                result = current
                break
        for key in path:
            self.memo[key] = result
        return result

    @staticmethod
    def _is_pass_through(node: RawNode) -> bool:
        return node.type in VIRTUAL or node.mode in (MUTED, BYPASSED)

    def _step(self, node: RawNode, src: Source) -> tuple[Source | None, bool]:
        """One hop back from a virtual/bypassed/muted node: (next source, whether it is final)."""
        if node.type == PRIMITIVE:
            return self._primitive(node), True
        if node.type in DECORATIVE or node.mode == MUTED:
            return None, True
        if node.type == GET_NODE:
            return self._setter_of(node), False
        inputs = self.incoming.get(node.id, {})
        if node.type in (REROUTE, SET_NODE):
            conn = next(iter(inputs.values()), None)
            return (conn.src if conn else None), conn is None
        slot = src.slot
        if slot is None and src.name is not None:
            slot = next((i for i, o in enumerate(node.outputs) if o.name == src.name), None)
        out_type = canonical_type(node.outputs[slot].type) if slot is not None and slot < len(node.outputs) else "*"
        choice = _bypass_input(node, slot or 0, out_type)
        if choice is None:
            if node.id not in self.reported:
                self.reported.add(node.id)
                self.out.add(
                    "E_BYPASS",
                    f"this node is bypassed, but none of its inputs has the type {out_type} of the output its "
                    "consumers use",
                    **node.where(),
                    expected=f"an input of type {out_type}",
                    got=", ".join(f"{i.name}: {i.type}" for i in node.inputs) or "no inputs",
                    hint="un-bypass the node, or connect the consumers to a matching source",
                )
            return None, True
        conn = inputs.get(choice)
        return (conn.src if conn else None), conn is None

    def _setter_of(self, getter: RawNode) -> Source | None:
        """The SetNode output a GetNode stands for (None, reported once, when there is not exactly one)."""
        name = wormhole_name(getter)
        found = self.setters.get((_scope(getter.id), name), []) if name is not None else []
        if len(found) == 1:
            return Source(found[0].id, slot=0, name="output")
        if getter.id not in self.reported and len(found) == 0:
            self.reported.add(getter.id)
            scope = _scope(getter.id)
            names = sorted(n for s, n in self.setters if s == scope)
            close = did_you_mean(name, names) if name is not None else ""
            hint = f"{close} " if close else ""
            self.out.add(
                "E_WORMHOLE",
                "this GetNode has no name" if name is None else f"no SetNode is named {name!r}",
                **getter.where(),
                field="Constant",
                expected="the name of a SetNode in the same graph",
                got=short(getter.widgets_values if name is None else name),
                hint=hint + "add a SetNode with this name, pick an existing name, or connect the consumer directly",
            )
        return None  # two or more SetNodes: reported by _setters

    def _primitive(self, node: RawNode) -> Source | None:
        values = node.widgets_values
        if isinstance(values, list) and values:
            return Source(None, constant=values[0], is_constant=True, name=node.id)
        self.out.add("E_WIDGETS_SHORT", "this PrimitiveNode holds no value", **node.where(), field="value")
        return None

    def _loop(self, node_id: str, path: list[tuple[str, Any]]) -> None:
        if node_id in self.reported:
            return
        self.reported.add(node_id)
        node = self.nodes[node_id]
        members = sorted({k[0] for k in path}, key=node_id_key)
        kinds = "reroute/bypassed"
        if any(self.nodes[m].type in WORMHOLES for m in members if m in self.nodes):
            kinds = "reroute/bypassed/GetNode/SetNode"
        self.out.add(
            "E_REROUTE_LOOP",
            f"these {kinds} nodes feed each other in a loop: "
            + listing(node_label(m, self.nodes[m].user_id) if m in self.nodes else m for m in members),
            **node.where(),
            hint="a reroute chain must end at a real node's output",
        )


def wormhole_name(node: RawNode) -> str | None:
    """The name a GetNode/SetNode carries in its only widget (a list or a dict of widget values)."""
    values = node.widgets_values
    if isinstance(values, dict):
        values = list(values.values())
    name = values[0] if isinstance(values, list) and values else None
    return name if isinstance(name, str) and name else None


def _scope(node_id: str) -> str:
    """The graph level of a (flattened) node id: "5:2:1" → "5:2"; top-level ids → ""."""
    return node_id.rpartition(":")[0]


def _setters(nodes: dict[str, RawNode], out: Level) -> dict[tuple[str, str], list[RawNode]]:
    """SetNodes by (graph level, name); a nameless SetNode or a second one with the same name is reported."""
    found: dict[tuple[str, str], list[RawNode]] = {}
    for node in nodes.values():
        if node.type != SET_NODE:
            continue
        name = wormhole_name(node)
        if name is None:
            out.add(
                "E_WORMHOLE",
                "this SetNode has no name",
                **node.where(),
                field="Constant",
                expected="a non-empty name",
                got=short(node.widgets_values),
                hint="give the SetNode a name in the editor",
            )
            continue
        same = found.setdefault((_scope(node.id), name), [])
        if same:
            out.add(
                "E_WORMHOLE",
                f"two SetNodes are named {name!r} (nodes {node_label(same[0].id, same[0].user_id)} and {node_label(node.id, node.user_id)}); GetNodes cannot tell them apart",
                **node.where(),
                field="Constant",
                expected="one SetNode per name",
                got=f"{len(same) + 1} SetNodes named {name!r}",
                hint="rename one of them, and point each GetNode at the one it means",
            )
        same.append(node)
    return found


def _bypass_input(node: RawNode, slot: int, out_type: str) -> str | None:
    """The input a bypassed node passes to output `slot` (ComfyUI's _getBypassSlotIndex)."""
    inputs = node.inputs
    if out_type == "*":
        if slot < len(inputs):
            return inputs[slot].name
        return inputs[0].name if inputs else None

    def matches(index: int) -> bool:
        in_type = canonical_type(inputs[index].type)
        return in_type == out_type or bool(set(in_type.split(",")) & set(out_type.split(",")))

    if slot < len(inputs) and matches(slot):
        return inputs[slot].name
    return next((inputs[i].name for i in range(len(inputs)) if matches(i)), None)
