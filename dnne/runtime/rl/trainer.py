"""The bookkeeping around the PPO Trainer node's step (the node's `compute` shows the step itself): episode returns
and lengths, the `--episodes` bound of inference, when to checkpoint, when to stop, and the metrics, progress bar,
summary and learning curve of a run."""

from __future__ import annotations

import time

import torch

from ..durations import parse_duration
from ..envs.episode_stats import EpisodeStats
from ..node import UsageError
from ..reporting.plots import plot_metrics

STOP_WHEN = ("never", "mean_episode_length", "mean_return")
DEFAULT_INFERENCE_EPISODES = 10
CURVE_KEYS = ("mean_episode_length", "mean_return", "policy_loss", "value_loss", "entropy", "learning_rate")


def require_trained_policy(ctx) -> None:
    """Inference evaluates a trained policy; without a checkpoint there is none (exit 2 with the fix)."""
    if getattr(ctx.args, "inference", False) and not getattr(ctx, "resume", False):
        raise UsageError(
            "--inference runs a trained policy, and none was loaded: pass --resume runs/<ts> (a training run of "
            "this program; --resume alone takes the newest), or train first without --inference"
        )


def step_tensors(reward, done) -> tuple[torch.Tensor, torch.Tensor]:
    """One env step's rewards (float32) and done flags (bool), one entry per env."""
    return torch.as_tensor(reward, dtype=torch.float32).reshape(-1), torch.as_tensor(done).reshape(-1).bool()


