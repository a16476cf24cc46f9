"""Linear Layer: A fully connected layer (image input is flattened), with an optional activation and dropout."""

from __future__ import annotations

from dnne.catalog.ml.layer_specs import activation_combo, layer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = layer_node_type(
    "LinearLayer",
    "Linear Layer",
    (
        widget("output_size", "INT", 128, min=1, max=65536),
        widget("bias", "BOOLEAN", True),
        activation_combo("relu"),
        widget("dropout", "FLOAT", 0.0, min=0.0, max=0.9, step=0.05),
    ),
    "linear_layer.py.jinja",
    __file__,
    "A fully connected layer (image input is flattened), with an optional activation and dropout.",
)
