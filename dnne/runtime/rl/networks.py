"""Actor-critic MLPs for PPO: Gaussian policy (mean + state-independent log_std) or categorical (logits)."""

from __future__ import annotations

import torch
from torch import nn

from .normalizer import RunningMeanStd

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU, "leaky_relu": nn.LeakyReLU, "gelu": nn.GELU}


def parse_hidden_sizes(text: str | list | tuple) -> list[int]:
    """'64,64' → [64, 64] (blank entries ignored); raises ValueError with the offending text."""
    if isinstance(text, (list, tuple)):
        sizes = [int(s) for s in text]
    else:
        parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
        try:
            sizes = [int(p) for p in parts]
        except ValueError:
            raise ValueError(f"hidden_sizes must be comma-separated integers like '64,64', got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise ValueError(f"hidden_sizes must be positive, got {text!r}")
    return sizes


def mlp(in_dim: int, sizes: list[int], activation: str) -> tuple[nn.Sequential, int]:
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    for size in sizes:
        layers += [nn.Linear(in_dim, size), ACTIVATIONS[activation]()]
        in_dim = size
    return nn.Sequential(*layers), in_dim


class ActorCritic(nn.Module):
    """`shared=True`: one trunk feeds both heads; else separate actor and critic trunks.

    Continuous actions are unbounded Gaussian samples (the env side clamps/scales them); discrete actions are
    indices of shape [N]. Observations pass through a running mean/std normaliser when `normalize_obs`. With
    `normalize_value` the value head works in standardised units: `act`/`value` return values in reward units,
    `forward`/`evaluate` in standardised units.
    """

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        *,
        hidden_sizes: list[int] = (64, 64),
        activation: str = "elu",
        discrete: bool = False,
        shared: bool = False,
        init_log_std: float = 0.0,
        normalize_obs: bool = False,
        normalize_value: bool = True,
    ):
        super().__init__()
        self.obs_dim, self.action_dim, self.discrete, self.shared = obs_dim, action_dim, discrete, shared
        self.obs_norm = RunningMeanStd(obs_dim) if normalize_obs else None
        self.value_norm = RunningMeanStd(1) if normalize_value else None  # the value head predicts standardised returns
        sizes = list(hidden_sizes)
        self.actor_trunk, out = mlp(obs_dim, sizes, activation)
        self.critic_trunk = None if shared else mlp(obs_dim, sizes, activation)[0]
        self.policy_head = nn.Linear(out, action_dim)
        self.value_head = nn.Linear(out, 1)
        self.log_std = None if discrete else nn.Parameter(torch.full((action_dim,), float(init_log_std)))
        nn.init.orthogonal_(self.policy_head.weight, gain=0.01)
        nn.init.zeros_(self.policy_head.bias)

    def normalize(self, obs: torch.Tensor, update: bool = False) -> torch.Tensor:
        if self.obs_norm is None:
            return obs
        if update:
            self.obs_norm.update(obs)
        return self.obs_norm(obs)

    def denormalize_value(self, value: torch.Tensor) -> torch.Tensor:
        return value if self.value_norm is None else self.value_norm.denormalize(value.unsqueeze(-1)).squeeze(-1)

    def normalize_value(self, value: torch.Tensor) -> torch.Tensor:
        return value if self.value_norm is None else self.value_norm.normalize(value.unsqueeze(-1)).squeeze(-1)

    def forward(self, obs: torch.Tensor) -> tuple[torch.distributions.Distribution, torch.Tensor]:
        """(action distribution, standardised value [N]) for normalised observations."""
        features = self.actor_trunk(obs)
        value_features = features if self.critic_trunk is None else self.critic_trunk(obs)
        value = self.value_head(value_features).squeeze(-1)
        head = self.policy_head(features)
        if self.discrete:  # validate_args off: the per-call argument checks cost more than the small nets
            return torch.distributions.Categorical(logits=head, validate_args=False), value
        return torch.distributions.Normal(head, self.log_std.exp().expand_as(head), validate_args=False), value

    def log_prob(self, dist: torch.distributions.Distribution, actions: torch.Tensor) -> torch.Tensor:
        return dist.log_prob(actions) if self.discrete else dist.log_prob(actions).sum(-1)

    def entropy(self, dist: torch.distributions.Distribution) -> torch.Tensor:
        return dist.entropy() if self.discrete else dist.entropy().sum(-1)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, deterministic: bool = False) -> dict[str, torch.Tensor]:
        """Sample (or take the mode of) the policy for raw observations: action, log_prob, value."""
        dist, value = self(self.normalize(obs))
        if deterministic:
            action = dist.probs.argmax(-1) if self.discrete else dist.mean
        else:
            action = dist.sample()
        return {"action": action, "log_prob": self.log_prob(dist, action), "value": self.denormalize_value(value)}

    @torch.no_grad()
    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """V(obs) in reward units for raw observations."""
        return self.denormalize_value(self(self.normalize(obs))[1])

    def evaluate(self, norm_obs: torch.Tensor, actions: torch.Tensor):
        """(log_prob, entropy, standardised value) of `actions` for normalised observations."""
        dist, value = self(norm_obs)
        return self.log_prob(dist, actions), self.entropy(dist), value
