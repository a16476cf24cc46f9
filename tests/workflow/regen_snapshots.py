"""Regenerate the expected error texts of tests/bad_workflows: `python -m tests.workflow.regen_snapshots`."""

from __future__ import annotations

from tests.workflow.snapshots import case_names, expected_path, render


def main() -> None:
    changed = 0
    for case in case_names():
        text = render(case)
        path = expected_path(case)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed += 1
            print(f"updated {path.name}")
    print(f"{changed} snapshot(s) changed")


if __name__ == "__main__":
    main()
