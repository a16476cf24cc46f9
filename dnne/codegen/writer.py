"""Writing an export folder: only the files dnne generates are written (each atomically); nothing else is touched."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
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


def runtime_packs() -> tuple[str, ...]:
    """The packs of the runtime (its sub-packages: data, ml, rl, envs, reporting, …), sorted."""
    return tuple(sorted(p.parent.name for p in RUNTIME_DIR.glob("*/__init__.py")))


def pack_requirements(pack: str) -> tuple[str, ...]:
    """The packs `pack` names as needed in its `__init__.py` (`REQUIRES = ("data",)`), read without importing it."""
    tree = ast.parse((RUNTIME_DIR / pack / "__init__.py").read_text(encoding="utf-8"))
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "REQUIRES" for t in statement.targets
        ):
            value = ast.literal_eval(statement.value)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise ExportError(f"dnne/runtime/{pack}/__init__.py: REQUIRES must be a tuple of pack names")
            return value
    return ()


def pack_closure(packs: Iterable[str]) -> tuple[str, ...]:
    """`packs` plus every pack they require, transitively, sorted. ExportError on a name that is no pack."""
    known = set(runtime_packs())
    wanted, todo = set(), list(packs)
    while todo:
        pack = todo.pop()
        if pack in wanted:
            continue
        if pack not in known:
            raise ExportError(f"unknown runtime pack {pack!r} (the runtime has: {', '.join(sorted(known))})")
        wanted.add(pack)
        todo.extend(pack_requirements(pack))
    return tuple(sorted(wanted))


def _import_header(runner_source: str) -> ast.Module:
    """The import block of a generated runner.py, parsed: codegen hoists every import to the top (ruff-checked), so
    the text before the first class or function is enough, and a 1,000-node runner is not parsed again."""
    first = re.search(r"^(?:class |def |async def |@)", runner_source, re.MULTILINE)
    return ast.parse(runner_source[: first.start()] if first else runner_source)


def imported_packs(source: str) -> set[str]:
    """The runtime packs a generated runner.py imports (`from dnne_runtime.ml.x import …`, `import dnne_runtime.rl`)."""
    found = set()
    for node in ast.walk(_import_header(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == RUNTIME_PACKAGE]
        for name in names:
            parts = name.split(".")
            if len(parts) >= 2 and parts[0] == RUNTIME_PACKAGE and (RUNTIME_DIR / parts[1] / "__init__.py").is_file():
                found.add(parts[1])
    return found


def export_packs(runner_source: str, declared: Iterable[str] = ()) -> tuple[str, ...]:
    """The packs an export vendors: those its node types declare (`NodeType.packs`), those its runner.py imports
    (so a class that forgot to declare one still runs), and their requirements."""
    return pack_closure({*declared, *imported_packs(runner_source)})


# An import statement at any indentation (lazy function-level imports count): `from .x import (a, b)` / `import x`.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(?P<dots>\.*)(?P<module>[\w.]*)[ \t]+import[ \t]+(?P<names>\([^)]*\)|[^\n#]*)"
    r"|import[ \t]+(?P<plain>[^\n#]*))",
    re.MULTILINE,
)
_LAZY_NAME = re.compile(r"""["']\.([A-Za-z_]\w*)["']""")


def _module_imports(name: str, source: str, package: bool) -> set[str]:
    """The dotted modules one runtime module imports, lazy (function-level) imports included; a text scan, not a
    parse (an export scans the whole runtime; tests/codegen/test_vendored_closure.py checks the result with `ast`).
    A package that loads its names lazily (`importlib.import_module(".factory", __name__)` behind `__getattr__`)
    imports every sibling module its ".name" strings name."""
    here = name if package else name.rpartition(".")[0]
    found: set[str] = set()
    for match in _IMPORT.finditer(source):
        if match["plain"] is not None:
            found.update(part.split(" as ")[0].strip() for part in match["plain"].split(","))
            continue
        level = len(match["dots"])
        if level:
            base = here.split(".")
            target = ".".join([*base[: len(base) - (level - 1)], *([match["module"]] if match["module"] else [])])
        else:
            target = match["module"]
        found.add(target)
        for part in match["names"].strip("()").split(","):
            alias = part.split(" as ")[0].strip()
            if alias:
                found.add(f"{target}.{alias}")  # kept only where it is a module
    if package and "import_module" in source:
        found.update(f"{here}.{lazy}" for lazy in _LAZY_NAME.findall(source))
    return found


def _reachable(sources: dict[str, tuple[str, bool]], roots: Iterable[str]) -> set[str]:
    reached: set[str] = set()
    todo = [root for root in roots if root in sources]
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        source, package = sources[name]
        for target in _module_imports(name, source, package):
            parts = target.split(".")
            todo.extend(p for p in (".".join(parts[: i + 1]) for i in range(len(parts))) if p in sources)
    return reached


def runtime_files(packs: Iterable[str] | None = None, runner_source: str | None = None) -> dict[str, bytes]:
    """The vendored runtime as `dnne_runtime/<relative path>` → bytes, sorted: the core (the top-level files of
    dnne/runtime, always) plus, of `packs` and the packs they require (None: every pack), the modules the program
    can import: those `runner_source` (the generated runner.py) and the core import, directly or through each
    other, and each pack's `flags` module (the core discovers it). Without `runner_source`: the packs whole."""
    if not (RUNTIME_DIR / "__init__.py").is_file():
        raise ExportError(f"the dnne runtime package is missing or incomplete at {RUNTIME_DIR}")
    chosen = set(runtime_packs() if packs is None else pack_closure(packs))
    paths: dict[str, Path] = {}
    for path in sorted(RUNTIME_DIR.rglob("*")):
        rel = path.relative_to(RUNTIME_DIR)
        if "__pycache__" in rel.parts or path.suffix in (".pyc", ".pyo") or not path.is_file():
            continue
        if len(rel.parts) > 1 and rel.parts[0] not in chosen:
            continue
        paths[f"{RUNTIME_PACKAGE}/{rel.as_posix()}"] = path
    if runner_source is not None:
        header = ast.unparse(_import_header(runner_source))  # the runner's imports only: a runner can be huge
        sources = {"runner": (header, False)}
        for rel, path in paths.items():
            if rel.endswith(".py"):
                parts = rel.removesuffix(".py").split("/")
                package = parts[-1] == "__init__"
                sources[".".join(parts[:-1] if package else parts)] = (path.read_text(encoding="utf-8"), package)
        core = [name for name in sources if name.count(".") == 1 or name == RUNTIME_PACKAGE]
        flags = [f"{RUNTIME_PACKAGE}.{pack}.flags" for pack in sorted(chosen)]
        reached = _reachable(sources, ["runner", *core, *flags])
        paths = {
            rel: path
            for rel, path in paths.items()
            if rel.count("/") == 1 or not rel.endswith(".py") or _dotted(rel) in reached
        }
    return {rel: path.read_bytes() for rel, path in paths.items()}


def _dotted(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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
