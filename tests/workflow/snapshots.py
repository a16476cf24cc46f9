"""Error-text snapshots of tests/bad_workflows/<case>.json → <case>.txt (load + graph analysis, mini catalog)."""

from __future__ import annotations

from pathlib import Path

from dnne.graph.analysis import analyze
from dnne.workflow.load import load_workflow
from tests.workflow.make_bad_cases import OPTIONS
from tests.workflow.mini_catalog import mini_catalog

CASES = Path(__file__).resolve().parent.parent / "bad_workflows"
REGEN_COMMAND = "python -m tests.workflow.regen_snapshots"


def case_names() -> list[str]:
    return sorted(p.stem for p in CASES.glob("*.json"))


def render(case: str) -> str:
    """The text a user would see for one case: every diagnostic, then the outcome."""
    result = load_workflow(CASES / f"{case}.json", mini_catalog(), **OPTIONS.get(case, {}))
    diagnostics = list(result.diagnostics)
    outcome = "rejected by the loader"
    if result.graph is not None:
        analysis = analyze(result.graph)
        diagnostics += analysis.diagnostics
        if analysis.errors:
            outcome = "rejected by graph analysis"
        else:
            graph = analysis.graph
            assert graph is not None
            titles = ", ".join(f"{n.id}={n.title!r}" for n in graph)
            outcome = f"accepted: {len(graph.nodes)} nodes, {len(graph.edges)} edges; titles {titles}"
    lines = [d.format() for d in diagnostics] + [f"=> {outcome}"]
    return "\n".join(lines) + "\n"


def expected_path(case: str) -> Path:
    return CASES / f"{case}.txt"
