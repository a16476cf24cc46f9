"""Network: folds the chain Network.layers → layer → … → layer → Network.to_output into one trained model."""

from __future__ import annotations

import re
from pathlib import Path

from dnne.catalog.data.dataset_shapes import known_input_shape
from dnne.catalog.ml.layer_specs import LAYER_TYPES, layer_label, layer_spec
from dnne.catalog.spec import (
    Definition,
    ExportContext,
    InputMode,
    NodeExport,
    NodeType,
    OutputSpec,
    combo,
    socket,
    widget,
)
from dnne.runtime.ml.modules import spec_modules
from dnne.runtime.ml.shapes import ShapeError, layer_output_shape, parse_shape
from dnne.runtime.ml.triggers import CheckpointTrigger
from dnne.workflow.model import Graph, GraphNode

CHAIN_HINT = (
    "wire Network.layers → first layer.input, each layer.output → next layer.input, last layer → Network.to_output"
)


def layer_chain(graph: Graph, network: GraphNode, ctx: ExportContext) -> list[GraphNode] | None:
    """The layer nodes between `layers` and `to_output`, in order; None (after reporting) when the chain is broken."""
    chain: list[GraphNode] = []
    where = network.where()
    current, output = network, "layers"
    while True:
        consumers = graph.consumers(current.id, output)
        into_net = [(n, i) for n, i in consumers if n.id == network.id and i == "to_output"]
        others = [(n, i) for n, i in consumers if not (n.id == network.id and i == "to_output")]
        if current is not network and into_net and not others:
            return chain
        if not consumers:
            first = current is network
            ctx.error(
                "E_NETWORK_CHAIN",
                "Network.layers is not connected to a layer"
                if first
                else f"the layer chain ends at {layer_label(current)}: its output does not reach Network.to_output",
                **where,
                hint=CHAIN_HINT,
            )
            return None
        if len(consumers) > 1:
            names = ", ".join(f"{n.id}.{i}" for n, i in consumers)
            ctx.error(
                "E_NETWORK_CHAIN",
                f"{'Network.layers' if current is network else layer_label(current)} feeds several inputs ({names}); "
                "a Network's layers must form one straight chain",
                **where,
                hint=CHAIN_HINT,
            )
            return None
        nxt, inp = consumers[0]
        if nxt.id == network.id:
            ctx.error(
                "E_NETWORK_CHAIN",
                f"Network.layers goes straight back into Network.{inp}: add layers between them",
                **where,
                hint=CHAIN_HINT,
            )
            return None
        if nxt.type not in LAYER_TYPES or inp != "input":
            ctx.error(
                "E_NETWORK_CHAIN",
                f"the layer chain reaches {nxt.type} node {nxt.id} (input {inp!r}), which is not a layer",
                **where,
                hint=CHAIN_HINT + f"; layer types: {', '.join(sorted(LAYER_TYPES))}",
            )
            return None
        if any(n.id == nxt.id for n in chain):
            ctx.error("E_NETWORK_CHAIN", f"the layer chain loops back to {layer_label(nxt)}", **where, hint=CHAIN_HINT)
            return None
        extra = [e for e in graph.incoming(nxt.id) if e.dst_input != "input"]
        if extra:
            ctx.error("E_NETWORK_CHAIN", f"{layer_label(nxt)} has extra inputs ({', '.join(map(str, extra))})", **where)
            return None
        chain.append(nxt)
        current, output = nxt, "output"


def chain_shapes(input_shape: tuple[int, ...] | None, specs: list[dict]) -> list[tuple | None]:
    """The per-sample output shape after each layer. With an input shape unknown at export (data read at run time)
    the sizes stay None until a layer fixes them (a Linear's output, a Reshape's target)."""
    shapes: list[tuple | None] = []
    shape: tuple | None = input_shape
    for index, spec in enumerate(specs):
        if shape is not None and all(d is not None for d in shape):
            shape = layer_output_shape(spec, tuple(shape), index)
        else:
            shape = _unknown_output(spec, shape)
        shapes.append(shape)
    return shapes


def _unknown_output(spec: dict, shape: tuple | None) -> tuple | None:
    kind = spec["type"]
    if kind == "linear":
        return (int(spec["out_features"]),)
    if kind == "reshape":
        return tuple(None if d == -1 else d for d in parse_shape(spec["shape"]))
    if kind == "conv2d":
        return (int(spec["out_channels"]), None, None)
    if kind in ("maxpool2d", "avgpool2d"):
        return (shape[0] if shape else None, None, None)
    if kind == "flatten":
        return None
    return shape  # activation, dropout, batchnorm keep the shape


