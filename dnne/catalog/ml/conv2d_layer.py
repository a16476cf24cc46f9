"""Conv2D Layer: A 2-D convolution over [channels, height, width] input, with an optional activation."""

from __future__ import annotations

from dnne.catalog.ml.layer_specs import activation_combo, layer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = layer_node_type(
    "Conv2DLayer",
    "Conv2D Layer",
    (
        widget("out_channels", "INT", 32, min=1, max=1024),
        widget("kernel_size", "INT", 3, min=1, max=11),
        widget("stride", "INT", 1, min=1, max=5),
        widget("padding", "INT", 1, min=0, max=5),
        activation_combo("relu"),
    ),
    "conv2d_layer.py.jinja",
    __file__,
    "A 2-D convolution over [channels, height, width] input, with an optional activation.",
)
