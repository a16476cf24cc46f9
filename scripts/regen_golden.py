#!/usr/bin/env python3
"""Regenerate the golden export trees: tests/golden/<case>/expected/.

Every examples/*.json becomes a case (copied to tests/golden/<name>/workflow.json); the test-pack cases are written
from tests/codegen/testpack. Run from the repository root: `python scripts/regen_golden.py [CASE ...]`.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "golden"))

import golden_cases  # noqa: E402

from dnne.errors import DiagnosticError, DnneError  # noqa: E402


def refresh_workflows() -> None:
    for example in sorted(golden_cases.EXAMPLES_DIR.glob("*.json")):
        case_dir = golden_cases.GOLDEN_DIR / example.stem
        case_dir.mkdir(exist_ok=True)
        shutil.copyfile(example, case_dir / "workflow.json")
    for case in golden_cases.OWN_CASES:
        case_dir = golden_cases.GOLDEN_DIR / case
        case_dir.mkdir(exist_ok=True)
        text = json.dumps(golden_cases.own_case_workflow(case), indent=2, sort_keys=True) + "\n"
        (case_dir / "workflow.json").write_text(text, encoding="utf-8")


def regenerate(case: str) -> None:
    files = golden_cases.build_case(case)
    expected = golden_cases.GOLDEN_DIR / case / "expected"
    if expected.exists():
        shutil.rmtree(expected)
    for rel, data in sorted(files.items()):
        target = expected / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def main(argv: list[str]) -> int:
    refresh_workflows()
    selected = argv or golden_cases.cases()
    failed = 0
    for case in selected:
        try:
            regenerate(case)
        except DiagnosticError as exc:
            failed += 1
            print(f"{case}: FAILED (invalid workflow)\n{exc}", file=sys.stderr)
        except DnneError as exc:
            failed += 1
            print(f"{case}: FAILED: {exc}", file=sys.stderr)
        except Exception as exc:  # a node pack bug: report it and go on with the other cases
            failed += 1
            print(f"{case}: FAILED with an internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        else:
            print(f"{case}: regenerated")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
