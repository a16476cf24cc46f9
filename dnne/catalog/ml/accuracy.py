"""Accuracy: fraction of a batch whose predicted class equals the label, with the counts."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import NodeType, OutputSpec, socket

NODE_TYPE = NodeType(
    key="Accuracy",
    display_name="Accuracy",
    category="ml/training",
    inputs=(socket("predictions", "TENSOR"), socket("labels", "TENSOR")),
    outputs=(OutputSpec("accuracy", "FLOAT"), OutputSpec("correct", "INT"), OutputSpec("total", "INT")),
    template="accuracy.py.jinja",
    template_dir=Path(__file__).parent,
    description="Batch accuracy of class predictions (arg-max of the logits).",
)
