import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def rl_catalog():
    """Only the robotics and rl packs (these tests do not depend on the other packs)."""
    from dnne.catalog import Catalog, rl, robotics

    return Catalog(robotics.NODE_TYPES + rl.NODE_TYPES)
