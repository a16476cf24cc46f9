"""Robustness over the 644 real ComfyUI templates (pip package `comfyui-workflow-templates-json`, test dependency).

Every workflow must parse into the model, flatten its subgraphs, resolve modes, and fail cleanly with
E_UNKNOWN_TYPE naming its (image/video) node types — no exception. Skipped when the package is not installed.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pytest

from dnne.workflow.load import load_workflow
from tests.workflow.mini_catalog import mini_catalog
from tests.workflow.real_catalog import real_catalog

templates = pytest.importorskip("comfyui_workflow_templates_json")
TEMPLATES = Path(templates.__file__).parent / "templates"


def _is_workflow(path: Path) -> bool:
    doc = json.loads(path.read_bytes())
    return isinstance(doc, dict) and isinstance(doc.get("nodes"), list)


def test_all_templates_load_and_fail_cleanly_with_unknown_types():
    catalog = real_catalog() or mini_catalog()
    files = sorted(p for p in TEMPLATES.rglob("*.json") if _is_workflow(p))
    assert len(files) >= 600
    times = []
    for path in files:
        start = time.perf_counter()
        result = load_workflow(path, catalog)
        times.append(time.perf_counter() - start)
        assert result.graph is None, path.name
        # the report lists at most 50 per code; the "… and N more" summary line names no node
        unknown = [d for d in result.diagnostics if d.code == "E_UNKNOWN_TYPE" and not d.message.startswith("…")]
        assert unknown, (path.name, [d.format() for d in result.diagnostics][:5])
        for d in unknown:
            assert d.node_id and d.node_type and d.node_type in d.message
    print(
        f"\ncorpus: {len(files)} workflows, total {sum(times):.2f} s, median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms"
    )


def test_unknown_types_are_listed_per_node_after_flattening():
    """Inner subgraph nodes are reported with their joined ids."""
    catalog = mini_catalog()
    nested = next(
        p for p in sorted(TEMPLATES.rglob("*.json")) if b'"definitions"' in p.read_bytes() and _is_workflow(p)
    )
    result = load_workflow(nested, catalog)
    ids = [d.node_id for d in result.diagnostics if d.code == "E_UNKNOWN_TYPE"]
    assert any(":" in i for i in ids), ids
