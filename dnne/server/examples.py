"""Copy dnne's bundled example workflows into a new work directory (once, on first start)."""

from __future__ import annotations

import shutil
from pathlib import Path

import dnne

MARKER = ".dnne-examples-copied"


def examples_dirs() -> list[Path]:
    """Where the examples live: shipped inside the package, or at the root of a source checkout."""
    package = Path(dnne.__file__).resolve().parent
    return [d for d in (package / "examples", package.parent / "examples") if d.is_dir()]


def seed_examples(workflows_dir: Path) -> list[str]:
    """Copy every `examples/*.json` into `workflows_dir` the first time; never overwrite a user's file."""
    marker = workflows_dir.parent / MARKER
    if marker.exists():
        return []
    copied = []
    for folder in examples_dirs():
        for example in sorted(folder.glob("*.json")):
            target = workflows_dir / example.name
            if not target.exists():
                shutil.copyfile(example, target)
                copied.append(example.name)
    marker.write_text("examples were copied into workflows/ on first start; delete this file to copy them again\n")
    return copied
