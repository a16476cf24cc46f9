"""ORNode: forwards every value arriving on any input, in arrival order (lossless)."""

from pathlib import Path

from dnne.catalog.spec import InputMode, NodeType, OutputSpec, socket

NODE_TYPE = NodeType(
    key="ORNode",
    display_name="OR/ANY Router",
    category="robotics",
    inputs=(
        socket("input_a", "TENSOR", required=False, mode=InputMode.ANY),
        socket("input_b", "TENSOR", required=False, mode=InputMode.ANY),
        socket("input_c", "TENSOR", required=False, mode=InputMode.ANY),
    ),
    outputs=(OutputSpec("output", "TENSOR"),),
    template="or_node.py.jinja",
    template_dir=Path(__file__).parent,
    description="Forwards each value that arrives on input_a, input_b or input_c, one by one, in arrival order.",
)
