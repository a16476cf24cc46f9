"""The `dnne export` command shown in runner.py's `# Regenerate:` line, with the export-target flags: running it
again must make the same files (the plain command would drop the target files from the export)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dnne.codegen.export import ExportCommand
from dnne.targets.base import DeployOptions, Target


@dataclass(frozen=True)
class TargetsCommand(ExportCommand):
    """`ExportCommand` plus the --target and option flags, shell-quoted like the rest of the line."""

    extra: tuple[str, ...] = ()

    def text(self, workflow_name: str, cwd: Path | None = None) -> str:
        base = super().text(workflow_name, cwd)
        return base + (" " + shlex.join(self.extra) if self.extra else "")


def export_command(
    workflow: str | Path,
    out_dir: str | Path | None,
    strict: bool,
    targets: Iterable[Target],
    options: DeployOptions,
) -> TargetsCommand:
    names = [t.name for t in targets if t.name != "python"]
    extra = (["--target", ",".join(names)] if names else []) + options.cli_args()
    return TargetsCommand(workflow, out_dir, strict, tuple(extra))
