"""Data-side helpers of the supervised nodes: the SCHEMA value, the sampler's seed and GetBatch's resumable feed."""

from __future__ import annotations

from typing import Any

from ..data.batches import RANDOM_SEED, BatchIterator
from .state import pack, unpack


def dataset_schema(dataset: Any, *, train: bool) -> dict[str, Any]:
    """What downstream nodes need to know about a data set (the SCHEMA value)."""
    split = dataset.split(train)
    return {
        "name": dataset.name,
        "train": bool(train),
        "input_shape": list(dataset.input_shape),
        "num_classes": int(dataset.num_classes),
        "classes": list(dataset.classes),
        "num_samples": len(split),
        "source": dataset.source,
    }


def sampler_seed(seed: int, ctx: Any) -> int:
    """-1 means random, unless the run was given --seed: then a seed derived from it (reproducible runs)."""
    if seed != RANDOM_SEED:
        return int(seed)
    explicit = getattr(ctx.args, "seed", None)
    if explicit is not None:
        return (int(explicit) * 1_000_003 + 7919) % (2**63 - 1)
    return RANDOM_SEED


def make_iterator(
    dataset: Any, schema: dict | None, *, batch_size: int, shuffle: bool, seed: int, drop_last: bool, ctx: Any
) -> BatchIterator:
    """A BatchIterator over the schema's split (train unless the dataset node says otherwise), on the run's device."""
    train = True if not schema else bool(schema.get("train", True))
    if train and getattr(dataset, "test", None) is not None:
        from .loop import TrainingLoop

        ctx.pack_state("ml", TrainingLoop).offer_held_out(dataset.test)
    return BatchIterator(
        dataset.split(train),
        int(batch_size),
        shuffle=bool(shuffle),
        seed=sampler_seed(int(seed), ctx),
        drop_last=bool(drop_last),
        device=ctx.device,
    )


class BatchFeed:
    """GetBatch's side of the iterator: adds the global step to the stats and checkpoints the position."""

    def __init__(self) -> None:
        self.iterator: BatchIterator | None = None
        self._pending: tuple[dict, dict] | None = None

    def attach(self, iterator: BatchIterator) -> None:
        if iterator is self.iterator:
            return
        if not isinstance(iterator, BatchIterator):
            raise TypeError(f"dataloader must come from a BatchSampler, got {type(iterator).__name__}")
        self.iterator = iterator
        if self._pending is not None:
            tensors, meta = self._pending
            self._pending = None
            iterator.load_state_dict(unpack(meta["iterator"], tensors))

    def next(self) -> tuple[Any, Any, bool, dict[str, Any]]:
        assert self.iterator is not None
        images, labels, complete, stats = self.iterator.next()  # a fresh stats dict per batch: extended in place
        stats["step"] = (stats["epoch"] - 1) * stats["batches_per_epoch"] + stats["batch"]
        stats["epoch_complete"] = complete
        return images, labels, complete, stats

    def state_dict(self) -> tuple[dict, dict]:
        if self.iterator is None:
            return self._pending if self._pending is not None else ({}, {})
        meta, tensors = pack(self.iterator.state_dict(), "it")
        return tensors, {"iterator": meta}

    def load_state_dict(self, tensors: dict, meta: dict) -> None:
        if "iterator" not in meta:
            return
        if self.iterator is None:
            self._pending = (tensors, meta)
        else:
            self.iterator.load_state_dict(unpack(meta["iterator"], tensors))
