"""AdamWOptimizer: Adam with decoupled weight decay."""

from __future__ import annotations

from dnne.catalog.ml.optimizer_common import optimizer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = optimizer_node_type(
    "AdamWOptimizer",
    "AdamW Optimizer",
    (
        widget("learning_rate", "FLOAT", 0.001, min=1e-7, max=1.0, step=0.0001),
        widget("beta1", "FLOAT", 0.9, min=0.0, max=0.9999, step=0.01),
        widget("beta2", "FLOAT", 0.999, min=0.0, max=0.99999, step=0.001),
        widget("weight_decay", "FLOAT", 0.01, min=0.0, max=1.0, step=1e-4),
    ),
    "adamw_optimizer.py.jinja",
    __file__,
    "AdamW over the network's parameters, built once when the model arrives.",
)
