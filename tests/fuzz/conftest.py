import pytest

from tests.workflow.mini_catalog import mini_catalog


@pytest.fixture(scope="session")
def catalog():
    return mini_catalog()
