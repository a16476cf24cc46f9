import pytest
import torch

from dnne.runtime.rl import ActorCritic, PPOConfig, PPOLearner, RolloutBuffer, compute_gae, ppo_losses
from dnne.runtime.rl.networks import parse_hidden_sizes


def test_gae_matches_a_hand_computation():
    gamma, lam = 0.9, 0.8
    rewards = torch.tensor([[1.0], [2.0], [3.0]])
    values = torch.tensor([[0.5], [1.0], [1.5]])
    dones = torch.tensor([[0.0], [1.0], [0.0]])
    last_value = torch.tensor([2.0])
    adv, ret = compute_gae(rewards, values, dones, last_value, gamma, lam)
    # by hand, backwards: t=2 bootstraps with V(after last step); t=1 ends its episode; t=0 continues into t=1
    d2 = 3.0 + 0.9 * 2.0 - 1.5
    a2 = d2
    d1 = 2.0 - 1.0  # done: no bootstrap through it
    a1 = d1
    d0 = 1.0 + 0.9 * 1.0 - 0.5
    a0 = d0 + 0.9 * 0.8 * a1
    assert adv[:, 0].tolist() == pytest.approx([a0, a1, a2])
    assert ret[:, 0].tolist() == pytest.approx([a0 + 0.5, a1 + 1.0, a2 + 1.5])


def test_gae_is_vectorised_over_envs():
    torch.manual_seed(0)
    rewards, values = torch.randn(5, 3), torch.randn(5, 3)
    dones = (torch.rand(5, 3) > 0.7).float()
    last = torch.randn(3)
    adv, _ = compute_gae(rewards, values, dones, last, 0.99, 0.95)
    for env in range(3):
        single, _ = compute_gae(
            rewards[:, env : env + 1],
            values[:, env : env + 1],
            dones[:, env : env + 1],
            last[env : env + 1],
            0.99,
            0.95,
        )
        assert torch.allclose(adv[:, env], single[:, 0])


def test_time_out_is_bootstrapped_not_terminal():
    buf = RolloutBuffer(1, 2, 3, (1,), False, "cpu")
    buf.add(
        torch.zeros(2, 3),
        torch.zeros(2, 1),
        torch.zeros(2),
        torch.zeros(2),
        torch.ones(2),
        torch.tensor([True, True]),
        time_out=torch.tensor([True, False]),
        terminal_value=torch.tensor([10.0, 10.0]),
        gamma=0.5,
    )
    assert buf.rewards[0].tolist() == [6.0, 1.0]  # 1 + 0.5 * V(terminal) only for the time-out
    assert buf.full
    with pytest.raises(RuntimeError, match="full"):
        buf.add(torch.zeros(2, 3), torch.zeros(2, 1), torch.zeros(2), torch.zeros(2), torch.ones(2), torch.ones(2))


@pytest.mark.parametrize("discrete", [False, True])
def test_actor_critic_shapes_and_deterministic_actions(discrete):
    torch.manual_seed(0)
    model = ActorCritic(4, 2 if discrete else 3, hidden_sizes=[16], activation="tanh", discrete=discrete)
    obs = torch.randn(5, 4)
    out = model.act(obs)
    assert out["action"].shape == ((5,) if discrete else (5, 3))
    assert out["log_prob"].shape == (5,) and out["value"].shape == (5,)
    a1, a2 = model.act(obs, deterministic=True)["action"], model.act(obs, deterministic=True)["action"]
    assert torch.equal(a1, a2)
    logp, ent, value = model.evaluate(obs, out["action"])
    assert torch.allclose(logp, out["log_prob"], atol=1e-6) and ent.shape == (5,)


def test_shared_and_separate_trunks():
    shared = ActorCritic(4, 1, hidden_sizes=[8, 8], shared=True)
    separate = ActorCritic(4, 1, hidden_sizes=[8, 8], shared=False)
    assert shared.critic_trunk is None and separate.critic_trunk is not None
    assert sum(p.numel() for p in separate.parameters()) > sum(p.numel() for p in shared.parameters())


