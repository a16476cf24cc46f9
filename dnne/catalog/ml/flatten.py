"""Flatten: Flattens dimensions start_dim..end_dim of the batch (dim 0 is the batch)."""

from __future__ import annotations

from dnne.catalog.ml.layer_specs import layer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = layer_node_type(
    "Flatten",
    "Flatten",
    (
        widget("start_dim", "INT", 1, min=0, max=3),
        widget("end_dim", "INT", -1, min=-1, max=3),
    ),
    "flatten.py.jinja",
    __file__,
    "Flattens dimensions start_dim..end_dim of the batch (dim 0 is the batch).",
)
