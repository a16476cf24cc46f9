"""CartpoleRewardNode: the IsaacGymEnvs Cartpole reward and termination, per env, from observations."""

from pathlib import Path

from dnne.catalog.spec import NodeType, OutputSpec, socket, widget

NODE_TYPE = NodeType(
    key="CartpoleRewardNode",
    display_name="Cartpole Reward Calculator",
    category="robotics",
    inputs=(
        socket("observations", "TENSOR"),
        widget("reset_dist", "FLOAT", 2.0, min=0.5, max=10.0, step=0.1),
        widget("invert_for_loss", "BOOLEAN", True, tooltip="output -reward (a loss to minimise)"),
    ),
    outputs=(
        OutputSpec("reward_or_loss", "TENSOR"),
        OutputSpec("done", "TENSOR"),
        OutputSpec("info_dict", "TENSOR", tooltip="dict: steps (per-env episode step counters), failed"),
    ),
    template="cartpole_reward_node.py.jinja",
    template_dir=Path(__file__).parent,
    description="1 - θ² - 0.01|ẋ| - 0.005|θ̇| per env, -2 on failure; done on failure or after 500 steps.",
)
