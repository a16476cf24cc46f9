"""IsaacGymEnvNode: creates the batched environment (torch Cartpole, gymnasium or Isaac Gym) and emits it once."""

from pathlib import Path

from dnne.catalog.spec import NodeType, OutputSpec, combo, widget

NODE_TYPE = NodeType(
    key="IsaacGymEnvNode",
    display_name="Isaac Gym Environment",
    category="robotics",
    legacy_types=("IsaacGymEnv",),
    inputs=(
        widget(
            "env_name",
            "STRING",
            "Cartpole",
            tooltip="Cartpole (torch/isaacgym), or a gymnasium env: Ant, HalfCheetah, Humanoid, Pendulum, CartPole-v1, …",
        ),
        widget("num_envs", "INT", 64, min=1, max=4096, tooltip="parallel environments (override: --num-envs)"),
        widget("isaac_gym_path", "STRING", "", tooltip="isaacgym/python folder, only for the isaacgym backend"),
        widget("isaac_gym_envs_path", "STRING", "", tooltip="IsaacGymEnvs folder, only for the isaacgym backend"),
        widget("headless", "BOOLEAN", True),
        combo("device", ("cuda", "cpu", "auto"), "cuda", tooltip="cuda falls back to CPU with a warning"),
        combo("physics_engine", ("physx", "flex"), "physx", tooltip="isaacgym backend only"),
        combo(
            "backend",
            ("auto", "torch", "gymnasium", "isaacgym"),
            "auto",
            required=False,
            tooltip="auto: isaacgym on CUDA when installed, else torch for Cartpole, else gymnasium",
        ),
    ),
    outputs=(OutputSpec("sim_handle", "SIM_HANDLE"), OutputSpec("observations", "TENSOR")),
    template="isaac_gym_env_node.py.jinja",
    template_dir=Path(__file__).parent,
    description="A batch of environments behind one VecTask-shaped interface; emits its handle and first observations once.",
)
