#!/usr/bin/env python3
"""Cart-pole PPO: stable-baselines3 (rl-zoo CartPole-v1 settings) vs dnne's exported runner, side by side, 1 thread.

Runs, in this order, in one invocation:
  1. SB3 PPO on gymnasium CartPole-v1 (n_envs 8, n_steps 32, batch 256, gae_lambda 0.8, gamma 0.98, n_epochs 20,
     ent_coef 0, lr lin_0.001, clip lin_0.2): env steps and seconds until (a) the rolling mean of the last 100
     training episodes reaches the target and (b) a deterministic 10-episode evaluation does (checked every 2,048 steps).
  2. dnne, examples/cartpole_ppo.json exported and run (torch Cartpole, IsaacGymEnvs task, the example's envs): env steps and
     seconds until the mean length of the last 100 training episodes reaches the target (the runner stops itself).
  2b. the same maths as a plain Python loop (same env, network, learner, seed): the paired exported-vs-plain ratio
     of CPU and wall time (the graph's time is measured inside the graph, from the trainer's setup to the stop).
  3. dnne, the same graph switched to gymnasium CartPole-v1 with SB3's settings (8 envs, discrete actions): same rule.

The tasks of 1/3 and 2 differ (discrete +1 reward vs continuous force with a shaped reward): compare 1 with 3 for
the runtime, 2 for the IsaacGymEnvs-style workload. SB3 is skipped with a message when it is not installed
(pip install stable-baselines3). Usage: python bench/cartpole_ppo_vs_sb3.py [--target 475] [--seed 0]
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_sb3(target: float, seed: int, max_steps: int) -> dict | None:
    try:
        import gymnasium as gym
        import torch
        from stable_baselines3 import PPO
        from stable_baselines3.common.callbacks import BaseCallback
        from stable_baselines3.common.env_util import make_vec_env
        from stable_baselines3.common.evaluation import evaluate_policy
    except ImportError as exc:
        print(f"SB3: skipped ({exc}); pip install stable-baselines3 to compare")
        return None
    torch.set_num_threads(1)

    def linear(start: float):
        return lambda progress: progress * start

    result: dict = {}

    class Watch(BaseCallback):
        def __init__(self):
            super().__init__()
            self.t0 = time.perf_counter()
            self.eval_env = gym.make("CartPole-v1")
            self.next_eval = 2048

        def _on_step(self) -> bool:
            steps = self.num_timesteps
            infos = self.model.ep_info_buffer
            if "rolling" not in result and len(infos) >= 100:
                mean_len = sum(i["l"] for i in infos) / len(infos)
                if mean_len >= target:
                    result["rolling"] = {"env_steps": steps, "seconds": round(time.perf_counter() - self.t0, 2)}
            if "eval" not in result and steps >= self.next_eval:
                self.next_eval += 2048
                mean, _ = evaluate_policy(self.model, self.eval_env, n_eval_episodes=10, deterministic=True)
                if mean >= target:
                    result["eval"] = {"env_steps": steps, "seconds": round(time.perf_counter() - self.t0, 2)}
            return not ("rolling" in result and "eval" in result)

    env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
    model = PPO(
        "MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
        learning_rate=linear(1e-3), clip_range=linear(0.2), seed=seed, device="cpu", verbose=0,
    )  # fmt: skip
    t0 = time.perf_counter()
    model.learn(total_timesteps=max_steps, callback=Watch())
    result["total_seconds"] = round(time.perf_counter() - t0, 2)
    return result


def gymnasium_variant(doc: dict) -> dict:
    """The example graph on gymnasium CartPole-v1 with SB3's rl-zoo settings (no Action node: POLICY → Step)."""
    from dnne.catalog import rl, robotics

    doc = copy.deepcopy(doc)
    specs = {t.key: t for t in robotics.NODE_TYPES + rl.NODE_TYPES}

    def set_widgets(node: dict, **values) -> None:
        names = [w.name for w in specs[node["type"]].widgets]
        for name, value in values.items():
            node["widgets_values"][names.index(name)] = value

    nodes = {n["type"]: n for n in doc["nodes"]}
    set_widgets(nodes["IsaacGymEnvNode"], env_name="CartPole-v1", num_envs=8, backend="gymnasium")
    set_widgets(nodes["PPOAgentNode"], hidden_sizes="64,64", activation="tanh", action_space="discrete", action_dim=2)
    set_widgets(
        nodes["PPOTrainerNode"], horizon_length=32, num_epochs=20, minibatch_size=256, gamma=0.98, gae_lambda=0.8,
        clip_param=0.2, value_coef=0.5, entropy_coef=0.0, learning_rate=1e-3, max_grad_norm=0.5, reward_scale=1.0,
        lr_schedule="fixed",
    )  # fmt: skip
    action = nodes.pop("CartpoleActionNode")
    doc["nodes"] = [n for n in doc["nodes"] if n is not action]
    agent, step = nodes["PPOAgentNode"], nodes["IsaacGymStepNode"]
    doc["links"] = [link for link in doc["links"] if action["id"] not in (link[1], link[3])]
    new_id = max(link[0] for link in doc["links"]) + 1
    agent_slot = [o["name"] for o in agent["outputs"]].index("policy_output")
    step_slot = [i["name"] for i in step["inputs"]].index("actions")
    doc["links"].append([new_id, agent["id"], agent_slot, step["id"], step_slot, "POLICY"])
    agent["outputs"][agent_slot]["links"] = [
        x for x in agent["outputs"][agent_slot]["links"] if any(link[0] == x for link in doc["links"])
    ] + [new_id]
    step["inputs"][step_slot]["link"] = new_id
    doc["last_link_id"] = new_id
    return doc


