"""What the PPO Trainer node does each env step: record the transition, update at the horizon, track episodes,
write metrics, checkpoint, and stop at `--max-steps` or when the stop target is reached."""

from __future__ import annotations

import time
from dataclasses import fields

import torch

from ..envs.episode_stats import EpisodeStats
from ..flags import parse_duration
from ..node import UsageError
from .ppo import PPOConfig, PPOLearner

STOP_WHEN = ("never", "mean_episode_length", "mean_return")
DEFAULT_INFERENCE_EPISODES = 10


class PPOTrainerLoop:
    def __init__(
        self,
        ctx,
        *,
        stop_when: str = "never",
        stop_threshold: float = 0.0,
        checkpoint_enabled: bool = False,
        checkpoint_trigger_type: str = "epoch",
        checkpoint_trigger_value: str = "10",
        log_every: int = 1,
        **ppo: object,
    ):
        if stop_when not in STOP_WHEN:
            raise ValueError(f"stop_when must be one of {', '.join(STOP_WHEN)}, got {stop_when!r}")
        known = {f.name for f in fields(PPOConfig)}
        unknown = set(ppo) - known
        if unknown:
            raise ValueError(f"unknown PPO settings {sorted(unknown)}")
        self.cfg = PPOConfig(**ppo)
        self.ctx = ctx
        self.args = getattr(ctx, "args", None)
        self.inference = bool(getattr(self.args, "inference", False))
        self.max_steps = getattr(self.args, "max_steps", None)
        self.stop_when, self.stop_threshold = stop_when, float(stop_threshold)
        self.checkpoint_enabled = bool(checkpoint_enabled)
        self.checkpoint_trigger_type = checkpoint_trigger_type
        self.checkpoint_every = 0.0
        if self.checkpoint_enabled and checkpoint_trigger_type in ("epoch", "time"):
            value = str(checkpoint_trigger_value)
            self.checkpoint_every = float(value) if checkpoint_trigger_type == "epoch" else parse_duration(value)
        self.log_every = max(1, int(log_every))
        self.learner: PPOLearner | None = None
        self.stats: EpisodeStats | None = None
        self.best_return: float | None = None
        self.last_losses: dict[str, float] = {}
        self.curve: list[dict] = []
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.last_checkpoint_time = self.t0
        self.stop_reason: str | None = None
        self.pending_state: tuple[dict, dict] | None = None
        # inference evaluates a trained policy over a bounded number of episodes (it never learns, so an unbounded
        # run would only repeat itself); without a checkpoint there is no trained policy to evaluate
        self.episodes_wanted = int(getattr(self.args, "episodes", None) or DEFAULT_INFERENCE_EPISODES)
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        if self.inference and not getattr(ctx, "resume", False):
            raise UsageError(
                "--inference runs a trained policy, and none was loaded: pass --resume runs/<ts> (a training run of "
                "this program; --resume alone takes the newest), or train first without --inference"
            )

    # -- one env step -----------------------------------------------------------------------------------------
    def step(self, state, policy_output: dict, reward, done, model, info: dict | None) -> dict:
        reward = torch.as_tensor(reward, dtype=torch.float32).reshape(-1)
        done = torch.as_tensor(done).reshape(-1).bool()
        if self.stats is None:
            self.stats = EpisodeStats(reward.numel(), device=reward.device)
        if info is not None and "episode_returns" in info and "episode_lengths" in info:
            finished = info["episode_returns"], info["episode_lengths"]
            self.stats.add_finished(*finished)  # the env measured them
        else:
            finished = self.stats.update(reward, done)
        if self.inference and finished[0].numel():
            self._record_episodes(done, finished)
        out: dict = {"training_complete": True}
        if not self.inference:
            loss = self._train(state, policy_output, reward, done, model, info)
            if loss is not None:
                out["loss"] = loss
        self._check_stop()
        return out

    def _train(self, state, po, reward, done, model, info):
        if self.learner is None:
            seed = getattr(self.ctx, "seed", None) or 0
            self.learner = PPOLearner(model, reward.numel(), self.cfg, reward.device, seed=seed)
            if self.pending_state is not None:
                self._restore(*self.pending_state)
        time_outs = terminal_value = None
        if info is not None and "time_outs" in info:
            time_outs = info["time_outs"]
            if bool(time_outs.any()):
                terminal_obs = info.get("terminal_observations", state)
                terminal_value = model.value(terminal_obs)
        full = self.learner.record(
            po["obs"], po["action"], po["log_prob"], po["value"], reward, done, time_outs, terminal_value
        )
        if not full:
            return None
        self.last_losses = self.learner.update(model.value(state))  # bootstrap with V(post-step observation)
        self._log_update()
        self._maybe_checkpoint()
        return torch.tensor(self.last_losses["loss"])

    # -- reporting --------------------------------------------------------------------------------------------
    def summary(self) -> dict:
        elapsed = time.perf_counter() - self.t0
        summary = self.stats.summary() if self.stats else {"env_steps": 0, "episodes": 0}
        summary["fps"] = round(summary.get("env_steps", 0) / elapsed, 1) if elapsed > 0 else 0.0
        summary["wall_s"] = round(elapsed, 3)
        summary["cpu_s"] = round(time.process_time() - self.cpu0, 3)
        return summary

    def _log_update(self) -> None:
        updates = self.learner.updates
        record = {
            "event": "update",
            "update": updates,
            **self.summary(),
            **{k: round(v, 6) for k, v in self.last_losses.items()},
        }
        self.curve.append(record)
        progress = getattr(self.ctx, "progress", None)
        if progress is not None:
            done_steps = record["env_steps"]
            progress.update(
                done_steps - getattr(progress, "completed", 0),
                total=self.max_steps,
                description="PPO",
                len=record.get("mean_episode_length"),
                ret=record.get("mean_return"),
            )
        if updates % self.log_every == 0:
            metrics = getattr(self.ctx, "metrics", None)
            if metrics is not None:
                metrics.write(record)

    def _maybe_checkpoint(self) -> None:
        if not self.checkpoint_enabled:
            return
        due = False
        if self.checkpoint_trigger_type == "epoch" and self.checkpoint_every > 0:
            due = self.learner.updates % int(self.checkpoint_every) == 0
        elif self.checkpoint_trigger_type == "time":
            due = time.perf_counter() - self.last_checkpoint_time >= self.checkpoint_every
        elif self.checkpoint_trigger_type == "best_metric":
            current = self.stats.mean_return
            due = current is not None and (self.best_return is None or current > self.best_return)
            if due:
                self.best_return = current
        if due:
            self.last_checkpoint_time = time.perf_counter()
            self.ctx.request_checkpoint(f"update_{self.learner.updates}")

    def _check_stop(self) -> None:
        if self.stop_reason is not None:
            return
        stats = self.stats
        reason = None
        if self.inference and len(self.episode_returns) >= self.episodes_wanted:
            reason = "done"
            self._report_episodes()
        elif self.max_steps and stats.env_steps >= self.max_steps:
            reason = "max_steps"
        elif self.stop_when != "never" and len(stats.recent_lengths) >= min(stats.recent_lengths.maxlen, 10):
            value = stats.mean_length if self.stop_when == "mean_episode_length" else stats.mean_return
            if value is not None and value >= self.stop_threshold:
                reason = "done"
                self.ctx.log(f"target reached: {self.stop_when} {value:.1f} ≥ {self.stop_threshold:g}")
        if reason is not None:
            self.stop_reason = reason  # the node requests the stop after its step boundary
            if not self.inference:
                self.ctx.request_checkpoint("final")

    def _record_episodes(self, done, finished) -> None:
        """Keep the first episodes of a fixed set of envs, not the first episodes to finish: with many envs those
        are the shortest ones (the failures), so they would understate the policy's return."""
        returns = finished[0].reshape(-1).tolist()
        lengths = finished[1].reshape(-1).tolist()
        envs = done.nonzero().reshape(-1).tolist()
        if len(envs) != len(returns):  # the env reported episodes its done flags do not show: keep them all
            envs = [None] * len(returns)
        num_envs = done.numel()
        used = min(self.episodes_wanted, num_envs)
        rounds = -(-self.episodes_wanted // used)  # episodes per used env
        if not hasattr(self, "episodes_seen"):
            self.episodes_seen = [0] * num_envs
        for env, ret, length in zip(envs, returns, lengths, strict=True):
            if env is not None:
                seen = self.episodes_seen[env]
                self.episodes_seen[env] = seen + 1
                if env >= used or seen >= rounds:
                    continue
            self.episode_returns.append(float(ret))
            self.episode_lengths.append(int(length))

    def _report_episodes(self) -> None:
        """The return of the first `--episodes` finished episodes: mean, standard deviation, min, max."""
        returns = self.episode_returns[: self.episodes_wanted]
        lengths = self.episode_lengths[: self.episodes_wanted]
        mean = sum(returns) / len(returns)
        std = (sum((r - mean) ** 2 for r in returns) / len(returns)) ** 0.5
        record = {
            "event": "episodes",
            "episodes": len(returns),
            "mean_return": mean,
            "std_return": std,
            "min_return": min(returns),
            "max_return": max(returns),
            "mean_episode_length": sum(lengths) / len(lengths),
        }
        metrics = getattr(self.ctx, "metrics", None)
        if metrics is not None:
            metrics.write(record)
        self.ctx.log(
            f"inference: {len(returns)} episodes, return {mean:.2f} ± {std:.2f} (min {record['min_return']:.2f}, "
            f"max {record['max_return']:.2f}), mean episode length {record['mean_episode_length']:.1f}"
        )

    def finish(self, reason: str) -> dict:
        """At the end of the run: the final metrics record, a one-line summary, and the learning-curve PNG."""
        summary = self.summary()
        record = {
            "event": "summary",
            "done": True,
            "reason": reason,
            "mode": "inference" if self.inference else "train",
            **summary,
        }
        if self.learner is not None:
            record["updates"] = self.learner.updates
        metrics = getattr(self.ctx, "metrics", None)
        if metrics is not None:
            metrics.write(record)
        mean_len, mean_ret = summary.get("mean_episode_length"), summary.get("mean_return")
        text = (
            f"{'inference' if self.inference else 'training'} stopped ({reason}): {summary['env_steps']} env steps, "
            f"{summary['episodes']} episodes"
        )
        if mean_ret is not None:
            text += f", mean return {mean_ret:.2f}, mean episode length {mean_len:.1f}"
        text += f", {summary['fps']:.0f} env steps/s"
        self.ctx.log(text)
        run_dir = getattr(self.ctx, "run_dir", None)
        if run_dir is not None and not self.inference and self.curve:
            try:
                from ..reporting import plots  # written by the reporting part, when present
            except ImportError:
                plots = None
            drawn = False
            if plots is not None:
                keys = ("mean_episode_length", "mean_return", "policy_loss", "value_loss", "entropy", "learning_rate")
                drawn = (
                    plots.plot_metrics(
                        self.curve, run_dir / "learning_curve.png", x_key="env_steps", keys=keys, title="PPO"
                    )
                    is not None
                )
            if not drawn:
                self.write_learning_curve(run_dir / "learning_curve.png")
        return record

    def write_learning_curve(self, path) -> bool:
        """PNG of mean episode length/return against env steps (matplotlib); False when it cannot be drawn."""
        points = [r for r in self.curve if r.get("mean_episode_length") is not None]
        if not points:
            return False
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return False
        steps = [r["env_steps"] for r in points]
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        axes[0].plot(steps, [r["mean_episode_length"] for r in points])
        axes[0].set_ylabel("mean episode length")
        axes[1].plot(steps, [r["mean_return"] for r in points])
        axes[1].set_ylabel("mean return")
        for ax in axes:
            ax.set_xlabel("env steps")
            ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return True

    # -- checkpoint -------------------------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict, dict]:
        if self.learner is None:
            return {}, {}
        tensors, meta = {}, {"updates": self.learner.updates, "optimizer": {}}
        opt = self.learner.optimizer.state_dict()
        for pid, pstate in opt["state"].items():
            for key, value in pstate.items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optimizer.{pid}.{key}"] = value.detach().clone()
                else:
                    meta["optimizer"].setdefault(str(pid), {})[key] = value
        meta["param_groups"] = opt["param_groups"]
        return tensors, meta

    def load_state_dict(self, tensors: dict, meta: dict) -> None:
        if self.learner is None:
            self.pending_state = (tensors, meta)
        else:
            self._restore(tensors, meta)

    def _restore(self, tensors: dict, meta: dict) -> None:
        state: dict = {}
        for name, value in tensors.items():
            if name.startswith("optimizer."):
                _, pid, key = name.split(".", 2)
                state.setdefault(int(pid), {})[key] = value
        for pid, extra in meta.get("optimizer", {}).items():
            state.setdefault(int(pid), {}).update(extra)
        if meta.get("param_groups"):
            self.learner.optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
        self.learner.updates = int(meta.get("updates", 0))
        self.pending_state = None
