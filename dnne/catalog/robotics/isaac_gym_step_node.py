"""IsaacGymStepNode: steps every env with its own action once per (actions, trigger) pair."""

from pathlib import Path

from dnne.catalog.spec import InputMode, NodeType, OutputSpec, socket

NODE_TYPE = NodeType(
    key="IsaacGymStepNode",
    display_name="Isaac Gym Step",
    category="robotics",
    legacy_types=("IsaacGymStep",),
    inputs=(
        socket("sim_handle", "SIM_HANDLE", mode=InputMode.STICKY),
        socket("actions", "ACTION,POLICY", tooltip="native actions (ACTION) or a policy output in [-1, 1] (POLICY)"),
        socket(
            "trigger",
            "SYNC",
            required=False,
            mode=InputMode.TRIGGER,
            primed=True,
            tooltip="one step per trigger (holds one at start): wire the trainer's training_complete here",
        ),
    ),
    outputs=(
        OutputSpec("observations", "TENSOR", tooltip="what the policy sees next (fresh state after a reset)"),
        OutputSpec("rewards", "TENSOR"),
        OutputSpec("done", "TENSOR"),
        OutputSpec("info", "DICT", tooltip="time_outs, finished episodes' returns/lengths, terminal observations"),
        OutputSpec("next_observations", "TENSOR", tooltip="each transition's next state (terminal where done)"),
    ),
    template="isaac_gym_step_node.py.jinja",
    template_dir=Path(__file__).parent,
    description="Applies each env's own action to all envs and steps the simulation once.",
)
