"""Writing an export folder atomically: build in a temp dir beside the target, then swap it in."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from dnne.errors import DnneError

RUNTIME_DIR = Path(__file__).resolve().parent.parent / "runtime"
RUNTIME_PACKAGE = "dnne_runtime"


class ExportError(DnneError):
    """The export could not be written (bad output folder, I/O error) or a node pack misbehaved."""


def default_out_dir(workflow_name: str, base: Path | None = None) -> Path:
    """`exports/<name>/`, the name reduced to `[A-Za-z0-9_-]` (never a path taken from the workflow)."""
    return (base or Path("exports")) / safe_dir_name(workflow_name)


def safe_dir_name(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_-]", "_", name if isinstance(name, str) else "")
    text = re.sub(r"_{2,}", "_", text).strip("_-")[:64].strip("_-")
    return text or "workflow"


def runtime_files() -> dict[str, bytes]:
    """Every file of dnne/runtime (minus caches) as `dnne_runtime/<relative path>` → bytes, sorted."""
    if not (RUNTIME_DIR / "__init__.py").is_file():
        raise ExportError(f"the dnne runtime package is missing or incomplete at {RUNTIME_DIR}")
    files = {}
    for path in sorted(RUNTIME_DIR.rglob("*")):
        rel = path.relative_to(RUNTIME_DIR)
        if "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo") or not path.is_file():
            continue
        files[f"{RUNTIME_PACKAGE}/{rel.as_posix()}"] = path.read_bytes()
    return files


def is_replaceable(out_dir: Path) -> bool:
    """True when `out_dir` does not exist, is empty, or holds a previous dnne export."""
    if not out_dir.exists():
        return True
    if not out_dir.is_dir():
        return False
    if not any(out_dir.iterdir()):
        return True
    config = out_dir / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "dnne_version" in data and (out_dir / "runner.py").is_file()


def write_tree(files: dict[str, bytes], out_dir: Path) -> None:
    """Replace `out_dir` with exactly `files`; on any failure nothing new is left behind."""
    out_dir = Path(out_dir).resolve()  # a symlinked output folder: its target is replaced
    if not is_replaceable(out_dir):
        raise ExportError(
            f"refusing to replace {out_dir}: it exists and is not a dnne export (no runner.py + config.json); "
            "choose another output folder with -o"
        )
    created_parents = [p for p in reversed(out_dir.parents) if not p.exists()]
    tmp: Path | None = None
    old: Path | None = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        for rel in sorted(files):
            target = tmp / rel
            if not target.resolve().is_relative_to(tmp.resolve()):
                raise ExportError(f"internal error: export file name {rel!r} escapes the output folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[rel])
        os.chmod(tmp, 0o755)
        if out_dir.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
            old.rmdir()
            os.replace(out_dir, old)
        os.replace(tmp, out_dir)
        tmp = None
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out_dir.exists():
            os.replace(old, out_dir)
            old = None
        for parent in reversed(created_parents):
            try:
                parent.rmdir()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write the export to {out_dir}: {exc}") from exc
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (minus caches) as relative posix path → bytes."""
    out = {}
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or path.suffix == ".pyc" or not path.is_file():
            continue
        out[rel.as_posix()] = path.read_bytes()
    return out
