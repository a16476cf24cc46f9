import pytest
import torch

from dnne.runtime.data import BatchIterator, DataError, Split


def _split(n):
    return Split(torch.arange(n, dtype=torch.float32).reshape(n, 1), torch.arange(n, dtype=torch.int64))


@pytest.mark.parametrize("n, batch, drop_last, expected", [(10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3)])
def test_exact_epoch_boundaries(n, batch, drop_last, expected):
    it = BatchIterator(_split(n), batch, shuffle=True, seed=0, drop_last=drop_last)
    assert it.batches_per_epoch == expected
    for epoch in (1, 2, 3):
        seen = []
        for b in range(1, expected + 1):
            x, y, complete, stats = it.next()
            assert complete == (b == expected)
            assert stats["epoch"] == epoch and stats["batch"] == b and stats["batches_per_epoch"] == expected
            assert torch.equal(x[:, 0].long(), y)
            seen += y.tolist()
            assert stats["samples"] == len(seen)
        assert it.epoch == epoch and it.position == 0
        if drop_last:
            assert len(seen) == expected * batch and len(set(seen)) == len(seen)
        else:
            assert sorted(seen) == list(range(n))  # every sample exactly once per epoch


def test_shuffle_changes_per_epoch_and_no_shuffle_is_ordered():
    it = BatchIterator(_split(20), 20, seed=3)
    first, second = it.next()[1], it.next()[1]
    assert not torch.equal(first, second)
    plain = BatchIterator(_split(5), 2, shuffle=False)
    assert [plain.next()[1].tolist() for _ in range(4)] == [[0, 1], [2, 3], [4], [0, 1]]


def test_same_seed_same_batches():
    a, b = BatchIterator(_split(50), 8, seed=11), BatchIterator(_split(50), 8, seed=11)
    for _ in range(20):
        assert torch.equal(a.next()[1], b.next()[1])


def test_seed_minus_one_is_random_and_recorded():
    seeds = {BatchIterator(_split(50), 50, seed=-1).seed for _ in range(5)}
    assert len(seeds) == 5 and all(s >= 0 for s in seeds)
    it = BatchIterator(_split(50), 50, seed=-1)
    replay = BatchIterator(_split(50), 50, seed=it.seed)
    assert torch.equal(it.next()[1], replay.next()[1])
    assert it.state_dict()["seed"] == it.seed


@pytest.mark.parametrize("stop_after", [0, 1, 3, 4, 9])
def test_resume_yields_identical_batches(stop_after):
    reference = BatchIterator(_split(17), 4, seed=-1)  # 5 batches per epoch
    resumed = BatchIterator(_split(17), 4, seed=reference.seed)
    for _ in range(stop_after):
        resumed.next()
    state = resumed.state_dict()
    state = {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in state.items()}
    expected = [reference.next() for _ in range(stop_after + 12)][stop_after:]
    fresh = BatchIterator(_split(17), 4, seed=0)  # different seed: the state must override it
    fresh.load_state_dict(state)
    for exp in expected:
        got = fresh.next()
        assert torch.equal(got[1], exp[1]) and got[2] == exp[2] and got[3] == exp[3]


def test_resume_refuses_other_settings():
    it = BatchIterator(_split(10), 2, seed=0)
    it.next()
    with pytest.raises(DataError, match="batch_size=2"):
        BatchIterator(_split(10), 5, seed=0).load_state_dict(it.state_dict())


def test_bad_arguments():
    with pytest.raises(DataError, match="batch_size must be at least 1"):
        BatchIterator(_split(3), 0)
    with pytest.raises(DataError, match="empty"):
        BatchIterator(_split(0), 1)
    with pytest.raises(DataError, match="no batch"):
        BatchIterator(_split(3), 4, drop_last=True)
    with pytest.raises(DataError, match="seed must be"):
        BatchIterator(_split(3), 1, seed=-5)
