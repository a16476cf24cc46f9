"""The `python` target: the program itself (runner.py, config.json, dnne_runtime/ …), written by dnne.codegen.

Every export has it; it adds no files of its own."""

from __future__ import annotations

from dnne.targets.base import Target, TargetInput


def build(inp: TargetInput) -> dict[str, bytes]:
    return {}


TARGET = Target(
    name="python",
    writes="runner.py, config.json, requirements.txt, README.md, dnne_runtime/ (always written)",
    needs="Python 3.10+ and requirements.txt",
    build=build,
)