def widget_values(node: dict) -> dict:
    """{widget name: value} of a saved node (the catalog's widget order)."""
    from dnne.catalog import rl, robotics

    spec = {t.key: t for t in robotics.NODE_TYPES + rl.NODE_TYPES}[node["type"]]
    return {w.name: v for w, v in zip(spec.widgets, node["widgets_values"], strict=False)}


def plain_loop(doc: dict, target: float, seed: int, max_steps: int, num_envs: int | None = None) -> dict:
    """The example graph's maths as one plain Python loop: the same env, network, PPO learner, seeds and order of
    random draws as the exported runner (so both take the same env steps), without the queue runtime."""
    import random

    import numpy as np
    import torch

    from dnne.runtime.envs import make_env
    from dnne.runtime.rl.agent import PolicyAgent
    from dnne.runtime.rl.ppo import PPOConfig, PPOLearner

    nodes = {n["type"]: widget_values(n) for n in doc["nodes"]}
    env_w, agent_w, trainer_w = nodes["IsaacGymEnvNode"], nodes["PPOAgentNode"], nodes["PPOTrainerNode"]
    effort = float(nodes["CartpoleActionNode"]["max_push_effort"])
    cfg = PPOConfig(**{k: trainer_w[k] for k in PPOConfig.__dataclass_fields__ if k in trainer_w})
    torch.set_num_threads(1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    cpu0, t0 = time.process_time(), time.perf_counter()
    env = make_env(env_w["env_name"], num_envs or env_w["num_envs"], device="cpu", backend=env_w["backend"], seed=seed)
    agent = PolicyAgent(
        **{k: agent_w[k] for k in ("hidden_sizes", "activation", "action_space", "action_dim")},
        **{k: agent_w[k] for k in ("init_log_std", "normalize_observations") if k in agent_w},
        shared_trunk=agent_w.get("shared_trunk", False),
    )
    obs = env.reset()
    learner = None
    stats = env.stats
    while True:
        out, model, _ = agent.act(obs)
        force = out["action"].clamp(-1.0, 1.0) * effort
        next_obs, reward, done, extras = env.step(force)
        if learner is None:
            learner = PPOLearner(model, env.num_envs, cfg, env.device, seed=seed)
        time_outs = extras["time_outs"]
        terminal_value = model.value(next_obs) if bool(time_outs.any()) else None
        if learner.record(obs, out["action"], out["log_prob"], out["value"], reward, done, time_outs, terminal_value):
            learner.update(model.value(next_obs))
        obs = next_obs
        solved = len(stats.recent_lengths) >= 10 and stats.mean_length >= target
        if solved or stats.env_steps >= max_steps:
            break
    return {
        "reached": solved,
        "env_steps": stats.env_steps,
        "seconds": round(time.perf_counter() - t0, 2),
        "cpu_s": round(time.process_time() - cpu0, 2),
    }


def run_dnne(doc: dict, label: str, target: float, seed: int, max_steps: int) -> dict:
    from dnne.catalog import Catalog, rl, robotics
    from dnne.codegen.export import export_workflow

    for node in doc["nodes"]:
        if node["type"] == "PPOTrainerNode":
            from dnne.catalog.rl import ppo_trainer_node

            names = [w.name for w in ppo_trainer_node.NODE_TYPE.widgets]
            node["widgets_values"][names.index("stop_when")] = "mean_episode_length"
            node["widgets_values"][names.index("stop_threshold")] = target
    with tempfile.TemporaryDirectory() as tmp:
        out, run_dir = Path(tmp) / "export", Path(tmp) / "run"
        export_workflow(doc, out, catalog=Catalog(robotics.NODE_TYPES + rl.NODE_TYPES))
        cmd = [sys.executable, str(out / "runner.py"), "--threads", "1", "--seed", str(seed), "--quiet",
               "--max-steps", str(max_steps), "--run-dir", str(run_dir)]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        total = time.perf_counter() - t0
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:])
            raise SystemExit(f"{label}: the exported runner failed (exit {proc.returncode})")
        records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines() if line]
    done = next(r for r in records if r.get("done") is True)
    return {
        "reached": done["reason"] == "done",
        "env_steps": done["env_steps"],
        "seconds_in_graph": done["wall_s"],
        "cpu_in_graph": done.get("cpu_s"),
        "seconds_process": round(total, 2),
        "mean_episode_length": round(done["mean_episode_length"] or 0, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", type=float, default=475.0, help="mean episode length to reach (of 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=300_000, help="SB3 and gymnasium-variant budget")
    parser.add_argument("--skip-sb3", action="store_true")
    parser.add_argument("--skip-gymnasium", action="store_true", help="leave out the gymnasium-variant run")
    args = parser.parse_args()
    example = json.loads((ROOT / "examples" / "cartpole_ppo.json").read_text())
    rows = []
    if not args.skip_sb3:
        sb3 = run_sb3(args.target, args.seed, args.max_steps)
        if sb3 is not None:
            for kind in ("rolling", "eval"):
                hit = sb3.get(kind)
                rows.append((f"SB3 PPO, CartPole-v1, 8 envs ({kind})", hit["env_steps"] if hit else None,
                             hit["seconds"] if hit else None, sb3["total_seconds"]))  # fmt: skip
    ours = run_dnne(example, "dnne torch", args.target, args.seed, 5_000_000)
    envs = next(widget_values(n)["num_envs"] for n in example["nodes"] if n["type"] == "IsaacGymEnvNode")
    rows.append((f"dnne, torch Cartpole (IGE task), {envs} envs", ours["env_steps"] if ours["reached"] else None,
                 ours["seconds_in_graph"], ours["seconds_process"]))  # fmt: skip
    plain = plain_loop(example, args.target, args.seed, 5_000_000)
    rows.append(("plain loop, same maths/seed as the row above", plain["env_steps"] if plain["reached"] else None,
                 plain["seconds"], "-"))  # fmt: skip
    if not args.skip_gymnasium:
        gym_doc = gymnasium_variant(example)
        ours_gym = run_dnne(gym_doc, "dnne gymnasium", args.target, args.seed, args.max_steps)
        rows.append(("dnne, CartPole-v1 (gymnasium), 8 envs", ours_gym["env_steps"] if ours_gym["reached"] else None,
                     ours_gym["seconds_in_graph"], ours_gym["seconds_process"]))  # fmt: skip
    print(f"\ntime to mean episode length ≥ {args.target:g} (seed {args.seed}, 1 thread)")
    print(f"{'run':48} {'env steps':>10} {'seconds':>9} {'process s':>10}")
    for label, steps, secs, total in rows:
        steps_text = f"{steps:,}" if steps is not None else "not hit"
        print(f"{label:48} {steps_text:>10} {secs if secs is not None else '-':>9} {total:>10}")
    same = "same env steps" if ours["env_steps"] == plain["env_steps"] else "DIFFERENT env steps"
    print(
        f"\nexported graph vs plain loop ({same}): CPU {ours['cpu_in_graph']} s / {plain['cpu_s']} s = "
        f"{ours['cpu_in_graph'] / plain['cpu_s']:.2f}x, wall {ours['seconds_in_graph']} s / {plain['seconds']} s = "
        f"{ours['seconds_in_graph'] / plain['seconds']:.2f}x"
    )


if __name__ == "__main__":
    main()
