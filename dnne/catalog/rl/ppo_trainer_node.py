"""PPOTrainerNode: records each step's transitions, runs PPO at the horizon, ends each env step (step boundary)."""

from pathlib import Path

from dnne.catalog.spec import InputMode, NodeType, OutputSpec, combo, socket, widget

NODE_TYPE = NodeType(
    key="PPOTrainerNode",
    display_name="PPO Trainer",
    category="rl",
    is_sink=True,
    inputs=(
        socket("state", "TENSOR", tooltip="observations after the step (bootstraps the value at the horizon)"),
        socket("policy_output", "POLICY"),
        socket("reward", "TENSOR"),
        socket("done", "TENSOR"),
        socket("model", "MODEL", mode=InputMode.STICKY),
        widget("horizon_length", "INT", 16, min=4, max=256),
        widget("num_epochs", "INT", 4, min=1, max=20),
        widget("minibatch_size", "INT", 32, min=4, max=65536, tooltip="transitions per minibatch"),
        widget("gamma", "FLOAT", 0.99, min=0.8, max=1.0, step=0.001),
        widget("gae_lambda", "FLOAT", 0.95, min=0.5, max=1.0, step=0.001),
        widget("clip_param", "FLOAT", 0.2, min=0.05, max=0.5, step=0.01),
        widget("value_coef", "FLOAT", 0.5, min=0.1, max=4.0, step=0.1),
        widget("entropy_coef", "FLOAT", 0.01, min=0.0, max=0.1, step=0.001),
        widget("learning_rate", "FLOAT", 3e-4, min=1e-6, max=1e-1, step=1e-5),
        widget("max_grad_norm", "FLOAT", 0.5, min=0.1, max=5.0, step=0.1),
        widget("checkpoint_enabled", "BOOLEAN", False),
        combo("checkpoint_trigger_type", ("epoch", "time", "best_metric"), "epoch", tooltip="epoch = PPO updates"),
        widget("checkpoint_trigger_value", "STRING", "10", tooltip="updates (epoch) or a duration like 5m (time)"),
        socket("info", "DICT", required=False, tooltip="the step's info: time-outs are bootstrapped, not terminal"),
        widget("reward_scale", "FLOAT", 1.0, required=False, min=0.0001, max=100.0, step=0.01),
        combo(
            "lr_schedule",
            ("fixed", "adaptive", "linear"),
            "fixed",
            required=False,
            tooltip="adaptive: KL-based",
        ),
        widget("kl_target", "FLOAT", 0.008, required=False, min=0.0001, max=1.0, step=0.001),
        combo("stop_when", ("never", "mean_episode_length", "mean_return"), "never", required=False),
        widget("stop_threshold", "FLOAT", 475.0, required=False, min=-1e9, max=1e9, step=1.0),
    ),
    outputs=(OutputSpec("loss", "TENSOR"), OutputSpec("training_complete", "SYNC")),
    template="ppo_trainer_node.py.jinja",
    template_dir=Path(__file__).parent,
    description="Clipped PPO with GAE; emits training_complete after every env step (wire it to the Step trigger).",
)
