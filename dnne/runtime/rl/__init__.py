"""PPO in plain torch: actor-critic networks, rollout buffer with GAE, the clipped-surrogate update."""

from .buffer import RolloutBuffer, compute_gae
from .networks import ActorCritic, parse_hidden_sizes
from .normalizer import RunningMeanStd
from .ppo import PPOConfig, PPOLearner, ppo_losses

# the other runtime packs this one imports (an export that vendors rl vendors them too)
REQUIRES = ("envs", "reporting")

__all__ = [
    "ActorCritic",
    "PPOConfig",
    "PPOLearner",
    "RolloutBuffer",
    "RunningMeanStd",
    "compute_gae",
    "parse_hidden_sizes",
    "ppo_losses",
]
