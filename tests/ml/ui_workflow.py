"""Build UI-format (schema 0.4) workflows the way the ComfyUI frontend saves them, from dnne's node specs.

Used by the tests and to write the example workflows: every widget has a socket entry (`widget: {name}`), optional
inputs carry `shape: 7`, `widgets_values` lists the widgets in spec order with the frontend's
`control_after_generate` companion after an INT named seed, and `widgets_values_named` repeats them by name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dnne.catalog.registry import Catalog, default_catalog


class UIWorkflow:
    def __init__(self, catalog: Catalog | None = None):
        self.catalog = catalog or default_catalog()
        self.nodes: list[dict[str, Any]] = []
        self.links: list[list[Any]] = []
        self._by_id: dict[int, dict[str, Any]] = {}
        # The frontend's workflow id; examples each carry their own, so their exports and runs never share a folder.
        self.workflow_id = "00000000-0000-4000-8000-000000000000"

    def add(
        self,
        key: str,
        widgets: dict[str, Any] | None = None,
        *,
        title: str | None = None,
        pos: tuple[float, float] | None = None,
    ) -> int:
        spec = self.catalog.get(key)
        if spec is None:
            raise KeyError(f"unknown node type {key!r}")
        values = {w.name: w.default for w in spec.widgets}
        unknown = set(widgets or {}) - set(values)
        if unknown:
            raise KeyError(f"{key} has no widgets {sorted(unknown)}")
        values.update(widgets or {})
        node_id = len(self.nodes) + 1
        inputs = []
        for inp in spec.inputs:
            entry: dict[str, Any] = {"name": inp.name, "type": inp.type, "link": None}
            if inp.is_widget:
                entry["widget"] = {"name": inp.name}
            if not inp.required:
                entry["shape"] = 7
            inputs.append(entry)
        # the frontend lists linkable sockets before widget sockets
        inputs.sort(key=lambda e: "widget" in e)
        flat: list[Any] = []
        named: dict[str, Any] = {}
        for w in spec.widgets:
            flat.append(values[w.name])
            named[w.name] = values[w.name]
            if w.has_control_widget:
                flat.append("fixed")
                named["control_after_generate"] = "fixed"
        node = {
            "id": node_id,
            "type": key,
            "pos": list(pos or (60 + 300 * (len(self.nodes) % 5), 80 + 260 * (len(self.nodes) // 5))),
            "size": [270, 58 + 26 * (len(spec.inputs) + len(spec.outputs))],
            "flags": {},
            "order": len(self.nodes),
            "mode": 0,
            "inputs": inputs,
            "outputs": [
                {"name": o.name, "type": o.type, "links": None, "slot_index": i} for i, o in enumerate(spec.outputs)
            ],
            "properties": {"Node name for S&R": key},
            "widgets_values": flat,
            "widgets_values_named": named,
        }
        if title:
            node["title"] = title
        self.nodes.append(node)
        self._by_id[node_id] = node
        return node_id

    def find(self, key: str) -> int:
        """The id of the (first) node of type `key`."""
        return next(n["id"] for n in self.nodes if n["type"] == key)

    def link(self, src: int, output: str, dst: int, input: str) -> int:
        s, d = self._by_id[src], self._by_id[dst]
        out_slot = next(i for i, o in enumerate(s["outputs"]) if o["name"] == output)
        in_slot = next(i for i, o in enumerate(d["inputs"]) if o["name"] == input)
        link_id = len(self.links) + 1
        link_type = s["outputs"][out_slot]["type"]
        self.links.append([link_id, src, out_slot, dst, in_slot, link_type])
        s["outputs"][out_slot]["links"] = (s["outputs"][out_slot]["links"] or []) + [link_id]
        d["inputs"][in_slot]["link"] = link_id
        return link_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.workflow_id,
            "revision": 0,
            "last_node_id": len(self.nodes),
            "last_link_id": len(self.links),
            "nodes": self.nodes,
            "links": self.links,
            "groups": [],
            "config": {},
            "extra": {"ds": {"scale": 0.8, "offset": [0, 0]}, "frontendVersion": "1.58.1"},
            "version": 0.4,
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


def supervised_workflow(
    layers: list[tuple[str, dict[str, Any]]],
    *,
    dataset: str = "MNISTDataset",
    optimizer: tuple[str, dict[str, Any]] = ("AdamOptimizer", {"learning_rate": 0.001}),
    batch_size: int = 64,
    max_epochs: int = 2,
    evaluate: bool = True,
    seed: int = 1,
    network_widgets: dict[str, Any] | None = None,
    schedule: dict[str, Any] | None = None,
) -> UIWorkflow:
    """The original DNNE MNIST wiring (§3.1) with the given layer chain, optimizer and an Evaluate node."""
    wf = UIWorkflow()
    ds = wf.add(dataset, {"data_path": "./data", "train": True, "download": True}, pos=(40, 80))
    sampler = wf.add("BatchSampler", {"batch_size": batch_size, "shuffle": True, "seed": seed}, pos=(340, 80))
    get = wf.add("GetBatch", pos=(640, 80))
    net = wf.add(
        "Network",
        {
            "checkpoint_enabled": True,
            "checkpoint_trigger_type": "epoch",
            "checkpoint_trigger_value": "1",
            **(network_widgets or {}),
        },
        pos=(940, 80),
    )
    layer_ids = [wf.add(key, widgets, pos=(940 + 300 * i, 420)) for i, (key, widgets) in enumerate(layers)]
    loss = wf.add("CrossEntropyLoss", pos=(1240, 80))
    opt = wf.add(optimizer[0], optimizer[1], pos=(1240, 260))
    step = wf.add("TrainingStep", pos=(1540, 80))
    tracker = wf.add("EpochTracker", {"max_epochs": max_epochs}, pos=(1540, 260))
    wf.link(ds, "dataset", sampler, "dataset")
    wf.link(ds, "schema", sampler, "schema")
    wf.link(sampler, "dataloader", get, "dataloader")
    wf.link(sampler, "schema", get, "schema")
    wf.link(step, "ready", get, "trigger")
    wf.link(get, "images", net, "input")
    wf.link(get, "labels", loss, "labels")
    wf.link(get, "epoch_stats", tracker, "epoch_stats")
    previous, output = net, "layers"
    for layer in layer_ids:
        wf.link(previous, output, layer, "input")
        previous, output = layer, "output"
    wf.link(previous, output, net, "to_output")
    wf.link(net, "output", loss, "predictions")
    wf.link(net, "model", opt, "network")
    if schedule is None:
        wf.link(opt, "optimizer", step, "optimizer")
    else:
        sched = wf.add("LRScheduler", schedule, pos=(1540, 480))
        wf.link(opt, "optimizer", sched, "optimizer")
        wf.link(sampler, "schema", sched, "schema")
        wf.link(sched, "optimizer", step, "optimizer")
    wf.link(loss, "loss", step, "loss")
    wf.link(loss, "loss", tracker, "loss")
    wf.link(loss, "accuracy", tracker, "accuracy")
    if evaluate:
        ev = wf.add("Evaluate", {"split": "test", "batch_size": 1000}, pos=(1240, 480))
        wf.link(net, "model", ev, "model")
        wf.link(ds, "dataset", ev, "dataset")
    return wf
