"""Optimizer/schedule/network state round trips and the checkpoint trigger rules (in process, no export)."""

from __future__ import annotations

import pytest
import torch

from dnne.runtime.ml.optim import LRSchedule, load_optimizer_state, make_optimizer, optimizer_state
from dnne.runtime.ml.state import pack, unpack
from dnne.runtime.ml.triggers import CheckpointTrigger, parse_duration

SCHEMA = {"batches_per_epoch": 4}


def _setup(schedule: str):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    handle = make_optimizer("Adam", model, lr=0.01)
    sched = LRSchedule(schedule, epochs=3, step_size=1, gamma=0.5, max_lr=0.05)
    sched.attach(handle, SCHEMA, None)
    return model, handle, sched


def _train(model, handle, steps):
    lrs = []
    for i in range(steps):
        x = torch.full((4, 3), float(i))
        loss = model(x).pow(2).mean()
        handle.zero_grad()
        loss.backward()
        handle.step()
        lrs.append(handle.lr)
    return lrs


@pytest.mark.parametrize("schedule", ["step", "cosine", "one_cycle"])
def test_schedule_and_optimizer_resume_exactly(schedule):
    model, handle, sched = _setup(schedule)
    _train(model, handle, 5)
    # copies, as the checkpoint writer makes: state_dict() returns live tensors
    opt_state = ({k: v.clone() for k, v in optimizer_state(handle)[0].items()}, optimizer_state(handle)[1])
    sched_state = sched.state_dict()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    expected = _train(model, handle, 7)

    model2, handle2, sched2 = _setup(schedule)
    model2.load_state_dict(weights)
    load_optimizer_state(handle2, *opt_state)
    sched2.load_state_dict(*sched_state)
    assert _train(model2, handle2, 7) == expected
    assert torch.equal(model.weight, model2.weight)
    assert len(set(expected)) > 1  # the learning rate really changes


def test_the_catalog_offers_exactly_the_runtime_schedules():
    from dnne.catalog.ml.lr_scheduler import NODE_TYPE
    from dnne.runtime.ml.optim import SCHEDULES

    assert NODE_TYPE.input("schedule").options == SCHEDULES


def test_schedule_needs_the_batches_per_epoch():
    model = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match="BatchSampler.schema"):
        LRSchedule("cosine", epochs=2, step_size=1, gamma=0.1, max_lr=0).attach(
            make_optimizer("SGD", model, lr=0.1), {}, None
        )


def test_pack_round_trips_optimizer_state_with_integer_keys_and_tuples():
    model = torch.nn.Linear(3, 2)
    handle = make_optimizer("AdamW", model)
    _train(model, handle, 2)
    meta, tensors = pack(handle.optimizer.state_dict(), "opt")
    restored = unpack(meta, tensors)
    original = handle.optimizer.state_dict()
    assert restored["param_groups"][0]["betas"] == original["param_groups"][0]["betas"]
    assert set(restored["state"]) == set(original["state"]) == {0, 1}
    assert torch.equal(restored["state"][0]["exp_avg"], original["state"][0]["exp_avg"])


def test_checkpoint_triggers():
    every2 = CheckpointTrigger("epoch", "2")
    assert [every2.on_epoch({"epoch": e}) for e in (1, 2, 3, 4)] == [None, "epoch2", None, "epoch4"]
    best = CheckpointTrigger("best_metric", "max")
    tags = [best.on_epoch({"epoch": e, "test_accuracy": a}) for e, a in ((1, 0.5), (2, 0.4), (3, 0.7))]
    assert tags == ["best-test_accuracy-epoch1", None, "best-test_accuracy-epoch3"]
    lowest = CheckpointTrigger("best_metric", "train_loss")
    assert lowest.mode == "min"
    assert parse_duration("1h30m") == 5400 and parse_duration("45s") == 45 and parse_duration("90") == 90
    for kind, value in (("epoch", "0"), ("time", "soon"), ("best_metric", "x:sideways"), ("weekly", "1")):
        with pytest.raises(ValueError):
            CheckpointTrigger(kind, value)
