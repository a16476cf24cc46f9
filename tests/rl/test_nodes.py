"""The robotics/rl node packs: compatibility with the original DNNE, rendering, and runtime behaviour."""

import asyncio
import json
import sys

import pytest
import torch

from dnne.catalog import rl, robotics
from dnne.codegen.checks import check_classes, parse_and_compile
from dnne.codegen.render import render_node_class

ORIGINAL = {
    # key: (display name, sockets, widgets in widgets_values order (original ones first), outputs, legacy keys)
    "IsaacGymEnvNode": (
        "Isaac Gym Environment",
        [],
        ["env_name", "num_envs", "isaac_gym_path", "isaac_gym_envs_path", "headless", "device", "physics_engine"],
        ["sim_handle", "observations"],
        ("IsaacGymEnv",),
    ),
    "IsaacGymStepNode": (
        "Isaac Gym Step",
        ["sim_handle", "actions", "trigger"],
        [],
        ["observations", "rewards", "done", "info", "next_observations"],
        ("IsaacGymStep",),
    ),
    "ORNode": ("OR/ANY Router", ["input_a", "input_b", "input_c"], [], ["output"], ()),
    "CartpoleActionNode": ("Cartpole Action Converter", ["policy"], ["max_push_effort"], ["action"], ()),
    "CartpoleRewardNode": (
        "Cartpole Reward Calculator",
        ["observations"],
        ["reset_dist", "invert_for_loss"],
        ["reward_or_loss", "done", "info_dict"],
        (),
    ),
    "PPOAgentNode": (
        "PPO Agent (Actor-Critic)",
        ["observations"],
        ["hidden_sizes", "activation", "action_space", "action_dim", "learning_rate", "deterministic", "init_log_std"],
        ["policy_output", "model"],
        (),
    ),
    "PPOTrainerNode": (
        "PPO Trainer",
        ["state", "policy_output", "reward", "done", "model"],
        [
            "horizon_length", "num_epochs", "minibatch_size", "gamma", "gae_lambda", "clip_param", "value_coef",
            "entropy_coef", "learning_rate", "max_grad_norm", "checkpoint_enabled", "checkpoint_trigger_type",
            "checkpoint_trigger_value",
        ],
        ["loss", "training_complete"],
        (),
    ),
}  # fmt: skip

ALL_TYPES = robotics.NODE_TYPES + rl.NODE_TYPES


def test_types_keep_the_original_keys_names_and_orders(rl_catalog):
    assert sorted(rl_catalog.keys()) == sorted(ORIGINAL)
    for key, (display, sockets, widgets, outputs, legacy) in ORIGINAL.items():
        spec = rl_catalog.get(key)
        assert spec.display_name == display
        assert [s.name for s in spec.sockets][: len(sockets)] == sockets
        assert [w.name for w in spec.widgets][: len(widgets)] == widgets  # new widgets only at the end, optional
        assert all(not w.required for w in spec.widgets[len(widgets) :])  # old files still load (defaults)
        assert [o.name for o in spec.outputs] == outputs
        assert spec.legacy_types == legacy
        for old in legacy:
            assert rl_catalog.canonical(old) == key


def test_legacy_names_and_loop_primer():
    action = robotics.cartpole_action_node.NODE_TYPE
    assert action.input("network_output").name == "policy"
    step = robotics.isaac_gym_step_node.NODE_TYPE
    assert step.input("trigger").primed and step.input("trigger").mode.value == "trigger"
    assert {i.mode.value for i in robotics.or_node.NODE_TYPE.inputs} == {"any"}
    assert rl.ppo_trainer_node.NODE_TYPE.is_sink
    backend = robotics.isaac_gym_env_node.NODE_TYPE.input("backend")
    assert backend.options == ("auto", "torch", "gymnasium", "isaacgym") and not backend.required


@pytest.mark.parametrize("node_type", ALL_TYPES, ids=lambda t: t.key)
def test_templates_render_compile_and_match_their_spec(node_type):
    source = render_node_class(node_type.template_path, "Generated")
    tree = parse_and_compile(source)
    params = {w.name for w in node_type.widgets} - set(robotics.isaac_gym_env_node.IGNORED_PATH_WIDGETS)
    check_classes(tree, {"Generated": node_type}, {"Generated": params})


@pytest.fixture
def runtime_alias(monkeypatch):
    """Generated classes import `dnne_runtime`, the verbatim copy of dnne.runtime in an export."""
    import dnne.runtime

    monkeypatch.setitem(sys.modules, "dnne_runtime", dnne.runtime)
    for sub in ("envs", "envs.stepper", "rl", "rl.agent", "rl.trainer"):
        module = __import__(f"dnne.runtime.{sub}", fromlist=["_"])
        monkeypatch.setitem(sys.modules, f"dnne_runtime.{sub}", module)
    return dnne.runtime


