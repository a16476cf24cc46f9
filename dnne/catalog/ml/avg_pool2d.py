"""Avg Pool 2D: 2-D average pooling."""

from __future__ import annotations

from dnne.catalog.ml.layer_specs import layer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = layer_node_type(
    "AvgPool2D",
    "Avg Pool 2D",
    (
        widget("kernel_size", "INT", 2, min=1, max=8),
        widget("stride", "INT", 2, min=0, max=8, tooltip="0 = same as kernel_size"),
        widget("padding", "INT", 0, min=0, max=4),
    ),
    "avg_pool2d.py.jinja",
    __file__,
    "2-D average pooling.",
)
