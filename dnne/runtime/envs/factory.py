"""`make_env`: pick and build a backend for an env name (auto: isaacgym on CUDA if installed, else torch Cartpole,
else gymnasium). The env name is checked by `env_ids` first: it never makes anything import a module it names."""

from __future__ import annotations

import warnings

import torch

from .base import VecEnv
from .env_ids import TORCH_ENVS, check_env_name

BACKENDS = ("auto", "torch", "gymnasium", "isaacgym")


def resolve_device(device: str | torch.device) -> torch.device:
    """`cuda` without CUDA falls back to CPU with a warning; `auto` picks CUDA when available."""
    device = str(device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        warnings.warn(f"device {device!r} requested but CUDA is not available: running on CPU", stacklevel=2)
        return torch.device("cpu")
    return torch.device(device)


def resolve_backend(env_name: str, backend: str, device: torch.device, isaacgym_path: str | None = None) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"unknown env backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if backend != "auto":
        return backend
    if device.type == "cuda":
        from .isaacgym_env import isaacgym_available

        if isaacgym_available(isaacgym_path):
            return "isaacgym"
    return "torch" if env_name in TORCH_ENVS else "gymnasium"


def make_env(
    env_name: str,
    num_envs: int,
    *,
    device: str | torch.device = "cpu",
    backend: str = "auto",
    seed: int | None = None,
    render: bool = False,
    headless: bool = True,
    isaacgym_path: str | None = None,
    **options,
) -> VecEnv:
    """Build `num_envs` copies of `env_name` on `device` with the chosen backend (see module docstring).

    `options` go to the backend (torch Cartpole: max_effort, reset_dist, max_episode_length, reset_mode).
    `isaacgym_path`: extra import folders for Isaac Gym, chosen by the person running the program (the runner's
    `--isaacgym-path`, else the `DNNE_ISAACGYM_PATH` environment variable); never a workflow or config.json value.
    """
    dev = resolve_device(device)
    chosen = resolve_backend(env_name, backend, dev, isaacgym_path)
    check_env_name(env_name, chosen)
    if chosen == "torch":
        if env_name not in TORCH_ENVS:  # unreachable after check_env_name; kept as the backend's own guard
            raise ValueError(f"the torch backend only simulates {', '.join(TORCH_ENVS)}")
        from .torch_cartpole import TorchCartpole

        return TorchCartpole(num_envs, dev, seed=seed, **options)
    if chosen == "gymnasium":
        from .gymnasium_vec import GymnasiumVecEnv

        if dev.type != "cpu":
            warnings.warn("the gymnasium backend simulates on CPU; tensors are moved to " + str(dev), stacklevel=2)
        return GymnasiumVecEnv(env_name, num_envs, dev, seed=seed, render=render)
    from .isaacgym_env import IsaacGymVecEnv

    return IsaacGymVecEnv(
        env_name,
        num_envs,
        dev,
        seed=seed,
        headless=headless and not render,
        isaacgym_path=isaacgym_path,
    )
