"""A small catalog of node types shaped like the original DNNE's, for loader tests independent of the real packs."""

from __future__ import annotations

from pathlib import Path

from dnne.catalog.registry import Catalog
from dnne.catalog.spec import InputMode, NodeType, OutputSpec, combo, socket, widget

HERE = Path(__file__).parent
TEMPLATE = "mini_node.py.jinja"


def _t(key: str, inputs=(), outputs=(), **extra) -> NodeType:
    return NodeType(
        key=key,
        display_name=extra.pop("display_name", key),
        category="test",
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        template=TEMPLATE,
        template_dir=HERE,
        **extra,
    )


STICKY = InputMode.STICKY
ACTS = ("none", "relu", "tanh", "sigmoid")


def node_types() -> list[NodeType]:
    return [
        _t(
            "MNISTDataset",
            [
                widget("data_path", "STRING", "./data"),
                widget("train", "BOOLEAN", True),
                widget("download", "BOOLEAN", True),
            ],
            [OutputSpec("dataset", "DATASET"), OutputSpec("schema", "SCHEMA")],
            display_name="MNIST Dataset",
        ),
        _t(
            "BatchSampler",
            [
                socket("dataset", "DATASET", mode=STICKY),
                socket("schema", "SCHEMA", mode=STICKY),
                widget("batch_size", "INT", 32, min=1, max=512),
                widget("shuffle", "BOOLEAN", True),
                widget("seed", "INT", -1, min=-1, max=2**31),
            ],
            [OutputSpec("dataloader", "DATALOADER"), OutputSpec("schema", "SCHEMA")],
            display_name="Batch Sampler",
        ),
        _t(
            "GetBatch",
            [
                socket("dataloader", "DATALOADER", mode=STICKY),
                socket("schema", "SCHEMA", mode=STICKY),
                socket("trigger", "SYNC", mode=InputMode.TRIGGER),
            ],
            [
                OutputSpec("images", "TENSOR"),
                OutputSpec("labels", "TENSOR"),
                OutputSpec("epoch_complete", "BOOLEAN"),
                OutputSpec("epoch_stats", "DICT"),
            ],
            display_name="Get Batch",
        ),
        _t(
            "Network",
            [
                socket("input", "TENSOR"),
                socket("to_output", "TENSOR"),
                widget("checkpoint_enabled", "BOOLEAN", True),
                combo("checkpoint_trigger_type", ("epoch", "time", "best_metric"), "epoch"),
                widget("checkpoint_trigger_value", "STRING", "50"),
                widget("checkpoint_load_on_start", "BOOLEAN", False),
            ],
            [OutputSpec("layers", "TENSOR"), OutputSpec("output", "TENSOR"), OutputSpec("model", "MODEL")],
            display_name="Neural Network",
        ),
        _t(
            "LinearLayer",
            [
                socket("input", "TENSOR"),
                widget("output_size", "INT", 128, min=1, max=4096),
                widget("bias", "BOOLEAN", True),
                combo("activation", ACTS, "relu"),
                widget("dropout", "FLOAT", 0.0, min=0.0, max=0.9),
            ],
            [OutputSpec("output", "TENSOR")],
            display_name="Linear Layer",
        ),
        _t(
            "SGDOptimizer",
            [
                socket("network", "MODEL", mode=STICKY),
                widget("learning_rate", "FLOAT", 0.01, min=1e-4, max=1.0),
                widget("momentum", "FLOAT", 0.9, min=0.0, max=0.99),
            ],
            [OutputSpec("optimizer", "OPTIMIZER")],
        ),
        _t(
            "CrossEntropyLoss",
            [socket("predictions", "TENSOR"), socket("labels", "TENSOR")],
            [OutputSpec("loss", "TENSOR"), OutputSpec("accuracy", "FLOAT")],
        ),
        _t(
            "TrainingStep",
            [socket("loss", "TENSOR"), socket("optimizer", "OPTIMIZER", mode=STICKY)],
            [OutputSpec("ready", "SYNC", seed=True)],
            is_sink=True,
        ),
        _t(
            "EpochTracker",
            [
                socket("epoch_stats", "DICT"),
                socket("loss", "TENSOR"),
                socket("accuracy", "*"),
                widget("max_epochs", "INT", 10, min=1, max=1000, required=False),
            ],
            [OutputSpec("training_summary", "DICT")],
            is_sink=True,
        ),
        _t("FloatConstant", [widget("value", "FLOAT", 0.0, min=-1e4, max=1e4)], [OutputSpec("FLOAT", "FLOAT")]),
        _t("IntConstant", [widget("value", "INT", 0, min=-10_000, max=10_000)], [OutputSpec("INT", "INT")]),
        _t("StringConstant", [widget("value", "STRING", "")], [OutputSpec("STRING", "STRING")]),
        _t(
            "PrintValue",
            [socket("value", "*"), widget("prefix", "STRING", "Value:")],
            [OutputSpec("output", "*")],
            output_node=True,
        ),
        _t(
            "IsaacGymEnvNode",
            [
                widget("env_name", "STRING", "Cartpole"),
                widget("num_envs", "INT", 64, min=1, max=4096),
                widget("isaac_gym_path", "STRING", ""),
                widget("isaac_gym_envs_path", "STRING", ""),
                widget("headless", "BOOLEAN", True),
                combo("device", ("cuda", "cpu"), "cuda"),
                combo("physics_engine", ("physx", "flex"), "physx"),
            ],
            [OutputSpec("sim_handle", "SIM_HANDLE"), OutputSpec("observations", "TENSOR")],
            legacy_types=("IsaacGymEnv",),
        ),
        _t(
            "IsaacGymStepNode",
            [
                socket("sim_handle", "SIM_HANDLE", mode=STICKY),
                socket("actions", "ACTION"),
                socket("trigger", "SYNC", required=False, mode=InputMode.TRIGGER, primed=True),
            ],
            [
                OutputSpec("observations", "TENSOR"),
                OutputSpec("rewards", "TENSOR"),
                OutputSpec("done", "TENSOR"),
                OutputSpec("info", "DICT"),
                OutputSpec("next_observations", "TENSOR"),
            ],
        ),
        _t(
            "ORNode",
            [
                socket("input_a", "TENSOR", required=False, mode=InputMode.ANY),
                socket("input_b", "TENSOR", required=False, mode=InputMode.ANY),
                socket("input_c", "TENSOR", required=False, mode=InputMode.ANY),
            ],
            [OutputSpec("output", "TENSOR")],
        ),
        _t(
            "PPOAgentNode",
            [
                socket("observations", "TENSOR"),
                widget("hidden_sizes", "STRING", "64,64"),
                combo("activation", ("relu", "tanh", "elu"), "elu"),
                combo("action_space", ("continuous", "discrete"), "continuous"),
                widget("action_dim", "INT", 1, min=1, max=10),
                widget("learning_rate", "FLOAT", 3e-4, min=1e-6, max=1e-1),
                widget("deterministic", "BOOLEAN", False, required=False),
                widget("init_log_std", "FLOAT", 0.0, min=-3.0, max=3.0, required=False),
            ],
            [OutputSpec("policy_output", "POLICY"), OutputSpec("model", "MODEL")],
        ),
        _t(
            "CartpoleActionNode",
            [socket("policy", "POLICY", aliases=("network_output",)), widget("max_push_effort", "FLOAT", 10.0)],
            [OutputSpec("action", "ACTION")],
        ),
        _t(
            "PPOTrainerNode",
            [
                socket("state", "TENSOR"),
                socket("policy_output", "POLICY"),
                socket("reward", "TENSOR"),
                socket("done", "TENSOR"),
                socket("model", "MODEL", mode=STICKY),
                widget("horizon_length", "INT", 16, min=4, max=256),
                widget("num_epochs", "INT", 4, min=1, max=20),
                widget("minibatch_size", "INT", 32, min=4, max=512),
                widget("gamma", "FLOAT", 0.99, min=0.9, max=1.0),
                widget("gae_lambda", "FLOAT", 0.95, min=0.9, max=1.0),
                widget("clip_param", "FLOAT", 0.2, min=0.05, max=0.5),
                widget("value_coef", "FLOAT", 0.5, min=0.1, max=2.0),
                widget("entropy_coef", "FLOAT", 0.01, min=0.0, max=0.1),
                widget("learning_rate", "FLOAT", 3e-4),
                widget("max_grad_norm", "FLOAT", 0.5, min=0.1, max=5.0),
                widget("checkpoint_enabled", "BOOLEAN", False),
                combo("checkpoint_trigger_type", ("epoch", "time", "best_metric"), "epoch"),
                widget("checkpoint_trigger_value", "STRING", "10"),
            ],
            [OutputSpec("loss", "TENSOR"), OutputSpec("training_complete", "SYNC", seed=True)],
            is_sink=True,
        ),
    ]


def mini_catalog() -> Catalog:
    return Catalog(node_types())
