"""Render utils-pack templates and load the classes against a vendored copy of the real runtime (`dnne_runtime`)."""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import pytest

RUNTIME_SRC = Path(__file__).resolve().parents[2] / "dnne" / "runtime"


@pytest.fixture(scope="session")
def dnne_runtime(tmp_path_factory):
    """The runtime copied as `dnne_runtime` (as an export does) and imported; a runtime that fails to import fails
    the tests that use it."""
    root = tmp_path_factory.mktemp("vendored")
    shutil.copytree(RUNTIME_SRC, root / "dnne_runtime", ignore=shutil.ignore_patterns("__pycache__"))
    sys.path.insert(0, str(root))
    import dnne_runtime

    yield dnne_runtime
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m == "dnne_runtime" or m.startswith("dnne_runtime.")]:
        del sys.modules[name]


@pytest.fixture
def load_class(dnne_runtime):
    """Render a node type's template and return the class it defines."""
    from dnne.codegen.render import render_node_class

    def load(node_type, class_name="Rendered"):
        source = render_node_class(node_type.template_path, class_name)
        module = types.ModuleType(f"rendered_{node_type.key}")
        exec(compile(source, f"<{node_type.template}>", "exec"), module.__dict__)  # our own template, not user data
        return getattr(module, class_name)

    return load
