"""Batch Normalization: Batch normalisation: 1-D for [features] input, 2-D for [channels, height, width]."""

from __future__ import annotations

from dnne.catalog.ml.layer_specs import layer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = layer_node_type(
    "BatchNorm",
    "Batch Normalization",
    (
        widget("momentum", "FLOAT", 0.1, min=0.01, max=0.99, step=0.01),
        widget("eps", "FLOAT", 1e-5, min=1e-8, max=1e-3),
    ),
    "batch_norm.py.jinja",
    __file__,
    "Batch normalisation: 1-D for [features] input, 2-D for [channels, height, width].",
)
