"""Graph checkpoints: safetensors + JSON only (never pickle), written atomically.

Layout of `<checkpoint_dir>/latest/` (the one before it is kept as `previous/`):

    checkpoint.json            step, epoch, reason, graph hash/id, seed, RNG states, runtime version, node folders
    rng.safetensors            torch RNG states (uint8 tensors)
    node_<id>/weights.safetensors, node_<id>/meta.json     one folder per node with a non-empty state_dict()

A save writes a temp folder in the same parent, fsyncs it, then renames: `latest` → `previous`, temp → `latest`.
A crash (even kill -9) mid-save leaves the last complete checkpoint in place.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .node import QueueNode

FORMAT = "dnne-checkpoint"
FORMAT_VERSION = 1
PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt")
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_NODE_DIR = re.compile(r"^node_[A-Za-z0-9_.-]{1,120}$")


class CheckpointError(Exception):
    """A checkpoint cannot be written or read (the message names the path)."""


# -- nested state ↔ (flat tensors, JSON) --------------------------------------------------------------------------
def pack_state(obj: Any, prefix: str = "") -> tuple[dict[str, Any], Any]:
    """Split a nested structure (e.g. `optimizer.state_dict()`) into flat tensors and a JSON-safe skeleton."""
    tensors: dict[str, Any] = {}

    def walk(value: Any, path: str) -> Any:
        if _is_tensor(value):
            tensors[path] = value
            return {"__tensor__": path}
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in value):
                return {k: walk(v, f"{path}.{k}" if path else k) for k, v in value.items()}
            return {
                "__items__": [[k, walk(v, f"{path}.{i}" if path else str(i))] for i, (k, v) in enumerate(value.items())]
            }
        if isinstance(value, tuple):
            return {"__tuple__": [walk(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [walk(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)]
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise CheckpointError(f"cannot checkpoint a value of type {type(value).__name__} at {path or 'top level'!r}")

    skeleton = walk(obj, prefix)
    return tensors, skeleton


def unpack_state(tensors: dict[str, Any], skeleton: Any) -> Any:
    """The inverse of `pack_state`."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"__tensor__"}:
                return tensors[value["__tensor__"]]
            if set(value) == {"__items__"}:
                return {_key(k): walk(v) for k, v in value["__items__"]}
            if set(value) == {"__tuple__"}:
                return tuple(walk(v) for v in value["__tuple__"])
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(skeleton)


def _key(k: Any) -> Any:
    return tuple(k) if isinstance(k, list) else k


def _is_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


# -- saving --------------------------------------------------------------------------------------------------------
def node_dir_name(node_id: str, taken: set[str]) -> str:
    """`node_<id>` with every character outside [A-Za-z0-9_.-] replaced by `_` ("5:3" → "node_5_3"), made unique."""
    base = "node_" + (_SAFE.sub("_", str(node_id))[:100] or "_")
    if base in (".", "..") or base.startswith("node_."):
        base = "node__" + base[5:].lstrip(".")
    name, n = base, 1
    while name in taken:
        name = f"{base}-{n}"
        n += 1
    taken.add(name)
    return name


