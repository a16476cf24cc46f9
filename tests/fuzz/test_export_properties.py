"""Property test: random valid workflows of the real catalog export to code that compiles and passes `ruff check`,
or are refused with an exporter/graph-level diagnostic (never another exception)."""

from __future__ import annotations

import ast
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings

from dnne.codegen.export import build_workflow
from dnne.codegen.format import lint_code
from dnne.errors import DiagnosticError
from tests.fuzz.strategies import Drawn, valid_workflows
from tests.workflow.real_catalog import real_catalog

CATALOG = real_catalog()

# What a loader-valid graph may still be refused for: whole-graph checks and exporters' own checks.
GRAPH_LEVEL = {"E_NO_SINK", "E_CYCLE", "E_NETWORK_CHAIN", "E_SHAPE", "E_BAD_VALUE", "E_ENV_ID"}
OUTCOMES: Counter = Counter()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_workflows(CATALOG, max_nodes=6))
def test_valid_workflows_export_to_clean_code_or_fail_cleanly(drawn: Drawn) -> None:
    try:
        result = build_workflow(drawn.doc, catalog=CATALOG)
    except DiagnosticError as exc:
        codes = {d.code for d in exc.diagnostics if d.is_error}
        assert codes and codes <= GRAPH_LEVEL, [d.format() for d in exc.diagnostics]
        OUTCOMES.update(codes)
        return
    OUTCOMES["exported"] += 1
    source = result.contents["runner.py"].decode()
    compile(ast.parse(source), "runner.py", "exec")
    assert lint_code(source) == []
    titles = [n.get("title") for n in drawn.doc.get("nodes", []) if isinstance(n, dict) and n.get("title")]
    if titles:  # titles are data: a title may only be a name the program has whatever the titles are
        untitled = build_workflow(_without_titles(drawn.doc), catalog=CATALOG).contents["runner.py"].decode()
        assert set(titles) & _names(source) <= _names(untitled)


def test_some_random_workflows_really_export() -> None:
    """Runs after the property test (file order): the strategy must not only produce refusals."""
    if not OUTCOMES:
        pytest.skip("the property test did not run first")
    assert OUTCOMES["exported"] > 0, OUTCOMES


def _without_titles(doc: dict) -> dict:
    return doc | {"nodes": [{k: v for k, v in n.items() if k != "title"} for n in doc.get("nodes", [])]}


def _names(source: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
