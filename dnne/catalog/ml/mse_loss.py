"""MSELoss: mean squared error between predictions and targets (regression)."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import NodeType, OutputSpec, socket

NODE_TYPE = NodeType(
    key="MSELoss",
    display_name="MSE Loss",
    category="ml/training",
    inputs=(
        socket("predictions", "TENSOR"),
        socket("targets", "TENSOR", tooltip="same shape as predictions (or [batch] for one output)"),
    ),
    outputs=(OutputSpec("loss", "TENSOR"),),
    template="mse_loss.py.jinja",
    template_dir=Path(__file__).parent,
    description="Mean squared error, for regression.",
)
