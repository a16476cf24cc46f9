"""Batched RL environments behind one VecTask-shaped interface (torch Cartpole, gymnasium, Isaac Gym)."""

from .base import EnvSpec, VecEnv
from .episode_stats import EpisodeStats
from .factory import BACKENDS, make_env, resolve_backend, resolve_device

__all__ = ["BACKENDS", "EnvSpec", "EpisodeStats", "VecEnv", "make_env", "resolve_backend", "resolve_device"]
