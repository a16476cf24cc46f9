"""Isaac Gym backend (IsaacGymEnvs `VecTask`), imported lazily; needs an NVIDIA GPU, `isaacgym` and `isaacgymenvs`.

Typed against the documented IsaacGymEnvs 1.5 API: `isaacgymenvs.make(seed, task, num_envs, sim_device, rl_device,
graphics_device_id, headless)` returns a VecTask whose `step(actions)` clamps actions to ±1 and scales them itself
(Cartpole: × `maxEffort`), resets inside `step` and returns `(obs_dict, rew_buf, reset_buf, extras)`.
It cannot run on a machine without Isaac Gym; nothing in dnne's tests depends on it.

Where Isaac Gym is imported from is chosen by the person running the program, never by the workflow: the installed
environment, plus the folders of the runner's `--isaacgym-path` (else the `DNNE_ISAACGYM_PATH` environment variable),
`os.pathsep`-separated like PYTHONPATH (e.g. `~/isaacgym/python:~/IsaacGymEnvs`). The old workflow widgets
`isaac_gym_path` / `isaac_gym_envs_path` are ignored (with a warning at export).
"""

from __future__ import annotations

import os
import sys

import torch

from .base import EnvSpec, VecEnv

PATH_ENV_VAR = "DNNE_ISAACGYM_PATH"


def operator_paths(isaacgym_path: str | None = None) -> list[str]:
    """The import folders the operator chose: `--isaacgym-path` if given, else $DNNE_ISAACGYM_PATH, else none."""
    text = isaacgym_path if isaacgym_path else os.environ.get(PATH_ENV_VAR, "")
    return [os.path.expanduser(part) for part in text.split(os.pathsep) if part.strip()]


def _add_operator_paths(isaacgym_path: str | None) -> None:
    for path in operator_paths(isaacgym_path):
        if path not in sys.path:
            sys.path.append(path)


def isaacgym_available(isaacgym_path: str | None = None) -> bool:
    _add_operator_paths(isaacgym_path)
    try:
        import isaacgym  # noqa: F401
        import isaacgymenvs  # noqa: F401
    except Exception:
        return False
    return True


class IsaacGymVecEnv(VecEnv):
    def __init__(
        self,
        env_name: str,
        num_envs: int,
        device: torch.device | str = "cuda",
        *,
        seed: int | None = None,
        headless: bool = True,
        isaacgym_path: str | None = None,
    ):
        device = torch.device(device)
        if device.type != "cuda":  # Isaac Gym needs an NVIDIA GPU: do not import it at all elsewhere
            raise RuntimeError(
                f"the isaacgym backend needs CUDA (device is {device}); "
                "use backend 'torch' (Cartpole) or 'gymnasium' instead"
            )
        _add_operator_paths(isaacgym_path)
        try:
            import isaacgym  # noqa: F401  (must be imported before torch-using isaacgymenvs modules)
            import isaacgymenvs
        except ImportError as exc:
            raise RuntimeError(
                "the isaacgym backend needs Isaac Gym Preview 4 and IsaacGymEnvs installed on an NVIDIA machine; "
                f"use backend 'torch' (Cartpole) or 'gymnasium' instead, or point --isaacgym-path (or ${PATH_ENV_VAR}) "
                "at the isaacgym/python and IsaacGymEnvs folders"
            ) from exc
        dev = f"cuda:{device.index or 0}" if device.type == "cuda" else "cpu"
        self.task = isaacgymenvs.make(
            seed=seed or 0,
            task=env_name,
            num_envs=num_envs,
            sim_device=dev,
            rl_device=dev,
            graphics_device_id=0 if not headless else -1,
            headless=headless,
        )
        act_dim = int(self.task.num_acts)
        dt = float(getattr(self.task, "dt", 1.0 / 60.0))
        max_len = getattr(self.task, "max_episode_length", None)
        spec = EnvSpec(env_name, "isaacgym", num_envs, int(self.task.num_obs), act_dim, False, dt, max_len)
        super().__init__(spec, device)
        # VecTask scales normalised actions itself; native units for dnne are forces, so divide them back.
        self.action_scale = float(getattr(self.task, "max_push_effort", 1.0))

    def scale_actions(self, actions: torch.Tensor) -> torch.Tensor:
        return actions.clamp(-1.0, 1.0) * self.action_scale

    def _reset(self) -> torch.Tensor:
        return self.task.reset()["obs"]

    def _step(self, actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict]:
        obs_dict, rewards, resets, extras = self.task.step(actions.reshape(self.num_envs, -1) / self.action_scale)
        extras = dict(extras)
        extras["time_outs"] = extras.get("time_outs", torch.zeros_like(resets)).bool()
        return obs_dict["obs"], rewards, resets.bool(), extras
