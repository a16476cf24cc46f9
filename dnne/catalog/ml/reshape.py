"""Reshape: Reshapes each sample to the given shape."""

from __future__ import annotations

from dnne.catalog.ml.layer_specs import layer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = layer_node_type(
    "Reshape",
    "Reshape",
    (widget("shape", "STRING", "1,28,28", tooltip="per-sample shape, e.g. 1,28,28; one dimension may be -1"),),
    "reshape.py.jinja",
    __file__,
    "Reshapes each sample to the given shape.",
)
