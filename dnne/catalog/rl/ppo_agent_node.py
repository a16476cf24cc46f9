"""PPOAgentNode: actor-critic policy; one action per env per observation batch (no gradient)."""

from pathlib import Path

from dnne.catalog.spec import NodeType, OutputSpec, combo, socket, widget

NODE_TYPE = NodeType(
    key="PPOAgentNode",
    display_name="PPO Agent (Actor-Critic)",
    category="rl",
    inputs=(
        socket("observations", "TENSOR"),
        widget("hidden_sizes", "STRING", "64,64", tooltip="comma-separated hidden layer widths"),
        combo("activation", ("relu", "tanh", "elu"), "elu"),
        combo("action_space", ("continuous", "discrete"), "continuous"),
        widget("action_dim", "INT", 1, min=1, max=64, tooltip="action components (continuous) or choices (discrete)"),
        widget(
            "learning_rate", "FLOAT", 3e-4, min=1e-6, max=1e-1, step=1e-5, tooltip="unused: the trainer's rate applies"
        ),
        widget(
            "deterministic", "BOOLEAN", False, required=False, tooltip="act with the mean/mode (always in --inference)"
        ),
        widget("init_log_std", "FLOAT", 0.0, required=False, min=-3.0, max=3.0, step=0.1),
        widget(
            "shared_trunk",
            "BOOLEAN",
            False,
            required=False,
            tooltip="one MLP trunk for actor and critic",
        ),
        widget(
            "normalize_observations",
            "BOOLEAN",
            False,
            required=False,
            tooltip="running mean/std normalisation",
        ),
    ),
    outputs=(
        OutputSpec("policy_output", "POLICY", tooltip="dict: action, log_prob, value, obs (one row per env)"),
        OutputSpec("model", "MODEL", tooltip="the actor-critic module (sent once, when built)"),
    ),
    template="ppo_agent_node.py.jinja",
    template_dir=Path(__file__).parent,
    description="Gaussian (mean + state-independent log_std) or categorical policy with a value head.",
)
