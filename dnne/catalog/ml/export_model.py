"""ExportModel: writes the trained network as TorchScript and/or ONNX into the run folder (run_dir/exported/) at the
end of training (or after every epoch), each file checked against the model on a sample batch."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.spec import ExportContext, InputMode, NodeExport, NodeType, combo, socket, widget
from dnne.runtime.ml.export_model import filename_problem
from dnne.workflow.model import GraphNode

FORMATS = ("torchscript", "onnx", "both")
WHEN = ("end", "every_epoch")


def export(node: GraphNode, ctx: ExportContext) -> NodeExport:
    w = node.widgets
    name = str(w["filename"]).strip()
    problem = filename_problem(name)
    if problem:
        ctx.error("E_BAD_VALUE", problem, **node.where(), field="filename")
    return NodeExport(params={"format": str(w["format"]), "filename": name, "when": str(w["when"])})


NODE_TYPE = NodeType(
    key="ExportModel",
    display_name="Export Model",
    category="ml/training",
    inputs=(
        socket("model", "MODEL", mode=InputMode.STICKY, tooltip="Network.model"),
        combo("format", FORMATS, "torchscript", tooltip="ONNX needs the onnx package (pip install onnx)"),
        widget("filename", "STRING", "model", tooltip="base name of the files in run_dir/exported/ (.pt, .onnx)"),
        combo("when", WHEN, "end", tooltip="end: once when training ends; every_epoch: also after each epoch"),
        socket(
            "dataset",
            "DATASET",
            mode=InputMode.STICKY,
            required=False,
            tooltip="optional: a few of its samples trace the model and check the exported files "
            "(without it, a batch the network saw during training is used)",
        ),
    ),
    outputs=(),
    template="export_model.py.jinja",
    template_dir=Path(__file__).parent,
    exporter=export,
    description="Writes the trained network as TorchScript (.pt) and/or ONNX into run_dir/exported/ when training "
    "ends, with a parity check of the outputs; with --inference it exports the loaded model.",
    output_node=True,
    is_sink=True,
)
