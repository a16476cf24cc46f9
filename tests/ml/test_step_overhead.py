"""The per-step shortcuts of the ML pack give exactly what the straightforward code gave."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from dnne.runtime.context import RunContext
from dnne.runtime.ml.evaluation import batch_accuracy, evaluate
from dnne.runtime.ml.network import NetworkModel
from dnne.runtime.ml.training import EpochTracking
from dnne.runtime.node import QueueNode
from dnne.runtime.progress import Progress


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("n", [1, 3, 64, 100, 1000])
def test_batch_accuracy_equals_the_float32_mean_it_replaces(dtype, n):
    gen = torch.Generator().manual_seed(n)
    for trial in range(20):
        predictions = torch.randn(n, 10, generator=gen).to(dtype)
        if trial % 3 == 0:
            predictions[: n // 2] = 1.0  # ties: the first maximum wins on both paths
        if trial % 5 == 0:
            predictions[0, 7] = float("nan")
        labels = torch.randint(0, 10, (n,), generator=gen)
        expected = (predictions.argmax(dim=1) == labels).float().mean().item()
        assert batch_accuracy(predictions.requires_grad_(), labels) == expected


def test_batch_accuracy_of_an_empty_batch_is_nan():
    assert math.isnan(batch_accuracy(torch.zeros(0, 10), torch.zeros(0, dtype=torch.int64)))


def test_network_trains_in_train_mode_after_an_evaluation_switched_it_to_eval():
    ctx = RunContext()
    node = QueueNode("4", "net")

    class Architecture(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear1 = nn.Linear(5, 8)
            self.dropout1 = nn.Dropout(0.5)
            self.linear2 = nn.Linear(8, 3)

        def forward(self, x):
            return self.linear2(self.dropout1(self.linear1(x)))

    net = NetworkModel(node, Architecture, [5], load_on_start=False)
    net.setup(ctx)
    x = torch.randn(16, 5)
    net.forward(x)
    model = net.model
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    assert model.training and dropouts and all(m.training for m in model.modules())

    class Split:
        images, labels = torch.randn(10, 5), torch.randint(0, 3, (10,))

        def __len__(self):
            return 10

    evaluate(model, Split())  # eval mode inside, the previous mode restored after
    assert all(m.training for m in model.modules())
    model.eval()  # someone left it in eval mode: the next training batch switches it back
    net.forward(x)
    assert all(m.training for m in model.modules())


def test_epoch_tracking_keeps_the_progress_counters_the_activity_stream_reads():
    ctx = RunContext(progress=Progress(enabled=False))
    tracking = EpochTracking(QueueNode("15", "tracker"), max_epochs=2)
    tracking.setup(ctx)
    for batch in range(1, 4):
        stats = {"batch_size": 4, "epoch": 1, "batch": batch, "batches_per_epoch": 3, "step": batch}
        stats["epoch_complete"] = batch == 3
        tracking.observe(stats, torch.tensor(0.5), 0.25)
    assert ctx.progress.completed == 3 and ctx.progress.total == 6
    assert ctx.progress.description == "epoch 1/2"
    assert tracking.epochs_done == 1