def save_checkpoint(
    root: Path | str,
    nodes: Iterable[QueueNode],
    *,
    step: int = 0,
    epoch: int = 0,
    reason: str = "",
    graph_hash: str | None = None,
    graph_id: str | None = None,
    seed: int | None = None,
    workflow_id: str | None = None,
) -> Path | None:
    """Write every node's non-empty state_dict() into `root/latest` atomically. None when no node has state."""
    root = Path(root)
    tmp: Path | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(root)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
        node_dirs: dict[str, dict[str, Any]] = {}
        taken: set[str] = set()
        for node in nodes:
            tensors, meta = node.state_dict()
            if not tensors and not meta:
                continue
            name = node_dir_name(node.node_id, taken)
            _write_node(tmp / name, node, tensors, meta)
            node_dirs[node.node_id] = {
                "dir": name,
                "class": type(node).__name__,
                "tensors": len(tensors),
                # identity for resume checks: what a checkpoint of another node or other layer sizes differs in
                "shapes": {str(k): [list(v.shape), str(v.dtype)] for k, v in tensors.items() if _is_tensor(v)},
            }
        if not node_dirs:
            shutil.rmtree(tmp, ignore_errors=True)
            return None
        rng = _rng_state(tmp / "rng.safetensors")
        info = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "dnne_runtime": __version__,
            "step": step,
            "epoch": epoch,
            "reason": reason,
            "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "graph_hash": graph_hash,
            "graph_id": graph_id,
            "workflow_id": workflow_id,
            "seed": seed,
            "nodes": node_dirs,
            "rng": rng,
        }
        _write_json(tmp / "checkpoint.json", info)
        _fsync_dir(tmp)
        _rotate(root, tmp)
        tmp = None
        return root / "latest"
    except OSError as exc:
        detail = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename and Path(exc.filename) != Path(root) else ""
        raise CheckpointError(f"cannot write checkpoint to {root}{where}: {detail}") from exc
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _write_node(folder: Path, node: QueueNode, tensors: dict[str, Any], meta: dict[str, Any]) -> None:
    folder.mkdir()
    if tensors:
        clean = {}
        for key, value in tensors.items():
            if not _is_tensor(value):
                raise CheckpointError(
                    f"node {node.describe()}: state_dict() tensor {key!r} is a {type(value).__name__}, not a tensor "
                    "(put plain values into the meta dict, or use pack_state)"
                )
            clean[str(key)] = value.detach().to("cpu").clone().contiguous()
        _write_tensors(folder / "weights.safetensors", clean)
    try:
        _write_json(folder / "meta.json", {"node_id": node.node_id, "class": type(node).__name__, "meta": meta})
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"node {node.describe()}: state_dict() meta is not JSON-safe: {exc}") from None


