"""Writing an export folder: only the files dnne generates are written (each atomically); nothing else is touched."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

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


MANIFEST = ".dnne-export.json"  # what the last export generated: relative path → sha256 of what it wrote
CONFIG = "config.json"
CONFIG_NEW = "config.json.new"  # the freshly generated config, written beside a hand-edited config.json that is kept


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(out_dir: Path) -> dict[str, str] | None:
    """The generated files recorded by the last export into `out_dir` (path → sha256), or None without a manifest."""
    try:
        doc = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        return None
    return {rel: digest for rel, digest in files.items() if _is_safe_rel(rel)}


def _is_safe_rel(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    return bool(parts) and not PurePosixPath(rel).is_absolute() and ".." not in parts and rel != MANIFEST


def is_replaceable(out_dir: Path) -> bool:
    """True when `out_dir` does not exist, is empty, or holds a previous dnne export (a manifest, or the runner.py +
    config.json of an export made before manifests)."""
    if not out_dir.exists():
        return True
    if not out_dir.is_dir():
        return False
    if not any(out_dir.iterdir()) or read_manifest(out_dir) is not None:
        return True
    config = out_dir / CONFIG
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "dnne_version" in data and (out_dir / "runner.py").is_file()


@dataclass
class WritePlan:
    """What an export into an existing folder does. `files`: every generated path → the bytes it will hold;
    `remove`: generated files of the last export that this one no longer makes; `kept_config`: a hand-edited
    config.json is kept (the new one goes to config.json.new); `backup`: where --force moves a hand-edited config."""

    files: dict[str, bytes]
    remove: list[str] = field(default_factory=list)
    kept_config: bool = False
    backup: str | None = None
    manifest: dict[str, str] = field(default_factory=dict)


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else None
    except OSError:
        return None


def plan_tree(files: dict[str, bytes], out_dir: Path, *, force: bool = False) -> WritePlan:
    """Decide what writing `files` into `out_dir` does, without writing anything (see `write_tree`)."""
    out_dir = Path(out_dir).resolve()
    manifest = {rel: _sha256(data) for rel, data in files.items()}
    plan = WritePlan(dict(files), manifest=manifest)
    if not out_dir.is_dir():
        return plan
    previous = read_manifest(out_dir)
    current = _read_bytes(out_dir / CONFIG)
    generated = files.get(CONFIG)
    if current is not None and generated is not None and current != generated:
        # Without a manifest (an export made before manifests) any difference may be a hand edit: keep it.
        edited = previous is None or previous.get(CONFIG) != _sha256(current)
        if edited and not force:
            plan.kept_config = True
            del plan.files[CONFIG]
            plan.files[CONFIG_NEW] = generated
            plan.manifest[CONFIG_NEW] = _sha256(generated)
        elif edited:
            plan.backup = _free_name(out_dir, CONFIG + ".edited")
    for rel, digest in sorted((previous or {}).items()):
        if rel in plan.files or rel == CONFIG:
            continue
        # A stale generated file goes only if it still holds what dnne wrote; an edited one is the user's now.
        data = _read_bytes(out_dir / rel)
        if data is not None and _sha256(data) == digest:
            plan.remove.append(rel)
    return plan


def _free_name(out_dir: Path, base: str) -> str:
    name, n = base, 1
    while (out_dir / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def write_tree(files: dict[str, bytes], out_dir: Path, *, force: bool = False) -> WritePlan:
    """Write the generated `files` into `out_dir`, replacing only what dnne generates.

    A new (or empty) folder is built beside the target and renamed into place. Into an existing export, each
    generated file is written to a temp folder inside the target first, then renamed over its old version
    (`os.replace`, atomic per file; unchanged files are not touched). Everything else stays: runs, checkpoints,
    user files. Generated files of the previous export that this one no longer makes are removed (only while they
    hold what dnne wrote, per the manifest `.dnne-export.json`). A config.json edited by hand since the last export is
    kept, the new one written as config.json.new (`plan.kept_config`), unless `force`: then the edited one is moved
    to config.json.edited[-N] first. A folder that is not a dnne export is refused. On a failure before the renames
    nothing changes."""
    out_dir = Path(out_dir).resolve()  # a symlinked output folder: its target is written
    if not is_replaceable(out_dir):
        raise ExportError(
            f"refusing to write into {out_dir}: it exists and is not a dnne export (no {MANIFEST}, no runner.py + "
            "config.json); choose another output folder with -o"
        )
    for rel in files:
        if not _is_safe_rel(rel):
            raise ExportError(f"internal error: export file name {rel!r} escapes the output folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        return _update_tree(files, out_dir, force)
    plan = WritePlan(dict(files), manifest={rel: _sha256(data) for rel, data in files.items()})
    created_parents = [p for p in reversed(out_dir.parents) if not p.exists()]
    tmp: Path | None = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        _write_files(tmp, plan.files)
        _write_manifest(tmp, plan.manifest)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out_dir)  # onto a missing or empty folder
        tmp = None
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        for parent in reversed(created_parents):
            try:
                parent.rmdir()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write the export to {out_dir}: {exc}") from exc
        raise
    return plan


def _update_tree(files: dict[str, bytes], out_dir: Path, force: bool) -> WritePlan:
    plan = plan_tree(files, out_dir, force=force)
    changed = {rel: data for rel, data in plan.files.items() if _read_bytes(out_dir / rel) != data}
    for rel in changed:
        target = out_dir / rel
        if target.is_dir() and not target.is_symlink():
            raise ExportError(f"cannot write the export to {out_dir}: {rel} is a folder there; move it away")
    tmp = Path(tempfile.mkdtemp(prefix=".dnne-export.", suffix=".tmp", dir=out_dir))
    try:
        try:
            _write_files(tmp, changed)
            _write_manifest(tmp, plan.manifest)
            if plan.backup is not None:
                os.replace(out_dir / CONFIG, out_dir / plan.backup)
            for rel in sorted(changed):
                (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp / rel, out_dir / rel)
            for rel in plan.remove:
                (out_dir / rel).unlink(missing_ok=True)
                _remove_empty_parents(out_dir, rel)
            os.replace(tmp / MANIFEST, out_dir / MANIFEST)  # last: it describes the files now in place
        except OSError as exc:
            raise ExportError(f"cannot write the export to {out_dir}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return plan


def _write_files(root: Path, files: dict[str, bytes]) -> None:
    for rel in sorted(files):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[rel])


def _write_manifest(root: Path, manifest: dict[str, str]) -> None:
    doc = {"about": "files generated by dnne export (sha256); everything else here is yours", "files": manifest}
    (root / MANIFEST).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _remove_empty_parents(out_dir: Path, rel: str) -> None:
    parent = (out_dir / rel).parent
    while parent != out_dir and parent.is_relative_to(out_dir):
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (minus caches) as relative posix path → bytes."""
    out = {}
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root)
        if "__pycache__" in rel.parts or path.suffix == ".pyc" or not path.is_file():
            continue
        out[rel.as_posix()] = path.read_bytes()
    return out
