"""Classification helpers: batch accuracy, input checks, and the pieces of an evaluation pass over a data split.

torch is imported when first needed: the node classes that use these helpers are imported by the catalog at export
time, which must stay light.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any


def _numpy_dtypes() -> tuple[tuple, tuple]:
    import torch

    floats = (torch.float32, torch.float64, torch.float16)
    ints = (torch.int64, torch.int32, torch.int16, torch.uint8)
    return floats, ints


def batch_accuracy(predictions: Any, labels: Any) -> float:
    """Fraction of rows whose arg-max equals the label, rounded to float32 (the value a float32 mean would give)."""
    import numpy as np

    if predictions.dim() < 2:
        raise ValueError(f"predictions must be [batch, classes], got shape {list(predictions.shape)}")
    n = predictions.shape[0]
    if n == 0:
        return math.nan
    # Runs every training step, so it is kept cheap: on the CPU numpy's argmax/compare/count cost about half the
    # torch calls (same first-maximum rule, NaN included); an integer count and one division rounded to float32 is
    # exactly what a float32 `.float().mean()` gives.
    floats, ints = _numpy_dtypes()
    if predictions.is_cpu and labels.is_cpu and predictions.dtype in floats and labels.dtype in ints:
        correct = int(np.count_nonzero(predictions.detach().numpy().argmax(1) == labels.numpy()))
    else:
        correct = int((predictions.detach().argmax(dim=1) == labels).sum())
    return float(np.float32(correct / n))


def check_classification(predictions: Any, labels: Any) -> None:
    """A clear error when predictions and labels cannot be a classification pair."""
    import torch

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


def no_grad() -> Any:
    """`torch.no_grad()`: no autograd graph is recorded (evaluation)."""
    import torch

    return torch.no_grad()


def batches_of(split: Any, batch_size: int, device: Any = None) -> Iterator[tuple[Any, Any]]:
    """(images, labels) of `split` in order, `batch_size` at a time, moved to `device`."""
    size = max(1, int(batch_size))
    for start in range(0, len(split), size):
        x = split.images[start : start + size]
        y = split.labels[start : start + size]
        if device is not None:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        yield x, y


def summed_cross_entropy(logits: Any, labels: Any) -> float:
    """The cross-entropy of a batch summed over its samples (a float; computed in float32)."""
    import torch.nn.functional as F

    return F.cross_entropy(logits.float(), labels, reduction="sum").item()


def evaluate(model: Any, split: Any, *, batch_size: int = 1000, device: Any = None) -> dict[str, float]:
    """{'loss', 'accuracy', 'samples'} of `model` on `split` with cross-entropy: the training loop's implicit
    evaluation (the same pass as the Evaluate node's). Eval mode, no gradients; the previous mode is restored."""
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0, len(split)
    try:
        with no_grad():
            for x, y in batches_of(split, batch_size, device):
                out = model(x)
                total_loss += summed_cross_entropy(out, y)
                correct += int((out.argmax(dim=1) == y).sum().item())
    finally:
        model.train(was_training)
    return {"loss": total_loss / max(n, 1), "accuracy": correct / max(n, 1), "samples": n}
