"""Build workflows in code (UI 0.4, UI 1 and API shapes) from a catalog, as the editor would save them."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from dnne.catalog.registry import Catalog
from dnne.catalog.spec import NodeType


@dataclass
class _Node:
    id: int
    spec: NodeType
    widgets: dict[str, Any]
    title: str | None = None
    mode: int = 0
    control: str | None = "fixed"


@dataclass
class WorkflowBuilder:
    catalog: Catalog
    nodes: list[_Node] = field(default_factory=list)
    links: list[tuple[int, int, str, int, str]] = field(default_factory=list)  # id, src, output, dst, input

    def add(
        self, key: str, title: str | None = None, mode: int = 0, widgets: dict[str, Any] | None = None, **more: Any
    ) -> int:
        """Add a node; widget values by keyword, or as `widgets=` when a widget is named like a parameter."""
        spec = self.catalog.get(key)
        assert spec is not None, key
        values = {w.name: w.default for w in spec.widgets}
        values.update(widgets or {})
        values.update(more)
        node_id = (max((n.id for n in self.nodes), default=0)) + 1
        self.nodes.append(_Node(node_id, spec, values, title, mode))
        return node_id

    def link(self, src: int, output: str, dst: int, input_name: str) -> int:
        link_id = max((lk[0] for lk in self.links), default=0) + 1
        self.links.append((link_id, src, output, dst, input_name))
        return link_id

    def node(self, node_id: int) -> _Node:
        return next(n for n in self.nodes if n.id == node_id)

    # -- serialisations --------------------------------------------------------------------------------------
    def to_ui(self, version: Any = 0.4, *, named: bool = False) -> dict:
        by_id = {n.id: n for n in self.nodes}
        out_links: dict[tuple[int, str], list[int]] = {}
        in_link: dict[tuple[int, str], int] = {}
        for link_id, src, output, dst, input_name in self.links:
            out_links.setdefault((src, output), []).append(link_id)
            in_link[(dst, input_name)] = link_id
        nodes = []
        for n in self.nodes:
            inputs = []
            for i in n.spec.inputs:
                entry: dict[str, Any] = {"name": i.name, "type": i.type, "link": in_link.get((n.id, i.name))}
                if i.is_widget:
                    entry["widget"] = {"name": i.name}
                inputs.append(entry)
            outputs = [{"name": o.name, "type": o.type, "links": out_links.get((n.id, o.name))} for o in n.spec.outputs]
            values: list[Any] = []
            for w in n.spec.widgets:
                values.append(n.widgets[w.name])
                if w.has_control_widget:
                    values.append(n.control)
            node = {
                "id": n.id,
                "type": n.spec.key,
                "pos": [0, 0],
                "size": [200, 100],
                "flags": {},
                "order": n.id,
                "mode": n.mode,
                "inputs": inputs,
                "outputs": outputs,
                "properties": {"Node name for S&R": n.spec.key},
                "widgets_values": values,
            }
            if named:
                node["widgets_values_named"] = dict(n.widgets)
            if n.title is not None:
                node["title"] = n.title
            nodes.append(node)
        links: list[Any] = []
        for link_id, src, output, dst, input_name in self.links:
            s_slot = [o.name for o in by_id[src].spec.outputs].index(output)
            d_slot = [i.name for i in by_id[dst].spec.inputs].index(input_name)
            o_type = by_id[src].spec.outputs[s_slot].type
            if version == 1:
                links.append(
                    {
                        "id": link_id,
                        "origin_id": src,
                        "origin_slot": s_slot,
                        "target_id": dst,
                        "target_slot": d_slot,
                        "type": o_type,
                    }
                )
            else:
                links.append([link_id, src, s_slot, dst, d_slot, o_type])
        doc: dict[str, Any] = {
            "last_node_id": max((n.id for n in self.nodes), default=0),
            "last_link_id": max((lk[0] for lk in self.links), default=0),
            "nodes": nodes,
            "links": links,
            "groups": [],
            "config": {},
            "extra": {},
            "version": version,
        }
        if version == 1:
            doc["state"] = {"lastNodeId": doc.pop("last_node_id"), "lastLinkId": doc.pop("last_link_id")}
        return doc

    def to_api(self) -> dict:
        prompt: dict[str, Any] = {}
        for n in self.nodes:
            inputs: dict[str, Any] = {}
            for w in n.spec.widgets:
                value = n.widgets[w.name]
                inputs[w.name] = {"__value__": value} if isinstance(value, list) else copy.deepcopy(value)
            prompt[str(n.id)] = {"class_type": n.spec.key, "inputs": inputs, "_meta": {"title": n.title or n.spec.key}}
        for _, src, output, dst, input_name in self.links:
            slot = [o.name for o in self.node(src).spec.outputs].index(output)
            prompt[str(dst)]["inputs"][input_name] = [str(src), slot]
        return prompt


def mnist(catalog: Catalog) -> WorkflowBuilder:
    """The original MNIST training graph (without the Network's layer chain loop)."""
    b = WorkflowBuilder(catalog)
    ds = b.add("MNISTDataset")
    bs = b.add("BatchSampler", batch_size=64, seed=7)
    gb = b.add("GetBatch")
    net = b.add("Network")
    l1 = b.add("LinearLayer", output_size=10, activation="none")
    opt = b.add("SGDOptimizer", learning_rate=0.05)
    loss = b.add("CrossEntropyLoss")
    step = b.add("TrainingStep")
    tracker = b.add("EpochTracker", max_epochs=2)
    b.link(ds, "dataset", bs, "dataset")
    b.link(ds, "schema", bs, "schema")
    b.link(bs, "dataloader", gb, "dataloader")
    b.link(bs, "schema", gb, "schema")
    b.link(step, "ready", gb, "trigger")
    b.link(gb, "images", net, "input")
    b.link(net, "layers", l1, "input")
    b.link(l1, "output", net, "to_output")
    b.link(net, "output", loss, "predictions")
    b.link(gb, "labels", loss, "labels")
    b.link(net, "model", opt, "network")
    b.link(opt, "optimizer", step, "optimizer")
    b.link(loss, "loss", step, "loss")
    b.link(gb, "epoch_stats", tracker, "epoch_stats")
    b.link(loss, "loss", tracker, "loss")
    b.link(loss, "accuracy", tracker, "accuracy")
    return b
