"""Loss/accuracy of a classifier on a whole data split, batched, without gradients (weights and RNG untouched)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

_NUMPY_FLOATS = (torch.float32, torch.float64, torch.float16)
_NUMPY_INTS = (torch.int64, torch.int32, torch.int16, torch.uint8)


def batch_accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of rows whose arg-max equals the label, rounded to float32 (the value a float32 mean would give)."""
    if predictions.dim() < 2:
        raise ValueError(f"predictions must be [batch, classes], got shape {list(predictions.shape)}")
    n = predictions.shape[0]
    if n == 0:
        return math.nan
    # Runs every training step, so it is kept cheap: on the CPU numpy's argmax/compare/count cost about half the
    # torch calls (same first-maximum rule, NaN included); an integer count and one division rounded to float32 is
    # exactly what a float32 `.float().mean()` gives.
    if predictions.is_cpu and labels.is_cpu and predictions.dtype in _NUMPY_FLOATS and labels.dtype in _NUMPY_INTS:
        correct = int(np.count_nonzero(predictions.detach().numpy().argmax(1) == labels.numpy()))
    else:
        correct = int((predictions.detach().argmax(dim=1) == labels).sum())
    return float(np.float32(correct / n))


def check_classification(predictions: torch.Tensor, labels: torch.Tensor) -> None:
    """A clear error when predictions and labels cannot be a classification pair."""
    if predictions.dim() != 2:
        raise ValueError(
            f"predictions must be [batch, classes] logits, got shape {list(predictions.shape)} "
            "(end the network with a Linear layer of one output per class)"
        )
    if labels.dim() != 1 or labels.shape[0] != predictions.shape[0]:
        raise ValueError(
            f"labels must be [batch] class indices matching predictions {list(predictions.shape)}, "
            f"got shape {list(labels.shape)}"
        )
    if labels.dtype not in (torch.int64, torch.int32, torch.uint8):
        raise ValueError(f"labels must be integer class indices, got {labels.dtype}")
    if labels.numel():
        top = int(labels.max())
        if top >= predictions.shape[1]:
            raise ValueError(
                f"label {top} is out of range for {predictions.shape[1]} outputs: the last layer needs at least "
                f"{top + 1} outputs (one per class)"
            )


def evaluate(model: nn.Module, split: Any, *, batch_size: int = 1000, device: Any = None) -> dict[str, float]:
    """{'loss', 'accuracy', 'samples'} of `model` on `split` (images [N, ...], labels [N]) with cross-entropy.

    The model runs in eval mode under `torch.inference_mode()`; its previous train/eval mode is restored.
    """
    was_training = model.training
    model.eval()
    total_loss = 0.0
    correct = 0
    n = len(split)
    try:
        with torch.inference_mode():
            for start in range(0, n, max(1, int(batch_size))):
                x = split.images[start : start + batch_size]
                y = split.labels[start : start + batch_size]
                if device is not None:
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                out = model(x)
                total_loss += F.cross_entropy(out.float(), y, reduction="sum").item()
                correct += int((out.argmax(dim=1) == y).sum().item())
    finally:
        model.train(was_training)
    return {"loss": total_loss / max(n, 1), "accuracy": correct / max(n, 1), "samples": n}


class SplitEvaluator:
    """What an Evaluate node registers with the training loop: evaluates `model` on `split` when asked."""

    def __init__(self, model: nn.Module, split: Any, *, prefix: str, batch_size: int, every_n_steps: int, device: Any):
        self.model = model
        self.split = split
        self.prefix = prefix
        self.batch_size = batch_size
        self.every_n_steps = every_n_steps
        self.device = device
        self.last: dict[str, float] = {}

    def evaluate(self) -> dict[str, float]:
        result = evaluate(self.model, self.split, batch_size=self.batch_size, device=self.device)
        self.last = {f"{self.prefix}_loss": result["loss"], f"{self.prefix}_accuracy": result["accuracy"]}
        return dict(self.last)
