"""CartpoleActionNode: policy actions → a cart force per env (clamped to ±1, times max_push_effort)."""

from pathlib import Path

from dnne.catalog.spec import NodeType, OutputSpec, socket, widget

NODE_TYPE = NodeType(
    key="CartpoleActionNode",
    display_name="Cartpole Action Converter",
    category="robotics",
    inputs=(
        socket("policy", "POLICY", aliases=("network_output",)),
        widget("max_push_effort", "FLOAT", 10.0, min=0.1, max=100.0, step=0.1, tooltip="newtons for action ±1"),
    ),
    outputs=(OutputSpec("action", "ACTION"),),
    template="cartpole_action_node.py.jinja",
    template_dir=Path(__file__).parent,
    description="Scales every env's own policy action to a cart force (discrete actions: 0 → left, 1 → right).",
)
