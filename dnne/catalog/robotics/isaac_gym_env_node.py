"""IsaacGymEnvNode: creates the batched environment (torch Cartpole, gymnasium or Isaac Gym) and emits it once.

No widget of this node selects code: the env name must be one dnne knows or a gymnasium id registered in the
installed environment (never `module:Env`), checked here (E_ENV_ID) and again by the runner (config.json can be
edited). The old path widgets stay loadable for compatibility but are ignored: where Isaac Gym is imported from is
the runner's `--isaacgym-path` / `$DNNE_ISAACGYM_PATH`, chosen by whoever runs the program.
"""

from pathlib import Path

from dnne.catalog.spec import NodeExport, NodeType, OutputSpec, combo, widget
from dnne.runtime.envs.env_ids import HINT, env_name_problem

IGNORED_PATH_WIDGETS = ("isaac_gym_path", "isaac_gym_envs_path")


def export(node, ctx) -> NodeExport:
    widgets = dict(node.widgets)
    for name in IGNORED_PATH_WIDGETS:
        value = widgets.pop(name, "")
        if isinstance(value, str) and value.strip():
            ctx.warn(
                "W_IGNORED_PATH",
                f"{name} is ignored: a workflow never chooses where code is imported from",
                field=name,
                got=repr(value),
                hint="run the program with --isaacgym-path DIRS (or set DNNE_ISAACGYM_PATH) to use an Isaac Gym "
                "that is not installed; clear this widget to silence the warning",
            )
    backend = widgets.get("backend", "auto")
    problem = env_name_problem(widgets.get("env_name"), backend)
    if problem is not None:
        ctx.error("E_ENV_ID", problem, field="env_name", got=repr(widgets.get("env_name")), hint=HINT)
    return NodeExport(params=widgets)


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
        widget(
            "isaac_gym_path",
            "STRING",
            "",
            tooltip="ignored (kept so old workflows load): use the runner's --isaacgym-path",
        ),
        widget(
            "isaac_gym_envs_path",
            "STRING",
            "",
            tooltip="ignored (kept so old workflows load): use the runner's --isaacgym-path",
        ),
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
    exporter=export,
    description="A batch of environments behind one VecTask-shaped interface; emits its handle and first observations once.",
)
