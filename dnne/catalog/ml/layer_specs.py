"""Layer node types → layer specs (the dicts `dnne_runtime.ml.layers` builds from), shared by every layer type and by
the Network exporter, which folds a chain of layer nodes into one list of specs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dnne.catalog.spec import ExportContext, InputSpec, NodeExport, NodeType, OutputSpec, socket
from dnne.runtime.ml.shapes import ACTIVATIONS
from dnne.workflow.model import Graph, GraphNode

LAYER_CATEGORY = "ml/layers"
PARAMETERISED = frozenset({"linear", "conv2d", "batchnorm"})


def layer_label(node: GraphNode) -> str:
    """How errors name a layer: `node 42 (LinearLayer 'Hidden')`."""
    title = f" {node.title!r}" if node.title and node.title != node.type else ""
    return f"node {node.id} ({node.type}{title})"


def _w(node: GraphNode, name: str) -> Any:
    return node.widgets[name]


SPEC_BUILDERS: dict[str, Callable[[GraphNode], dict[str, Any]]] = {
    "LinearLayer": lambda n: {
        "type": "linear",
        "out_features": int(_w(n, "output_size")),
        "bias": bool(_w(n, "bias")),
        "activation": str(_w(n, "activation")),
        "dropout": float(_w(n, "dropout")),
    },
    "Conv2DLayer": lambda n: {
        "type": "conv2d",
        "out_channels": int(_w(n, "out_channels")),
        "kernel_size": int(_w(n, "kernel_size")),
        "stride": int(_w(n, "stride")),
        "padding": int(_w(n, "padding")),
        "activation": str(_w(n, "activation")),
    },
    "MaxPool2D": lambda n: {
        "type": "maxpool2d",
        "kernel_size": int(_w(n, "kernel_size")),
        "stride": int(_w(n, "stride")),
        "padding": int(_w(n, "padding")),
    },
    "AvgPool2D": lambda n: {
        "type": "avgpool2d",
        "kernel_size": int(_w(n, "kernel_size")),
        "stride": int(_w(n, "stride")),
        "padding": int(_w(n, "padding")),
    },
    "Activation": lambda n: {
        "type": "activation",
        "activation": str(_w(n, "activation")),
        "negative_slope": float(_w(n, "negative_slope")),
    },
    "Dropout": lambda n: {"type": "dropout", "rate": float(_w(n, "dropout_rate"))},
    "BatchNorm": lambda n: {"type": "batchnorm", "momentum": float(_w(n, "momentum")), "eps": float(_w(n, "eps"))},
    "Flatten": lambda n: {"type": "flatten", "start_dim": int(_w(n, "start_dim")), "end_dim": int(_w(n, "end_dim"))},
    "Reshape": lambda n: {"type": "reshape", "shape": str(_w(n, "shape"))},
}
LAYER_TYPES = frozenset(SPEC_BUILDERS)


def layer_spec(node: GraphNode) -> dict[str, Any]:
    """The spec of one layer node, named after the node so run-time errors point back to the workflow."""
    spec = SPEC_BUILDERS[node.type](node)
    spec["name"] = layer_label(node)
    return spec


def in_network_chain(graph: Graph, node: GraphNode) -> bool:
    """True when `node` sits in a chain that starts at some Network's `layers` output (the Network folds it)."""
    seen: set[str] = set()
    current = node
    while current.id not in seen:
        seen.add(current.id)
        edge = graph.input_edge(current.id, "input")
        if edge is None:
            return False
        source = graph.nodes[edge.src]
        if source.type == "Network":
            return edge.src_output == "layers"
        if source.type not in SPEC_BUILDERS:
            return False
        current = source
    return False


def export_standalone_layer(node: GraphNode, ctx: ExportContext) -> NodeExport:
    """A layer used outside a Network chain: applied as it is (its weights, if any, are never trained).

    Inside a chain the Network exporter absorbs the node, so these params are never used."""
    spec = layer_spec(node)
    if spec["type"] in PARAMETERISED and not in_network_chain(ctx.graph, node):
        ctx.warn(
            "W_LAYER_NOT_TRAINED",
            f"{node.type} is not inside a Network chain, so no optimizer trains its weights",
            **node.where(),
            hint="chain it between Network.layers and Network.to_output to make it part of a trained model",
        )
    return NodeExport(params={"layer": spec})


def activation_combo(default: str = "relu", *, with_none: bool = True) -> InputSpec:
    options = ACTIVATIONS if with_none else tuple(a for a in ACTIVATIONS if a != "none")
    return InputSpec(name="activation", type="COMBO", default=default, options=options)


def layer_node_type(
    key: str, display_name: str, widgets: tuple[InputSpec, ...], template_file: str, module_file: str, description: str
) -> NodeType:
    return NodeType(
        key=key,
        display_name=display_name,
        category=LAYER_CATEGORY,
        inputs=(socket("input", "TENSOR", tooltip="the previous layer's output (or Network.layers)"), *widgets),
        outputs=(OutputSpec("output", "TENSOR"),),
        template=template_file,
        template_dir=Path(module_file).parent,
        exporter=export_standalone_layer,
        description=description,
    )