def _write_tensors(path: Path, tensors: dict[str, Any]) -> None:
    """safetensors bytes written (and fsynced) by us, so that I/O errors surface as OSError naming the file."""
    from safetensors.torch import save

    data = save(tensors)
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _write_json(path: Path, data: Any) -> None:
    text = json.dumps(data, indent=1, sort_keys=True, allow_nan=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rotate(root: Path, new: Path) -> None:
    latest, previous = root / "latest", root / "previous"
    old = None
    if latest.exists():
        if previous.exists():
            old = root / f".old-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(previous, old)
        os.replace(latest, previous)
    os.replace(new, latest)
    _fsync_dir(root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _remove_leftovers(root: Path) -> None:
    """Temp folders of saves that were killed half-way."""
    for child in root.iterdir():
        if child.name.startswith((".tmp-", ".old-")) and child.is_dir():
            shutil.rmtree(child, ignore_errors=True)


def _rng_state(path: Path) -> dict[str, Any]:
    state: dict[str, Any] = {"python": _py_rng_to_json(random.getstate())}
    np = sys.modules.get("numpy")
    if np is not None:
        name, keys, pos, has_gauss, cached = np.random.get_state()
        state["numpy"] = [name, [int(k) for k in keys], int(pos), int(has_gauss), float(cached)]
    torch = sys.modules.get("torch")
    if torch is not None:
        tensors = {"torch_cpu": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                tensors[f"torch_cuda_{i}"] = s
        _write_tensors(path, tensors)
        state["torch"] = path.name
    return state


def _py_rng_to_json(state: tuple) -> list:
    version, internal, gauss = state
    return [version, list(internal), gauss]


# -- loading -------------------------------------------------------------------------------------------------------
def _walk_without_following(folder: Path) -> list[Path]:
    """Every entry under `folder`, checked with lstat only: a FIFO, device, socket or symlink is refused before
    anything opens it (opening a FIFO would hang the run; a symlink could point anywhere)."""
    found: list[Path] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as it:
            for entry in it:
                path = Path(entry.path)
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    pending.append(path)
                elif not stat.S_ISREG(mode):
                    kind = "a symlink" if stat.S_ISLNK(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a file"
                    raise CheckpointError(
                        f"refusing to load {folder}: {path.relative_to(folder)} is {kind}; a checkpoint holds only "
                        "plain files and folders"
                    )
                found.append(path)
    return found


@dataclass
class Checkpoint:
    path: Path
    meta: dict[str, Any]
    nodes: dict[str, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    torch_rng: dict[str, Any] = field(default_factory=dict)

    def check_graph(self, graph_hash: str, nodes: dict[str, QueueNode], workflow_id: str | None = None) -> None:
        """Refuse a checkpoint of another workflow or graph, with nodes this graph does not have or of other types,
        or whose tensors are not the ones its metadata records (a tampered or mixed-up file). Parameter values, e.g.
        a learning rate, may differ; the node-level checks run first, so that the message names what differs."""
        saved_workflow = self.meta.get("workflow_id")
        if saved_workflow and workflow_id and saved_workflow != workflow_id:
            raise CheckpointError(
                f"{self.path} belongs to another workflow (workflow id {saved_workflow!r}, this export "
                f"{workflow_id!r}); resume only works with the same workflow"
            )
        entries = self.meta.get("nodes") or {}
        missing = sorted(set(self.nodes) - set(nodes))
        if missing:
            described = ", ".join(f"{n} ({_entry_class(entries.get(n))})" for n in missing)
            raise CheckpointError(
                f"{self.path} holds state for nodes not in this graph: {described}; resume only works with the "
                "same workflow"
            )
        for node_id, entry in entries.items():
            node = nodes.get(str(node_id))
            saved_class = entry.get("class") if isinstance(entry, dict) else None
            if node is not None and saved_class and saved_class != type(node).__name__:
                raise CheckpointError(
                    f"{self.path}: node {node_id} was a {saved_class} when checkpointed, in this graph it is "
                    f"{node.describe()} ({type(node).__name__}); resume only works with the same workflow"
                )
        self._check_recorded_shapes(entries, nodes)
        saved = self.meta.get("graph_hash")
        if saved and saved != graph_hash:
            raise CheckpointError(
                f"{self.path} was written by a different graph (graph hash {saved}, this graph {graph_hash}); "
                "resume only works with the same exported workflow"
            )

    def _check_recorded_shapes(self, entries: dict[str, Any], nodes: dict[str, QueueNode]) -> None:
        """The tensors of each node's weights file must be the ones checkpoint.json recorded (name, shape, dtype)."""
        for node_id, (tensors, _meta) in self.nodes.items():
            entry = entries.get(node_id)
            recorded = entry.get("shapes") if isinstance(entry, dict) else None
            if not isinstance(recorded, dict):
                continue  # written before shapes were recorded
            node = nodes.get(node_id)
            who = node.describe() if node is not None else f"{node_id} ({_entry_class(entry)})"
            for name in sorted(set(recorded) | set(tensors)):
                if name not in tensors or name not in recorded:
                    where = "checkpoint.json" if name not in tensors else "the weights file"
                    raise CheckpointError(
                        f"{self.path}: node {who}: tensor {name!r} is missing from {where} "
                        f"({entry['dir']}/weights.safetensors does not match checkpoint.json)"
                    )
                shape, dtype = recorded[name]
                actual = tensors[name]
                if list(actual.shape) != list(shape) or str(actual.dtype) != str(dtype):
                    raise CheckpointError(
                        f"{self.path}: node {who}: tensor {name!r} is {list(actual.shape)} {actual.dtype} in "
                        f"{entry['dir']}/weights.safetensors, checkpoint.json records {list(shape)} {dtype}"
                    )

    def check_node_state(self, node: QueueNode, upstream: list[str]) -> None:
        """Before `node` loads its saved state (after its setup): the saved tensors must have the shapes the node
        has now (when it already holds tensors), and a saved optimizer state must fit the parameters of the
        network it trains (`upstream`: the ids of the nodes feeding it). CheckpointError naming node and tensor."""
        tensors, meta = self.nodes[node.node_id]
        try:
            current, _ = node.state_dict()
        except Exception:  # noqa: BLE001 - a node that cannot report its state yet: its load_state_dict checks
            current = {}
        for name, value in (current or {}).items():
            saved = tensors.get(name)
            if _is_tensor(value) and saved is not None and list(saved.shape) != list(value.shape):
                raise CheckpointError(
                    f"{self.path}: node {node.describe()}: tensor {name!r} has shape {list(saved.shape)} in the "
                    f"checkpoint, this node expects {list(value.shape)}"
                )
        packed = meta.get("optimizer") if isinstance(meta, dict) else None
        if isinstance(packed, dict) and "param_groups" in packed:  # a torch optimizer's packed state_dict()
            self._check_optimizer(node, tensors, meta, upstream)

    def _check_optimizer(self, node: QueueNode, tensors: dict, meta: dict, upstream: list[str]) -> None:
        # The node that saved the optimizer state knows its format (the ml pack's optimizers): the core asks it and
        # names no pack. A node without the hook (older classes) gets the ml pack's check when that pack is vendored
        # (only it packs optimizer states); TODO(issue 10): drop this fallback once every optimizer node has the hook.
        check_optimizer_state = getattr(node, "check_saved_state", None)
        if check_optimizer_state is None:
            try:
                check_optimizer_state = importlib.import_module(f"{__package__}.ml.optim").check_optimizer_state
            except ModuleNotFoundError:
                return  # no ml pack: its load_state_dict checks what it loads
        shapes = None
        for source in upstream:  # the network it trains: its trainable parameter shapes, as saved
            _t, source_meta = self.nodes.get(source, ({}, {}))
            saved = source_meta.get("param_shapes") if isinstance(source_meta, dict) else None
            if isinstance(saved, list) and all(
                isinstance(s, list) and all(isinstance(d, int) for d in s) for s in saved
            ):
                shapes = saved
                break
        try:
            check_optimizer_state(tensors, meta, shapes)
        except ValueError as exc:
            raise CheckpointError(f"{self.path}: node {node.describe()}: {exc}") from None

    def restore_rng(self) -> None:
        """Put back the python/numpy/torch RNG states; a tampered state is a CheckpointError naming the file."""
        try:
            self._restore_rng()
        except CheckpointError:
            raise
        except Exception as exc:  # noqa: BLE001 - random/numpy/torch each raise their own types for bad states
            raise CheckpointError(
                f"invalid RNG state in {self.path / 'checkpoint.json'} or {self.path / 'rng.safetensors'}: "
                f"{type(exc).__name__}: {exc}"
            ) from None

    def _restore_rng(self) -> None:
        rng = self.meta.get("rng") or {}
        if "python" in rng:
            version, internal, gauss = rng["python"]
            random.setstate((version, tuple(internal), gauss))
        np = sys.modules.get("numpy")
        if np is not None and "numpy" in rng:
            name, keys, pos, has_gauss, cached = rng["numpy"]
            np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
        torch = sys.modules.get("torch")
        if torch is not None and "torch_cpu" in self.torch_rng:
            torch.set_rng_state(self.torch_rng["torch_cpu"])
            if torch.cuda.is_available():
                states = [self.torch_rng[k] for k in sorted(self.torch_rng) if k.startswith("torch_cuda_")]
                if states and len(states) == torch.cuda.device_count():
                    torch.cuda.set_rng_state_all(states)


def _entry_class(entry: Any) -> str:
    return str(entry.get("class")) if isinstance(entry, dict) and entry.get("class") else "unknown type"


def resolve_checkpoint(path: Path | str) -> Path:
    """A folder holding checkpoint.json, or a checkpoint dir holding `latest/` (else `previous/`)."""
    path = Path(path)
    if (path / "checkpoint.json").is_file():
        return path
    for name in ("latest", "previous"):
        if (path / name / "checkpoint.json").is_file():
            return path / name
    raise CheckpointError(f"no checkpoint found in {path} (expected checkpoint.json, latest/ or previous/)")


def load_checkpoint(path: Path | str) -> Checkpoint:
    """Read a checkpoint written by `save_checkpoint`. Refuses folders containing pickle files; never unpickles."""
    folder = resolve_checkpoint(path)
    entries = _walk_without_following(folder)
    pickles = sorted(str(p.relative_to(folder)) for p in entries if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise CheckpointError(
            f"refusing to load {folder}: it contains pickle files ({', '.join(pickles[:5])}); "
            "dnne checkpoints are safetensors + JSON only, and pickle files can run arbitrary code"
        )
    try:
        meta = json.loads((folder / "checkpoint.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"cannot read {folder / 'checkpoint.json'}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{folder / 'checkpoint.json'} is not a dnne checkpoint")
    ckpt = Checkpoint(folder, meta)
    from safetensors.torch import load_file

    nodes = meta.get("nodes") or {}
    for node_id, entry in nodes.items():
        name = entry.get("dir") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not _NODE_DIR.match(name):
            raise CheckpointError(f"{folder}: invalid folder name {name!r} for node {node_id!r}")
        node_folder = folder / name
        if node_folder.is_symlink() or not node_folder.is_dir():
            raise CheckpointError(f"{folder}: missing node folder {name}")
        weights = node_folder / "weights.safetensors"
        try:
            tensors = load_file(str(weights)) if weights.is_file() else {}
            node_meta = json.loads((node_folder / "meta.json").read_text(encoding="utf-8"))
        except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types
            raise CheckpointError(f"cannot read the state of node {node_id!r} in {node_folder}: {exc}") from None
        ckpt.nodes[str(node_id)] = (tensors, node_meta.get("meta", {}))
    rng_file = folder / "rng.safetensors"
    if rng_file.is_file():
        ckpt.torch_rng = load_file(str(rng_file))
    return ckpt