def time_out_bootstrap(model, state, info: dict | None) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(time_outs, V(terminal observation)) of the step: an episode cut by its time limit did not fail, so its last
    reward is bootstrapped with the value of where it was cut. (None, None) when no env timed out."""
    if info is None or "time_outs" not in info:
        return None, None
    time_outs = info["time_outs"]
    if not bool(time_outs.any()):
        return time_outs, None
    return time_outs, model.value(info.get("terminal_observations", state))


class EpisodeTracker:
    """Returns and lengths of finished episodes (as the env measured them, when it reports them), and in inference
    the first `--episodes` episodes of a fixed set of envs."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.inference = bool(getattr(ctx.args, "inference", False))
        self.wanted = int(getattr(ctx.args, "episodes", None) or DEFAULT_INFERENCE_EPISODES)
        self.stats: EpisodeStats | None = None
        self.returns: list[float] = []  # inference: the episodes that count
        self.lengths: list[int] = []
        self.seen: list[int] = []  # inference: finished episodes per env

    @property
    def env_steps(self) -> int:
        return self.stats.env_steps if self.stats else 0

    def update(self, reward: torch.Tensor, done: torch.Tensor, info: dict | None) -> None:
        if self.stats is None:
            self.stats = EpisodeStats(reward.numel(), device=reward.device)
            self.seen = [0] * reward.numel()
        if info is not None and "episode_returns" in info and "episode_lengths" in info:
            finished = info["episode_returns"], info["episode_lengths"]
            self.stats.add_finished(*finished)  # the env measured them
        else:
            finished = self.stats.update(reward, done)
        if self.inference and finished[0].numel():
            self._count(done, finished)

    def _count(self, done: torch.Tensor, finished) -> None:
        """Keep the first episodes of a fixed set of envs, not the first episodes to finish: with many envs those
        are the shortest ones (the failures), so they would understate the policy's return."""
        returns = finished[0].reshape(-1).tolist()
        lengths = finished[1].reshape(-1).tolist()
        envs = done.nonzero().reshape(-1).tolist()
        if len(envs) != len(returns):  # the env reported episodes its done flags do not show: keep them all
            envs = [None] * len(returns)
        used = min(self.wanted, done.numel())
        rounds = -(-self.wanted // used)  # episodes per used env
        for env, ret, length in zip(envs, returns, lengths, strict=True):
            if env is not None:
                seen = self.seen[env]
                self.seen[env] = seen + 1
                if env >= used or seen >= rounds:
                    continue
            self.returns.append(float(ret))
            self.lengths.append(int(length))

    @property
    def inference_done(self) -> bool:
        return self.inference and len(self.returns) >= self.wanted

    def report_inference(self) -> None:
        """The return of the first `--episodes` finished episodes: mean, standard deviation, min, max."""
        returns, lengths = self.returns[: self.wanted], self.lengths[: self.wanted]
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
        self.ctx.metrics.write(record)
        self.ctx.log(
            f"inference: {len(returns)} episodes, return {mean:.2f} ± {std:.2f} (min {record['min_return']:.2f}, "
            f"max {record['max_return']:.2f}), mean episode length {record['mean_episode_length']:.1f}"
        )


class StopRule:
    """Why the run should end after this step, once: `--episodes` reached (inference), `--max-steps` env steps,
    or the `stop_when` target (over at least 10 finished episodes)."""

    def __init__(self, ctx, stop_when: str, stop_threshold: float):
        if stop_when not in STOP_WHEN:
            raise ValueError(f"stop_when must be one of {', '.join(STOP_WHEN)}, got {stop_when!r}")
        self.ctx = ctx
        self.max_steps = getattr(ctx.args, "max_steps", None)
        self.stop_when, self.threshold = stop_when, float(stop_threshold)

    def check(self, episodes: EpisodeTracker) -> str | None:
        if episodes.inference_done:
            episodes.report_inference()
            return "done"
        if self.max_steps and episodes.env_steps >= self.max_steps:
            return "max_steps"
        stats = episodes.stats
        if self.stop_when != "never" and len(stats.recent_lengths) >= min(stats.recent_lengths.maxlen, 10):
            value = stats.mean_length if self.stop_when == "mean_episode_length" else stats.mean_return
            if value is not None and value >= self.threshold:
                self.ctx.log(f"target reached: {self.stop_when} {value:.1f} ≥ {self.threshold:g}")
                return "done"
        return None


class CheckpointSchedule:
    """When a PPO update asks for a checkpoint: every N updates (`epoch`), every duration (`time`), or at each new
    best mean return (`best_metric`)."""

    def __init__(self, enabled: bool, trigger_type: str, trigger_value: str):
        self.enabled, self.trigger_type = bool(enabled), trigger_type
        self.every = 0.0
        if self.enabled and trigger_type in ("epoch", "time"):
            value = str(trigger_value)
            self.every = float(value) if trigger_type == "epoch" else parse_duration(value)
        self.last_time = time.perf_counter()
        self.best_return: float | None = None

    def due(self, updates: int, mean_return: float | None) -> bool:
        if not self.enabled:
            return False
        due = False
        if self.trigger_type == "epoch" and self.every > 0:
            due = updates % int(self.every) == 0
        elif self.trigger_type == "time":
            due = time.perf_counter() - self.last_time >= self.every
        elif self.trigger_type == "best_metric":
            due = mean_return is not None and (self.best_return is None or mean_return > self.best_return)
            if due:
                self.best_return = mean_return
        if due:
            self.last_time = time.perf_counter()
        return due


class TrainingReport:
    """One metrics record and a progress-bar update per PPO update; the summary and learning curve at the end."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.inference = bool(getattr(ctx.args, "inference", False))
        self.max_steps = getattr(ctx.args, "max_steps", None)
        self.curve: list[dict] = []
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()

    def summary(self, episodes: EpisodeTracker) -> dict:
        elapsed = time.perf_counter() - self.t0
        summary = episodes.stats.summary() if episodes.stats else {"env_steps": 0, "episodes": 0}
        summary["fps"] = round(summary.get("env_steps", 0) / elapsed, 1) if elapsed > 0 else 0.0
        summary["wall_s"] = round(elapsed, 3)
        summary["cpu_s"] = round(time.process_time() - self.cpu0, 3)
        return summary

    def update(self, updates: int, episodes: EpisodeTracker, losses: dict[str, float]) -> None:
        record = {
            "event": "update",
            "update": updates,
            **self.summary(episodes),
            **{k: round(v, 6) for k, v in losses.items()},
        }
        self.curve.append(record)
        progress = self.ctx.progress
        if progress is not None:
            progress.update(
                record["env_steps"] - getattr(progress, "completed", 0),
                total=self.max_steps,
                description="PPO",
                len=record.get("mean_episode_length"),
                ret=record.get("mean_return"),
            )
        self.ctx.metrics.write(record)

    def finish(self, reason: str, episodes: EpisodeTracker, updates: int | None) -> dict:
        """The final metrics record, a one-line summary, and the learning-curve PNG (training, with matplotlib)."""
        summary = self.summary(episodes)
        mode = "inference" if self.inference else "train"
        record = {"event": "summary", "done": True, "reason": reason, "mode": mode, **summary}
        if updates is not None:
            record["updates"] = updates
        self.ctx.metrics.write(record)
        mean_len, mean_ret = summary.get("mean_episode_length"), summary.get("mean_return")
        text = (
            f"{'inference' if self.inference else 'training'} stopped ({reason}): {summary['env_steps']} env steps, "
            f"{summary['episodes']} episodes"
        )
        if mean_ret is not None:
            text += f", mean return {mean_ret:.2f}, mean episode length {mean_len:.1f}"
        text += f", {summary['fps']:.0f} env steps/s"
        self.ctx.log(text)
        run_dir = self.ctx.run_dir
        if run_dir is not None and not self.inference and self.curve:
            plot_metrics(self.curve, run_dir / "learning_curve.png", x_key="env_steps", keys=CURVE_KEYS, title="PPO")
        return record