def model_class_hint(graph: Graph) -> str:
    """The network class's name: the workflow's name in CamelCase + "Net" (`mnist_mlp` → `MnistMlpNet`). Only the
    ASCII letters and digits of the name are used, so it is a plain identifier whatever the workflow says."""
    words = re.findall(r"[A-Za-z0-9]+", graph.name or "")
    stem = "".join(w[:1].upper() + w[1:] for w in words)[:40]
    if not stem or stem[0].isdigit():
        stem = "Model" + stem
    return stem + "Net"


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    """Fold the layer chain into the network's nn.Module class (a definition in runner.py, passed as
    `architecture`), its sizes from the shape the data has at export (when the data set is known)."""
    # codegen's emitter, imported here: the catalog package does not depend on codegen at import time
    from dnne.codegen.network_code import IMPORTS, LayerCode, network_class_source, shape_text

    graph = ctx.graph
    chain = layer_chain(graph, node, ctx)
    w = node.widgets
    params = {
        "checkpoint_enabled": bool(w["checkpoint_enabled"]),
        "checkpoint_trigger_type": str(w["checkpoint_trigger_type"]),
        "checkpoint_trigger_value": str(w["checkpoint_trigger_value"]),
        "checkpoint_load_on_start": bool(w["checkpoint_load_on_start"]),
        "input_shape": [],
    }
    if params["checkpoint_enabled"]:
        try:
            CheckpointTrigger(params["checkpoint_trigger_type"], params["checkpoint_trigger_value"])
        except ValueError as exc:
            ctx.error("E_BAD_VALUE", str(exc), **node.where(), field="checkpoint_trigger_value")
    if chain is None:
        return NodeExport(params=params)
    specs = [layer_spec(layer) for layer in chain]
    shape = known_input_shape(graph, node.id, "input")
    params["input_shape"] = list(shape or ())
    try:
        shapes = chain_shapes(shape, specs)
    except ShapeError as exc:
        bad = next((n for n in chain if layer_label(n) in str(exc)), node)
        ctx.error(
            "E_SHAPE",
            f"with input {list(shape or ())} per sample: {exc}",
            **bad.where(),
            hint="change the layer's settings, or add Flatten/Reshape/pooling before it",
        )
        return NodeExport(params=params)
    layers = []
    for layer, spec, before, after in zip(chain, specs, [shape, *shapes[:-1]], shapes, strict=True):
        try:
            modules = tuple(spec_modules(spec, before, after))
        except ValueError as exc:
            ctx.error("E_SHAPE", f"{layer_label(layer)}: {exc}", **layer.where())
            return NodeExport(params=params)
        title = "" if layer.title in (layer.type, layer.spec.display_name) else layer.title
        layers.append(LayerCode(layer.id, layer.type, title, modules, after))
    hint = model_class_hint(graph)
    summary = f"{shape_text(shape)} per sample -> {shape_text(shapes[-1])}"
    source = network_class_source(hint, layers, shape, f"The model of the Network node: {summary}.")
    return NodeExport(
        params=params,
        absorbs=tuple(layer.id for layer in chain),
        definitions=(Definition(hint, source, IMPORTS),),
        code_args={"architecture": hint},
    )


NODE_TYPE = NodeType(
    key="Network",
    display_name="Neural Network",
    category="ml/layers",
    inputs=(
        socket("input", "TENSOR", tooltip="the input batch (GetBatch.images)"),
        socket("to_output", "TENSOR", mode=InputMode.CONSUME, tooltip="the last layer's output (closes the chain)"),
        widget("checkpoint_enabled", "BOOLEAN", True),
        # The original DNNE added these three later; its early workflows lack them (loaded with W_WIDGET_DEFAULT).
        combo("checkpoint_trigger_type", ("epoch", "time", "best_metric"), "epoch", required=False),
        widget(
            "checkpoint_trigger_value",
            "STRING",
            "50",
            required=False,
            tooltip="epoch: every N epochs; time: 30s / 5m / 1h30m; best_metric: max, min or metric[:min|max]",
        ),
        widget(
            "checkpoint_load_on_start",
            "BOOLEAN",
            False,
            required=False,
            tooltip="start from the latest checkpoint's weights",
        ),
    ),
    outputs=(
        OutputSpec("layers", "TENSOR", tooltip="connect to the first layer of the chain"),
        OutputSpec("output", "TENSOR", tooltip="the model's output for each batch"),
        OutputSpec("model", "MODEL", tooltip="the model itself (sent once, for optimizers and evaluation)"),
    ),
    template="network.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="A model made of the layer chain between `layers` and `to_output`, built from the data's shape.",
)
