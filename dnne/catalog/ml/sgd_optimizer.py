"""SGDOptimizer: stochastic gradient descent with momentum (optionally Nesterov) and weight decay."""

from __future__ import annotations

from dnne.catalog.ml.optimizer_common import optimizer_node_type
from dnne.catalog.spec import widget

NODE_TYPE = optimizer_node_type(
    "SGDOptimizer",
    "SGD Optimizer",
    (
        widget("learning_rate", "FLOAT", 0.01, min=1e-6, max=10.0, step=0.001),
        widget("momentum", "FLOAT", 0.9, min=0.0, max=0.999, step=0.01),
        widget("weight_decay", "FLOAT", 0.0, required=False, min=0.0, max=1.0, step=1e-5),
        widget("nesterov", "BOOLEAN", False, required=False),
    ),
    "sgd_optimizer.py.jinja",
    __file__,
    "SGD over the network's parameters, built once when the model arrives.",
)
