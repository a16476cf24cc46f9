"""Validation of a resolved workflow against the catalog → `Graph` (bad-inputs cases 8, 11, 13, 14, 16, 17, 19–23).

Every problem is collected; titles and types are data and are never interpreted.
"""

from __future__ import annotations

from typing import Any

from dnne.catalog.registry import Catalog
from dnne.catalog.spec import NodeType, OutputSpec, types_compatible
from dnne.errors import Diagnostic, node_id_key, node_label
from dnne.runtime.suggest import did_you_mean
from dnne.workflow.model import Edge, Graph, GraphNode
from dnne.workflow.raw import LEGACY_TYPE_NAMES, Conn, RawNode, canonical_type, short
from dnne.workflow.ui_graph import Level
from dnne.workflow.widgets import WidgetMapper, check_value

CONSTANT_TYPES = frozenset({"FloatConstant", "IntConstant", "StringConstant"})
LEGACY_SOCKET_TYPES = frozenset({"CONTEXT"})


def validate(level: Level, catalog: Catalog, *, name: str, source_format: str) -> tuple[Graph, list[Diagnostic]]:
    """The graph (complete only when no error was reported) and the diagnostics of this stage."""
    return _Validator(level, catalog).run(name, source_format)


class _Validator:
    def __init__(self, level: Level, catalog: Catalog):
        self.level = level
        self.catalog = catalog
        self.diags: list[Diagnostic] = []
        self.specs: dict[str, NodeType] = {}
        self.widgets: dict[str, dict[str, Any]] = {}
        self.orphans: dict[str, list[tuple[str, Any]]] = {}
        for node_id, input_name, link_id in level.orphans:
            self.orphans.setdefault(node_id, []).append((input_name, link_id))

    def add(self, code: str, message: str, **where: Any) -> None:
        self.diags.append(Diagnostic(code, message, **where))

    def where(self, node: RawNode) -> dict[str, Any]:
        spec = self.specs.get(node.id)
        return {
            "node_id": node.id,
            "user_id": node.user_id,
            "node_type": spec.key if spec else node.type,
            "title": node.title or (spec.display_name if spec else None),
        }

    # ------------------------------------------------------------------------------------------------------
    def run(self, name: str, source_format: str) -> tuple[Graph, list[Diagnostic]]:
        nodes = self.level.nodes
        self._lookup_types(nodes)
        by_dst: dict[str, list[Conn]] = {}
        for conn in self.level.conns:
            by_dst.setdefault(conn.dst, []).append(conn)
        linked_widgets = {
            node_id: {c.dst_input for c in conns if self._is_widget_input(node_id, c.dst_input)}
            for node_id, conns in by_dst.items()
        }
        for node_id, spec in self.specs.items():
            node = nodes[node_id]
            mapper = WidgetMapper(node, spec, _canonical_names(spec, linked_widgets.get(node_id, set())), self.diags)
            self.widgets[node_id] = mapper.map()
        graph = Graph(name=name, source_format=source_format)
        inlined_from: dict[str, int] = {}
        used_constant: dict[str, int] = {}
        for conn in self.level.conns:
            if conn.src.node is not None and not conn.src.is_constant:
                used_constant[conn.src.node] = used_constant.get(conn.src.node, 0) + 1
        edges: list[tuple[tuple, Edge]] = []
        for node_id, spec in self.specs.items():
            node = nodes[node_id]
            connected = self._inputs(node, spec, by_dst.get(node_id, []), edges, inlined_from, used_constant)
            self._orphans_and_required(node, spec, connected)
            self._legacy_sockets(node, spec, connected)
            for w in spec.widgets:
                if w.name in self.widgets[node_id]:
                    check_value(w, self.widgets[node_id][w.name], self.where(node), self.diags)
            graph.nodes[node_id] = GraphNode(
                id=node_id,
                spec=spec,
                title=node.title or spec.display_name,
                widgets={
                    w.name: self.widgets[node_id][w.name] for w in spec.widgets if w.name in self.widgets[node_id]
                },
                mode=0,
                user_id=node.user_id,
            )
        graph.nodes = {k: graph.nodes[k] for k in sorted(graph.nodes, key=_id_key)}
        for src_id, count in inlined_from.items():
            if count == used_constant.get(src_id) and src_id in graph.nodes:
                del graph.nodes[src_id]  # a constant node whose every consumer took its value inline
        edges.sort(key=lambda item: item[0])
        graph.edges = [e for _, e in edges if e.src in graph.nodes and e.dst in graph.nodes]
        return graph, self.diags

    # ------------------------------------------------------------------------------------------------------
    def _lookup_types(self, nodes: dict[str, RawNode]) -> None:
        known = sorted(set(self.catalog.keys()))
        for node in nodes.values():
            key = self.catalog.canonical(node.type)
            spec = self.catalog.get(key) if key else None
            if spec is None:
                close = did_you_mean(node.type, known, n=3)
                self.add(
                    "E_UNKNOWN_TYPE",
                    f"unknown node type {short(node.type)}",
                    node_id=node.id,
                    user_id=node.user_id,
                    node_type=node.type,
                    title=node.title or None,
                    hint=close or "install the node pack that provides it (dnne nodes lists the known types)",
                )
                continue
            if key != node.type:
                self.add(
                    "W_LEGACY_TYPE",
                    f"legacy node type {node.type!r} is read as {key!r}",
                    node_id=node.id,
                    user_id=node.user_id,
                    node_type=key,
                    title=node.title or None,
                    got=node.type,
                )
            self.specs[node.id] = spec

    def _is_widget_input(self, node_id: str, input_name: str) -> bool:
        spec = self.specs.get(node_id)
        found = spec.input(input_name) if spec else None
        return bool(found and found.is_widget)

    def _output(self, conn: Conn) -> tuple[OutputSpec | None, bool]:
        """The source output spec of a connection, and whether the link is a dropped legacy socket."""
        src = conn.src
        spec = self.specs[src.node]  # type: ignore[index]
        node = self.level.nodes[src.node]  # type: ignore[index]
        if src.name is not None:
            found = spec.output(src.name)
            if found is not None:
                return found, False
            raw_type = next((o.type for o in node.outputs if o.name == src.name), "")
            if src.name == "context" or raw_type in LEGACY_SOCKET_TYPES:
                return None, True
            if src.slot is None:
                self.add(
                    "E_UNKNOWN_OUTPUT",
                    f"{spec.key} has no output {src.name!r}",
                    **self.where(node),
                    field=src.name,
                    expected=", ".join(o.name for o in spec.outputs) or "no outputs",
                    got=src.name,
                    hint=did_you_mean(src.name, [o.name for o in spec.outputs], n=3) or None,
                )
                return None, False
        if src.slot is not None and src.slot < len(spec.outputs):
            return spec.outputs[src.slot], False
        self.add(
            "E_SLOT",
            f"a link leaves output slot {src.slot} ({src.name or 'unnamed'}), but {spec.key} has "
            f"{len(spec.outputs)} output(s)",
            **self.where(node),
            expected=", ".join(f"{i} {o.name}" for i, o in enumerate(spec.outputs)) or "no outputs",
            got=str(src.slot),
        )
        return None, False

    def _inputs(self, node, spec, conns, edges, inlined_from, used_constant) -> set[str]:
        """Check the connections into `node`; returns the names of its connected inputs."""
        where = self.where(node)
        connected: dict[str, Conn] = {}
        input_index = {i.name: k for k, i in enumerate(spec.inputs)}
        for conn in conns:
            target = spec.input(conn.dst_input)
            if target is None:
                raw_type = next((i.type for i in node.inputs if i.name == conn.dst_input), "")
                if conn.dst_input == "context" or raw_type in LEGACY_SOCKET_TYPES:
                    self.add(
                        "W_LEGACY_SOCKET",
                        "the legacy `context` input is connected; the link is dropped",
                        **where,
                        field=conn.dst_input,
                    )
                    continue
                self.add(
                    "E_UNKNOWN_INPUT",
                    f"{spec.key} has no input {conn.dst_input!r}",
                    **where,
                    field=conn.dst_input,
                    expected=", ".join(i.name for i in spec.inputs) or "no inputs",
                    got=conn.dst_input,
                    hint=did_you_mean(conn.dst_input, [i.name for i in spec.inputs], n=3) or None,
                )
                continue
            if target.name != conn.dst_input:
                self.add(
                    "W_LEGACY_INPUT",
                    f"input {conn.dst_input!r} is now called {target.name!r}",
                    **where,
                    field=target.name,
                )
            if target.name in connected:
                self.add(
                    "E_MULTI_INPUT",
                    f"input {target.name!r} is fed by more than one link",
                    **where,
                    field=target.name,
                    hint="an input takes one link; remove the others",
                )
                continue
            connected[target.name] = conn
            if conn.src.is_constant:
                if target.is_widget:
                    self.widgets[node.id][target.name] = conn.src.constant
                else:
                    self.add(
                        "E_UNSUPPORTED",
                        f"socket {target.name!r} is fed by a constant (PrimitiveNode or promoted widget)",
                        **where,
                        field=target.name,
                        hint="primitive values can only feed widget inputs; use a constant node instead",
                    )
                continue
            if conn.src.node not in self.specs:
                continue  # unknown source type: already reported
            output, legacy = self._output(conn)
            if legacy:
                self.add(
                    "W_LEGACY_SOCKET",
                    "a link from the legacy `context` output is dropped",
                    **self.where(self.level.nodes[conn.src.node]),
                    field="context",
                )
                del connected[target.name]
                continue
            if output is None:
                continue
            src_spec = self.specs[conn.src.node]
            self._check_types(node, target, conn, output)
            if target.is_widget:
                if src_spec.key in CONSTANT_TYPES and "value" in self.widgets.get(conn.src.node, {}):
                    self.widgets[node.id][target.name] = self.widgets[conn.src.node]["value"]
                    inlined_from[conn.src.node] = inlined_from.get(conn.src.node, 0) + 1
                else:
                    self.add(
                        "E_UNSUPPORTED",
                        f"widget {target.name!r} is fed by a link from {src_spec.key}; only constant sources "
                        "(PrimitiveNode, FloatConstant, IntConstant, StringConstant) can feed a widget",
                        **where,
                        field=target.name,
                        hint="disconnect the link and set the value on the node",
                    )
                continue
            edge = Edge(conn.src.node, output.name, node.id, target.name, canonical_type(output.type))
            edges.append(((_id_key(node.id), input_index[target.name]), edge))
        return set(connected)

    def _check_types(self, node: RawNode, target, conn: Conn, output: OutputSpec) -> None:
        out_type, in_type = canonical_type(output.type), canonical_type(target.type)
        if target.is_widget:
            ok = types_compatible(out_type, in_type) or (target.type == "COMBO" and out_type in ("STRING", "*"))
        else:
            ok = types_compatible(out_type, in_type)
        if not ok:
            src_node = self.level.nodes[conn.src.node]
            self.add(
                "E_TYPE_MISMATCH",
                f"input {target.name!r} takes {in_type}, but it is connected to output {output.name!r} "
                f"({out_type}) of node {node_label(src_node.id, src_node.user_id)}",
                **self.where(node),
                field=target.name,
                expected=in_type,
                got=out_type,
                hint="connect an output of the matching type",
            )
        if conn.type in LEGACY_TYPE_NAMES:
            self.add(
                "W_LEGACY_TYPE",
                f"link type {conn.type} is the old name of {LEGACY_TYPE_NAMES[conn.type]}",
                **self.where(node),
                field=target.name,
            )

    def _orphans_and_required(self, node: RawNode, spec: NodeType, connected: set[str]) -> None:
        where = self.where(node)
        orphaned = set()
        for name, link_id in self.orphans.get(node.id, []):
            target = spec.input(name)
            required = bool(target and target.required and not target.is_widget)
            orphaned.add(target.name if target else name)
            self.add(
                "E_ORPHAN_INPUT_LINK" if required else "W_ORPHAN_INPUT_LINK",
                f"input {name!r} names link {short(link_id)}, which is not in the links list"
                + ("" if required else "; it is left unconnected"),
                **where,
                field=name,
                hint="reconnect the input in the editor" if required else None,
            )
        for socket in spec.sockets:
            if (node.id, socket.name) in self.level.broken:
                continue
            if socket.required and socket.name not in connected and socket.name not in orphaned:
                self.add(
                    "E_REQUIRED_INPUT",
                    f"required input {socket.name!r} ({socket.type}) is not connected",
                    **where,
                    field=socket.name,
                    expected=f"a link from a {socket.type} output",
                    got="nothing",
                    hint="connect it (a muted or bypassed source leaves it unconnected)",
                )

    def _legacy_sockets(self, node: RawNode, spec: NodeType, connected: set[str]) -> None:
        for slot in node.inputs:
            if spec.input(slot.name) is None and (slot.name == "context" or slot.type in LEGACY_SOCKET_TYPES):
                self.add(
                    "W_LEGACY_SOCKET",
                    "the legacy `context` socket is ignored",
                    **self.where(node),
                    field=slot.name,
                )
                return


def _canonical_names(spec: NodeType, names: set[str]) -> set[str]:
    return {found.name for name in names if (found := spec.input(name)) is not None}


def _id_key(node_id: str) -> tuple:
    return node_id_key(node_id)