def _load_class(node_type, name):
    namespace: dict = {}
    exec(compile(render_node_class(node_type.template_path, name), f"<{name}>", "exec"), namespace)  # noqa: S102
    return namespace[name]


def test_or_router_forwards_everything_in_arrival_order(runtime_alias):
    rt = runtime_alias
    Router = _load_class(robotics.or_node.NODE_TYPE, "Router")

    class Source(rt.QueueNode):
        OUTPUTS = ("value",)
        REPEAT = True

        def __init__(self, node_id, prefix, count):
            super().__init__(node_id)
            self.items = iter(f"{prefix}{i}" for i in range(count))

        async def compute(self):
            item = next(self.items, None)
            return rt.QueueNode.STOP if item is None else {"value": item}

    class Collect(rt.QueueNode):
        INPUTS = {"value": rt.Input.CONSUME}
        seen: list = []

        async def compute(self, value):
            self.seen.append(value)
            if len(self.seen) == 100:
                self.ctx.request_stop("done")

    runner = rt.GraphRunner()
    a, b = runner.add(Source("a", "a", 50)), runner.add(Source("b", "b", 50))
    router, sink = runner.add(Router("r")), runner.add(Collect("c"))
    runner.connect(a, "value", router, "input_a")
    runner.connect(b, "value", router, "input_b")
    runner.connect(router, "output", sink, "value")
    assert runner.run() == 0
    seen = Collect.seen
    assert len(seen) == 100
    assert [s for s in seen if s[0] == "a"] == [f"a{i}" for i in range(50)]
    assert [s for s in seen if s[0] == "b"] == [f"b{i}" for i in range(50)]


def test_cartpole_action_scales_every_env_and_reward_node_is_per_env(runtime_alias):
    Action = _load_class(robotics.cartpole_action_node.NODE_TYPE, "Action")
    node = Action("5", max_push_effort=10.0)
    out = asyncio.run(node.compute(policy={"action": torch.tensor([[0.5], [-2.0], [1.0]])}))
    assert out["action"].tolist() == [[5.0], [-10.0], [10.0]]
    out = asyncio.run(node.compute(policy={"action": torch.tensor([0, 1])}))
    assert out["action"].tolist() == [[-10.0], [10.0]]

    Reward = _load_class(robotics.cartpole_reward_node.NODE_TYPE, "Reward")
    node = Reward("7", reset_dist=2.0, invert_for_loss=False)
    obs = torch.tensor([[0.0, 0.0, 0.1, 0.0], [2.5, 0.0, 0.0, 0.0]])
    out = asyncio.run(node.compute(observations=obs))
    assert out["reward_or_loss"][0].item() == pytest.approx(1 - 0.01)
    assert out["reward_or_loss"][1].item() == -2.0
    assert out["done"].tolist() == [False, True]


def test_step_node_applies_each_envs_action_and_reports_info(runtime_alias, tmp_path):
    Step = _load_class(robotics.isaac_gym_step_node.NODE_TYPE, "Step")
    from dnne.runtime import RunContext
    from dnne.runtime.envs import make_env

    env = make_env("Cartpole", 3, seed=0, backend="torch", max_effort=10.0)
    env.reset()
    env.state.zero_()
    node = Step("4")
    node.ctx = RunContext(run_dir=tmp_path)
    out = asyncio.run(node.compute(sim_handle=env, actions=torch.tensor([[10.0], [-10.0], [0.0]]), trigger=True))
    assert out["observations"][:, 1].sign().tolist() == [1.0, -1.0, 0.0]
    assert set(out["info"]) >= {"time_outs", "episode_returns", "episode_lengths", "stats"}
    # a policy output (actions in [-1, 1]) is scaled by the env itself
    out = asyncio.run(node.compute(sim_handle=env, actions={"action": torch.ones(3, 1)}, trigger=True))
    with pytest.raises(ValueError, match="one row per env"):
        asyncio.run(node.compute(sim_handle=env, actions=torch.ones(1, 1), trigger=True))


def test_examples_are_valid_ui_workflows():
    for name in ("cartpole_ppo", "ant_ppo"):
        doc = json.loads((__import__("pathlib").Path(__file__).parents[2] / "examples" / f"{name}.json").read_text())
        assert doc["version"] == 0.4 and doc["nodes"] and doc["links"]
