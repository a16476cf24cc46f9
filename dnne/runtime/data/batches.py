"""Batches by tensor indexing: one permutation per epoch from the iterator's own generator, no DataLoader."""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import Tensor

from .datasets import Split
from .errors import DataError

RANDOM_SEED = -1


def random_seed() -> int:
    """A fresh non-negative 63-bit seed from the OS entropy source."""
    return int.from_bytes(os.urandom(8), "little") & (2**63 - 1)


class BatchIterator:
    """Endless batches over a `Split`, epoch after epoch.

    `next()` returns `(images, labels, epoch_complete, stats)`. `epoch_complete` is True exactly on the last batch of
    an epoch; the following call starts the next epoch with a new permutation. `stats` holds `epoch` (1-based number
    of the epoch this batch belongs to), `batch` (1-based index in the epoch), `batches_per_epoch`, `samples` (samples
    delivered so far in this epoch, this batch included), `batch_size` (this batch) and `completed`.

    `seed=-1` draws a random seed (kept in `.seed` and in the state). `state_dict()` / `load_state_dict()` capture
    the epoch, the position, the generator state and the current permutation, so a resumed run yields exactly the
    same batches as an uninterrupted one.
    """

    def __init__(
        self,
        split: Split,
        batch_size: int,
        *,
        shuffle: bool = True,
        seed: int = RANDOM_SEED,
        drop_last: bool = False,
        device: torch.device | str | None = None,
    ):
        if batch_size < 1:
            raise DataError(f"batch_size must be at least 1, got {batch_size}")
        if len(split) == 0:
            raise DataError("cannot draw batches from an empty data split")
        if drop_last and batch_size > len(split):
            raise DataError(
                f"batch_size {batch_size} is larger than the {len(split)} samples and drop_last is set: "
                "an epoch would have no batch"
            )
        if seed != RANDOM_SEED and seed < 0:
            raise DataError(f"seed must be ≥ 0, or -1 for a random seed; got {seed}")
        self.split = split.to(device) if device is not None else split
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = random_seed() if seed == RANDOM_SEED else int(seed)
        self.num_samples = len(split)
        full, rest = divmod(self.num_samples, self.batch_size)
        self.batches_per_epoch = full if (drop_last or rest == 0) else full + 1
        self._generator = torch.Generator().manual_seed(self.seed)
        self._epoch = 0  # completed epochs
        self._position = 0  # index of the next batch in the current epoch
        self._order: Tensor | None = None  # the current epoch's permutation (CPU), None between epochs
        self._order_on_device: Tensor | None = None

    @property
    def epoch(self) -> int:
        """Number of completed epochs."""
        return self._epoch

    @property
    def position(self) -> int:
        """Index (0-based) of the next batch within the current epoch."""
        return self._position

    def _start_epoch(self) -> None:
        if self.shuffle:
            self._order = torch.randperm(self.num_samples, generator=self._generator)
        else:
            self._order = torch.arange(self.num_samples)
        self._order_on_device = None

    def next(self) -> tuple[Tensor, Tensor, bool, dict[str, Any]]:
        if self._order is None:
            self._start_epoch()
        if self._order_on_device is None:
            self._order_on_device = self._order.to(self.split.device)  # type: ignore[union-attr]
        start = self._position * self.batch_size
        index = self._order_on_device[start : start + self.batch_size]
        images = self.split.images.index_select(0, index)
        labels = self.split.labels.index_select(0, index)
        self._position += 1
        complete = self._position == self.batches_per_epoch
        stats = {
            "epoch": self._epoch + 1,
            "batch": self._position,
            "batches_per_epoch": self.batches_per_epoch,
            "samples": start + len(index),
            "batch_size": len(index),
            "completed": complete,
        }
        if complete:
            self._epoch += 1
            self._position = 0
            self._order = self._order_on_device = None
        return images, labels, complete, stats

    def __iter__(self) -> BatchIterator:
        return self

    def __next__(self) -> tuple[Tensor, Tensor, bool, dict[str, Any]]:
        return self.next()

    # -- checkpointing ---------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Tensors `generator` (uint8) and `permutation` (int64, empty between epochs) plus JSON-safe scalars."""
        return {
            "generator": self._generator.get_state(),
            "permutation": self._order.clone() if self._order is not None else torch.empty(0, dtype=torch.int64),
            "epoch": self._epoch,
            "position": self._position,
            "seed": self.seed,
            "num_samples": self.num_samples,
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "drop_last": self.drop_last,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue exactly where `state_dict()` was taken (same data size and batch settings required)."""
        for key in ("num_samples", "batch_size", "shuffle", "drop_last"):
            if key in state and state[key] != getattr(self, key):
                raise DataError(
                    f"cannot resume the batch iterator: checkpoint has {key}={state[key]!r}, this run has "
                    f"{getattr(self, key)!r} (resume with the same data and batch settings)"
                )
        position = int(state["position"])
        order = state["permutation"]
        if position and (order is None or order.numel() != self.num_samples):
            raise DataError("cannot resume the batch iterator: the checkpoint lacks the current epoch's permutation")
        if not 0 <= position < self.batches_per_epoch:
            raise DataError(f"cannot resume the batch iterator: position {position} is outside the epoch")
        self._generator.set_state(state["generator"].to(torch.uint8).cpu())
        self.seed = int(state.get("seed", self.seed))
        self._epoch = int(state["epoch"])
        self._position = position
        self._order = order.to(torch.int64).cpu().clone() if position else None
        self._order_on_device = None
