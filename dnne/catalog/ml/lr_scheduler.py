"""LRScheduler: attaches a learning-rate schedule (step, cosine, one-cycle) to an optimizer, stepped every batch."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, InputMode, NodeExport, NodeType, OutputSpec, combo, socket, widget
from dnne.workflow.model import GraphNode

SCHEDULES = ("step", "cosine", "one_cycle")  # = dnne_runtime.ml.optim.SCHEDULES (kept here: exporting needs no torch)


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    w = node.widgets
    return NodeExport(
        params={
            "schedule": str(w["schedule"]),
            "epochs": int(w["epochs"]),
            "step_size": int(w["step_size"]),
            "gamma": float(w["gamma"]),
            "max_lr": float(w["max_lr"]),
        }
    )


NODE_TYPE = NodeType(
    key="LRScheduler",
    display_name="LR Scheduler",
    category="ml/training",
    inputs=(
        socket("optimizer", "OPTIMIZER", mode=InputMode.STICKY),
        socket("schema", "SCHEMA", mode=InputMode.STICKY, tooltip="BatchSampler.schema (gives batches per epoch)"),
        combo("schedule", SCHEDULES, "cosine"),
        widget("epochs", "INT", 10, min=1, max=100000, tooltip="length of the schedule (--epochs overrides it)"),
        widget("step_size", "INT", 1, min=1, max=100000, tooltip="step: epochs between decays"),
        widget("gamma", "FLOAT", 0.1, min=0.0, max=1.0, step=0.01, tooltip="step: decay factor"),
        widget("max_lr", "FLOAT", 0.0, min=0.0, max=10.0, step=0.001, tooltip="one_cycle peak (0 = 10× the lr)"),
    ),
    outputs=(OutputSpec("optimizer", "OPTIMIZER", tooltip="the same optimizer, now scheduled"),),
    template="lr_scheduler.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Learning-rate schedule over the whole run, advanced after every optimizer step.",
)
