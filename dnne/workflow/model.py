"""The validated graph that every later stage works on (exporters, graph analysis, code generation).

The loader turns any workflow format into this model: ids are strings ("12", or "5:3" for a node flattened out of
subgraph instance 5), always digits and ':' (a workflow's string id like "KSampler" is mapped to a fresh integer and
kept as `user_id`), links are resolved to *names* (source output name → target input name), widget values are
mapped by name and validated against the node's `NodeType`, virtual nodes (Reroute, PrimitiveNode, Note) and
bypassed/muted nodes are gone. Nothing here is trusted to be code: every string is data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dnne.catalog.spec import NodeType


@dataclass(frozen=True)
class Edge:
    src: str  # source node id
    src_output: str  # source output name
    dst: str  # target node id
    dst_input: str  # target input name
    type: str = "*"

    def __str__(self) -> str:
        return f"{self.src}.{self.src_output} -> {self.dst}.{self.dst_input}"


@dataclass
class GraphNode:
    id: str
    spec: NodeType
    title: str
    widgets: dict[str, Any] = field(default_factory=dict)  # every widget input of the spec, by name
    mode: int = 0
    # The workflow's own id when `id` is a mapped one (a string id such as "KSampler" gets a fresh integer): shown in
    # messages, never written into the export.
    user_id: str | None = None

    @property
    def type(self) -> str:
        return self.spec.key

    def where(self) -> dict[str, Any]:
        """Keyword arguments locating this node in a Diagnostic."""
        return {"node_id": self.id, "node_type": self.spec.key, "title": self.title, "user_id": self.user_id}


@dataclass
class Graph:
    name: str  # workflow name (data only: never used as a path or in code except through the literal emitter)
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    source_format: str = "ui-0.4"  # ui-0.4 | ui-1 | api | prompt
    # What the loader left out, by kind ("note", "reroute", "bypassed", …) → count: lets a later "nothing to run"
    # message say what the file does hold.
    left_out: dict[str, int] = field(default_factory=dict)

    def __iter__(self) -> Iterator[GraphNode]:
        return iter(self.nodes.values())

    def incoming(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id]

    def outgoing(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id]

    def input_edge(self, node_id: str, input_name: str) -> Edge | None:
        for e in self.edges:
            if e.dst == node_id and e.dst_input == input_name:
                return e
        return None

    def source_of(self, node_id: str, input_name: str) -> GraphNode | None:
        edge = self.input_edge(node_id, input_name)
        return self.nodes[edge.src] if edge else None

    def consumers(self, node_id: str, output_name: str) -> list[tuple[GraphNode, str]]:
        return [
            (self.nodes[e.dst], e.dst_input) for e in self.edges if e.src == node_id and e.src_output == output_name
        ]
