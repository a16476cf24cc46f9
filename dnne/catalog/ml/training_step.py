"""TrainingStep: one optimizer step per loss; its `ready` token drives the next batch (it primes the loop at start)."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, InputMode, NodeExport, NodeType, OutputSpec, socket, widget
from dnne.workflow.model import GraphNode


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    w = node.widgets
    return NodeExport(
        params={"grad_clip": float(w.get("grad_clip", 0.0)), "mixed_precision": bool(w.get("mixed_precision", False))}
    )


NODE_TYPE = NodeType(
    key="TrainingStep",
    display_name="Training Step",
    category="ml/training",
    inputs=(
        socket("loss", "TENSOR"),
        socket("optimizer", "OPTIMIZER", mode=InputMode.STICKY),
        widget(
            "grad_clip",
            "FLOAT",
            0.0,
            required=False,
            min=0.0,
            max=1000.0,
            step=0.1,
            tooltip="clip the gradient norm to this value (0 = off)",
        ),
        widget("mixed_precision", "BOOLEAN", False, required=False, tooltip="bfloat16/float16 autocast on CUDA"),
    ),
    outputs=(
        OutputSpec("ready", "SYNC", seed=True, tooltip="one token per finished step (and one at start)"),
        OutputSpec("step_complete", "DICT", tooltip="{step, loss} after each optimizer step"),
    ),
    template="training_step.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Backward pass and optimizer step for each loss; then epoch-end work, checkpoints and stops.",
    is_sink=True,
)
