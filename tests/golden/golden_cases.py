"""Golden cases: tests/golden/<case>/workflow.json → expected/ (the export tree minus dnne_runtime/).

Cases named after examples/<name>.json use the default catalog; `testpack_*` cases use the test node pack in
tests/codegen/testpack. Regenerate every expected/ folder with `python scripts/regen_golden.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent
REPO = GOLDEN_DIR.parents[1]
EXAMPLES_DIR = REPO / "examples"
REGEN_COMMAND = "python scripts/regen_golden.py"
OWN_CASES = ("testpack_chain",)

sys.path.insert(0, str(REPO / "tests" / "codegen"))


def cases() -> list[str]:
    return sorted(p.parent.name for p in GOLDEN_DIR.glob("*/workflow.json"))


def catalog_for(case: str):
    if case.startswith("testpack_"):
        from testpack import pack_catalog

        return pack_catalog()
    return None


def own_case_workflow(case: str) -> dict:
    from testpack import chain_workflow

    if case == "testpack_chain":
        return chain_workflow(count=4, label="counter \"one\"\n'two'", title="Collect\u202e {{ x }}")
    raise KeyError(case)


def command_for(case: str):
    """The `dnne export` call a case stands for, with fixed relative paths (whatever the current folder)."""
    from dnne.codegen.export import ExportCommand

    workflow = f"tests/golden/{case}/workflow.json" if case in OWN_CASES else f"examples/{case}.json"
    return ExportCommand(workflow, f"exports/{case}")


def build_case(case: str) -> dict[str, bytes]:
    """The export of a case, in memory, without the vendored runtime."""
    from dnne.codegen.export import build_workflow

    result = build_workflow(
        GOLDEN_DIR / case / "workflow.json", catalog=catalog_for(case), name=case, command=command_for(case)
    )
    return {path: data for path, data in result.contents.items() if not path.startswith("dnne_runtime/")}


def runtime_of(case: str) -> dict[str, bytes]:
    from dnne.codegen.export import build_workflow

    result = build_workflow(GOLDEN_DIR / case / "workflow.json", catalog=catalog_for(case), name=case)
    return {path: data for path, data in result.contents.items() if path.startswith("dnne_runtime/")}


def build_workflow_files(case: str) -> dict[str, bytes]:
    """The whole export tree of a case (vendored runtime included), in memory."""
    from dnne.codegen.export import build_workflow

    result = build_workflow(
        GOLDEN_DIR / case / "workflow.json", catalog=catalog_for(case), name=case, command=command_for(case)
    )
    return dict(result.contents)
