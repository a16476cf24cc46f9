"""Hypothesis strategies over a Catalog: valid-by-construction workflows and one-defect mutations of them.

    valid_workflows(catalog)   → Drawn(doc, fmt, builder): loads with no error (warnings allowed)
    mutated_workflows(catalog) → Mutated(data: bytes, code, allowed): fails with `code` (+ only `allowed` others)

Valid workflows are DAGs: every required socket is fed by an earlier node's compatible output, widget values are
drawn inside their ranges/choices. Reusable by other test suites (pass the real catalog).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from dnne.catalog.registry import Catalog
from dnne.catalog.spec import InputSpec, NodeType, types_compatible
from tests.workflow.builder import WorkflowBuilder

FORMATS = ("ui-0.4", "ui-1", "api")


@dataclass
class Drawn:
    doc: dict
    fmt: str
    builder: WorkflowBuilder


@dataclass
class Mutated:
    data: bytes
    code: str
    allowed: frozenset[str] = frozenset()
    description: str = ""


def widget_values(spec: InputSpec) -> st.SearchStrategy[Any]:
    """Values that pass `check_widget_value` for this widget."""
    if spec.type == "BOOLEAN":
        return st.booleans()
    if spec.type == "COMBO":
        return st.sampled_from(spec.options)
    if spec.type == "STRING":
        # Half the time the default: exporters refuse many arbitrary strings (env names, CSV columns), and the
        # property test must still see graphs that export.
        default = st.just(spec.default) if isinstance(spec.default, str) else st.nothing()
        return st.one_of(default, st.text(max_size=20))
    lo = spec.min if spec.min is not None else -(10**6)
    hi = spec.max if spec.max is not None else 10**6
    if spec.type == "INT":  # check_widget_value caps integers at 18 digits
        return st.integers(max(math.ceil(lo), -(10**18)), min(math.floor(hi), 10**18))
    return st.floats(float(lo), float(hi), allow_nan=False, allow_infinity=False)


def _producible(node_type: NodeType, outputs: list[tuple[int, str, str]]) -> bool:
    return all(any(types_compatible(t, s.type) for _, _, t in outputs) for s in node_type.sockets if s.required)


@st.composite
def valid_workflows(draw, catalog: Catalog, max_nodes: int = 8, formats: tuple[str, ...] = FORMATS) -> Drawn:
    types = [t for t in catalog if all(i.type != "COMBO" or i.options for i in t.widgets)]
    b = WorkflowBuilder(catalog)
    outputs: list[tuple[int, str, str]] = []  # (node id, output name, type)
    for _ in range(draw(st.integers(1, max_nodes))):
        candidates = [t for t in types if _producible(t, outputs)]
        node_type = draw(st.sampled_from(candidates))
        widgets = {w.name: draw(widget_values(w)) for w in node_type.widgets}
        title = draw(st.one_of(st.none(), st.text(max_size=12)))
        node_id = b.add(node_type.key, title=title, widgets=widgets)
        for socket in node_type.sockets:
            options = [(n, o) for n, o, t in outputs if types_compatible(t, socket.type)]
            if options and (socket.required or draw(st.booleans())):
                src, out = draw(st.sampled_from(options))
                b.link(src, out, node_id, socket.name)
        outputs.extend((node_id, o.name, o.type) for o in node_type.outputs)
    fmt = draw(st.sampled_from(formats))
    doc = b.to_api() if fmt == "api" else b.to_ui(version=1 if fmt == "ui-1" else 0.4)
    return Drawn(doc, fmt, b)


def _text(doc: dict) -> bytes:
    return json.dumps(doc).encode()


@st.composite
def mutated_workflows(draw, catalog: Catalog, max_nodes: int = 6) -> Mutated:
    """A valid UI workflow with exactly one defect."""
    drawn = draw(valid_workflows(catalog, max_nodes=max_nodes, formats=("ui-0.4",)))
    doc = drawn.doc
    nodes = doc["nodes"]
    choices = ["unknown_type", "mode", "widgets_long", "parse", "dup_key", "dup_link", "node_id"]
    with_widgets = [n for n in nodes if _spec(catalog, n).widgets]
    with_required = [n for n in nodes if any(w.required for w in _spec(catalog, n).widgets)]
    if with_widgets:
        choices.append("widget_type")
    if with_required:
        choices.append("widgets_short")
    if any(_ranged(catalog, n) for n in nodes):
        choices.append("widget_range")
    required_links = [lk for lk in doc["links"] if _target_socket(catalog, doc, lk).required]
    if required_links:
        choices.append("required_input")
    if any(isinstance(v, float) for n in nodes for v in n["widgets_values"]):
        choices.append("nonfinite")
    kind = draw(st.sampled_from(choices))
    node = draw(st.sampled_from(nodes))
    if kind == "unknown_type":
        node["type"] = "NoSuchNodeType"
        return Mutated(_text(doc), "E_UNKNOWN_TYPE", description=kind)
    if kind == "mode":
        node["mode"] = draw(st.sampled_from([1, 3, 5, 9, -1, "4"]))
        return Mutated(_text(doc), "E_MODE", description=kind)
    if kind == "widgets_long":
        node["widgets_values"].append(12345)
        return Mutated(_text(doc), "E_WIDGETS_LONG", description=kind)
    if kind == "parse":
        text = _text(doc)
        cut = draw(st.integers(1, len(text) - 1))
        return Mutated(text[:cut], "E_PARSE", description=kind)
    if kind == "dup_key":
        return Mutated(_text(doc).replace(b'"mode": ', b'"mode": 0, "mode": ', 1), "E_DUP_KEY", description=kind)
    if kind == "dup_link":
        if not doc["links"]:
            doc["links"].append([1, node["id"], 0, node["id"], 0, "*"])
        doc["links"].append(list(doc["links"][0]))
        allowed = frozenset({"E_LINK_CONFLICT", "E_SLOT"}) if len(doc["links"]) == 2 else frozenset()
        return Mutated(_text(doc), "E_DUP_LINK", allowed, description=kind)
    if kind == "node_id":
        node["id"] = draw(st.sampled_from(["", -3, "-3", 1.5, True, None, [1]]))  # string ids load: test_node_ids
        return Mutated(_text(doc), "E_NODE_ID", frozenset({"E_DANGLING_LINK", "E_REQUIRED_INPUT"}), description=kind)
    if kind == "widget_type":
        node = draw(st.sampled_from(with_widgets))
        spec = _spec(catalog, node)
        index, widget = draw(st.sampled_from(list(_widget_positions(spec))))
        wrong = {"INT": "32", "FLOAT": "0.5", "BOOLEAN": "true", "STRING": 7, "COMBO": 7}[widget.type]
        node["widgets_values"][index] = wrong
        code = "E_NOT_IN_LIST" if widget.type == "COMBO" else "E_WIDGET_TYPE"
        return Mutated(_text(doc), code, description=f"{kind} {widget.name}")
    if kind == "widgets_short":
        node = draw(st.sampled_from(with_required))
        last = [i for i, w in _widget_positions(_spec(catalog, node)) if w.required][-1]
        del node["widgets_values"][last:]  # the last required widget (and any optional ones after it)
        return Mutated(_text(doc), "E_WIDGETS_SHORT", description=kind)
    if kind == "widget_range":
        node = draw(st.sampled_from([n for n in nodes if _ranged(catalog, n)]))
        index, widget = draw(st.sampled_from(_ranged(catalog, node)))
        over = widget.max + 1 if widget.type == "INT" else widget.max * 2 + 1
        node["widgets_values"][index] = over
        return Mutated(_text(doc), "E_WIDGET_RANGE", description=f"{kind} {widget.name}")
    if kind == "required_input":
        link = draw(st.sampled_from(required_links))
        doc["links"].remove(link)
        for n in nodes:
            for slot in n["inputs"]:
                if slot["link"] == link[0]:
                    slot["link"] = None
            for slot in n["outputs"]:
                if slot["links"] and link[0] in slot["links"]:
                    slot["links"].remove(link[0])
        return Mutated(_text(doc), "E_REQUIRED_INPUT", description=kind)
    floats = [(n, i) for n in nodes for i, v in enumerate(n["widgets_values"]) if isinstance(v, float)]
    target, index = draw(st.sampled_from(floats))
    target["widgets_values"][index] = float("nan")
    return Mutated(json.dumps(doc).encode(), "E_NONFINITE", description=kind)


def _spec(catalog: Catalog, node: dict) -> NodeType:
    spec = catalog.get(node["type"])
    assert spec is not None
    return spec


def _widget_positions(spec: NodeType):
    """(index in widgets_values, widget) as the builder writes them (control values after seed-like INTs)."""
    index = 0
    for w in spec.widgets:
        yield index, w
        index += 2 if w.has_control_widget else 1


def _ranged(catalog: Catalog, node: dict) -> list[tuple[int, InputSpec]]:
    return [
        (i, w)
        for i, w in _widget_positions(_spec(catalog, node))
        if w.type in ("INT", "FLOAT") and w.max is not None and w.max < 10**17
    ]


def _target_socket(catalog: Catalog, doc: dict, link: list) -> InputSpec:
    node = next(n for n in doc["nodes"] if n["id"] == link[3])
    return _spec(catalog, node).inputs[link[4]]
