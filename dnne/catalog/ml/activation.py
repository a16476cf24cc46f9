"""Activation: An activation function (negative_slope is used by leaky_relu)."""

from __future__ import annotations

from dnne.catalog.ml.layer_specs import activation_combo, layer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = layer_node_type(
    "Activation",
    "Activation",
    (
        activation_combo("relu", with_none=False),
        widget("negative_slope", "FLOAT", 0.01, min=0.0, max=1.0, step=0.01),
    ),
    "activation.py.jinja",
    __file__,
    "An activation function (negative_slope is used by leaky_relu).",
)
