import copy

import pytest
import torch
from torch import nn

from dnne.runtime.envs.episode_stats import EpisodeStats
from dnne.runtime.rl.flat_adam import FlatAdam
from dnne.runtime.rl.networks import ActorCritic


def _loss(model, x):
    dist, value = model(x)
    return (value**2).mean() + 3.0 * dist.mean.pow(2).mean() + model.log_std.sum()


def _step(model, opt, x, max_norm):
    opt.zero_grad(set_to_none=True)
    _loss(model, x).backward()
    if isinstance(opt, FlatAdam):
        opt.clip_grad_norm_(max_norm)
    else:
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    opt.step()


def test_flat_adam_follows_torch_adam_with_grad_clipping():
    torch.manual_seed(0)
    ref = ActorCritic(4, 1, hidden_sizes=[16, 16])
    flat_model = copy.deepcopy(ref)
    ref_opt = torch.optim.Adam(ref.parameters(), lr=1e-3, eps=1e-5)
    flat_opt = FlatAdam(flat_model.parameters(), lr=1e-3, eps=1e-5)
    x = torch.randn(128, 4)
    before = [p.detach().clone() for p in ref.parameters()]
    for _ in range(25):
        _step(ref, ref_opt, x, 0.5)
        _step(flat_model, flat_opt, x, 0.5)
    moved = max((p - b).abs().max().item() for p, b in zip(ref.parameters(), before, strict=True))
    diff = max((p - q).abs().max().item() for p, q in zip(ref.parameters(), flat_model.parameters(), strict=True))
    assert moved > 1e-3  # the comparison is not between two frozen models
    assert diff < 1e-6


def test_flat_adam_state_dict_has_torch_adams_layout_both_ways():
    torch.manual_seed(0)
    model = ActorCritic(4, 1, hidden_sizes=[8])
    opt = FlatAdam(model.parameters(), lr=2e-3, eps=1e-5)
    x = torch.randn(32, 4)
    for _ in range(3):
        _step(model, opt, x, 1.0)
    state = opt.state_dict()
    torch_opt = torch.optim.Adam(copy.deepcopy(model).parameters(), lr=1.0)
    torch_opt.load_state_dict(state)  # torch accepts it as its own
    assert torch_opt.param_groups[0]["lr"] == pytest.approx(2e-3)
    again = FlatAdam(copy.deepcopy(model).parameters(), lr=1.0)
    again.load_state_dict(torch_opt.state_dict())
    assert again.step_count == 3
    assert torch.equal(again.exp_avg, opt.exp_avg) and torch.equal(again.exp_avg_sq, opt.exp_avg_sq)
    assert again.param_groups[0]["lr"] == pytest.approx(2e-3)


def test_flat_adam_refuses_a_replaced_gradient():
    model = nn.Linear(3, 2)
    opt = FlatAdam(model.parameters())
    model.weight.grad = torch.zeros(2, 3)
    with pytest.raises(RuntimeError, match="gradient views"):
        opt.zero_grad()


def test_episode_stats_from_the_envs_finished_episodes_match_accumulating_rewards():
    torch.manual_seed(0)
    direct, reused = EpisodeStats(6), EpisodeStats(6)
    for _ in range(40):
        rewards, dones = torch.rand(6), torch.rand(6) < 0.2
        returns, lengths = direct.update(rewards, dones)
        reused.add_finished(returns, lengths)
    assert direct.episodes > 5
    assert reused.summary() == direct.summary()
