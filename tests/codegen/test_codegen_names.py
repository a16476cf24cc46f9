"""The identifier namespace: valid, non-reserved, unique, ASCII, deterministic."""

from __future__ import annotations

import builtins
import keyword

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dnne.codegen.names import RUNNER_NAMES, Namespace, sanitize, snake_case


@pytest.mark.parametrize("word", keyword.kwlist + keyword.softkwlist + ["print", "list", "id", "type", "__import__"])
def test_keywords_soft_keywords_and_builtins_are_avoided(word):
    name = sanitize(word)
    assert name.isidentifier() and not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
    assert name not in dir(builtins)


@pytest.mark.parametrize("word", sorted(RUNNER_NAMES))
def test_runner_names_are_avoided(word):
    assert Namespace().mint(word) != word


def test_examples():
    assert sanitize("ﬁle") == "file"  # NFKC ligature
    assert sanitize("5:3") == "n5_3"
    assert sanitize("") == "unnamed"
    assert sanitize("a-b c") == "a_b_c"
    assert sanitize("é") == "unnamed"
    assert snake_case("MNISTDataset") == "mnist_dataset"
    assert snake_case("GetBatch") == "get_batch"
    assert snake_case("PPOTrainer") == "ppo_trainer"


def test_collisions_are_suffixed():
    ns = Namespace()
    assert [ns.mint("Foo") for _ in range(3)] == ["Foo", "Foo_2", "Foo_3"]
    assert ns.mint("Foo_2") == "Foo_2_2"
    assert [ns.instance("GetBatch") for _ in range(2)] == ["get_batch_1", "get_batch_2"]
    ns.reserve("scale_1")
    assert ns.instance("Scale") == "scale_2"


@given(st.lists(st.text(max_size=12), max_size=30))
def test_minted_names_are_unique_ascii_identifiers_and_deterministic(hints):
    first, second = Namespace(), Namespace()
    names = [first.mint(h) for h in hints]
    assert names == [second.mint(h) for h in hints]
    assert len(set(names)) == len(names)
    for name in names:
        assert name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
        assert not keyword.issoftkeyword(name) and name not in dir(builtins)