def test_hidden_sizes_are_parsed_with_clear_errors():
    assert parse_hidden_sizes("64, 64") == [64, 64]
    assert parse_hidden_sizes("256,128,64,") == [256, 128, 64]
    with pytest.raises(ValueError, match="comma-separated"):
        parse_hidden_sizes("64;x")


def _fixed_batch(model, n=256):
    torch.manual_seed(1)
    obs = torch.randn(n, 4)
    with torch.no_grad():
        out = model.act(obs)
    return {
        "obs": obs,
        "actions": out["action"],
        "log_probs": out["log_prob"],
        "values": model.normalize_value(out["value"]),
        "advantages": torch.randn(n),
        "returns": torch.randn(n),
    }


def test_ppo_step_decreases_the_clipped_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    model = ActorCritic(4, 1, hidden_sizes=[32, 32])
    cfg = PPOConfig(entropy_coef=0.0)
    batch = _fixed_batch(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    first, first_parts = ppo_losses(model, batch, cfg)
    for _ in range(20):
        loss, parts = ppo_losses(model, batch, cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
    last, parts = ppo_losses(model, batch, cfg)
    assert last.item() < 0.95 * first.item()
    assert parts["policy_loss"].item() < first_parts["policy_loss"].item() - 0.01
    assert parts["approx_kl"].item() > 0


def test_clipping_stops_the_policy_gradient_outside_the_trust_region():
    torch.manual_seed(0)
    model = ActorCritic(4, 1, hidden_sizes=[8])
    batch = _fixed_batch(model, 32)
    batch["advantages"] = torch.ones(32)
    batch["log_probs"] = batch["log_probs"] - 1.0  # ratio e ≈ 2.7 > 1 + clip for every sample
    cfg = PPOConfig(value_coef=0.0, entropy_coef=0.0, clip_param=0.2)
    loss, parts = ppo_losses(model, batch, cfg)
    assert parts["policy_loss"].item() == pytest.approx(-1.2)
    loss.backward()
    assert all(
        p.grad is None or torch.count_nonzero(p.grad) == 0 for n, p in model.named_parameters() if "value" not in n
    )


def test_learner_update_runs_epochs_minibatches_and_adaptive_lr():
    torch.manual_seed(0)
    model = ActorCritic(4, 1, hidden_sizes=[16])
    cfg = PPOConfig(horizon_length=4, num_epochs=3, minibatch_size=8, lr_schedule="adaptive", learning_rate=1e-3)
    learner = PPOLearner(model, 4, cfg, "cpu")
    obs = torch.randn(4, 4)
    for t in range(4):
        out = model.act(obs)
        full = learner.record(obs, out["action"], out["log_prob"], out["value"], torch.ones(4), torch.zeros(4))
        assert full == (t == 3)
    before = [p.detach().clone() for p in model.parameters()]
    stats = learner.update(model.value(obs))
    assert learner.updates == 1 and learner.buffer.step == 0
    assert {"policy_loss", "value_loss", "entropy", "approx_kl", "learning_rate"} <= set(stats)
    assert stats["learning_rate"] != 1e-3  # adapted from the KL
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_value_normalisation_round_trip_and_observation_normaliser():
    model = ActorCritic(3, 1, hidden_sizes=[8], normalize_obs=True)
    model.value_norm.update(torch.tensor([[10.0], [20.0], [30.0]]))
    v = torch.tensor([5.0, 25.0])
    assert torch.allclose(model.denormalize_value(model.normalize_value(v)), v, atol=1e-4)
    model.obs_norm.update(torch.randn(1000, 3) * 4 + 7)
    normed = model.normalize(torch.randn(1000, 3) * 4 + 7)
    assert normed.mean().abs() < 0.2 and (normed.std() - 1).abs() < 0.2
