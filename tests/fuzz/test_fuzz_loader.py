"""A bounded fuzz run in the suite: 2,000 mutated inputs, only Diagnostics (or DnneError) may come out."""

from __future__ import annotations

from tests.fuzz.fuzz_loader import fuzz


def test_loader_survives_2000_mutated_inputs():
    count, elapsed, failures = fuzz(inputs=2_000, seed=1)
    print(f"fuzz: {count} inputs in {elapsed:.1f} s")
    assert count == 2_000
    assert not failures, failures[0][1]
