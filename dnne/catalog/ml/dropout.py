"""Dropout: Dropout (active while training only)."""

from __future__ import annotations

from dnne.catalog.ml.layer_specs import layer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = layer_node_type(
    "Dropout",
    "Dropout",
    (widget("dropout_rate", "FLOAT", 0.5, min=0.0, max=0.9, step=0.05),),
    "dropout.py.jinja",
    __file__,
    "Dropout (active while training only).",
)
