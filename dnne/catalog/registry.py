"""The node catalog: every node type dnne knows, checked when registered.

Built-in packs are listed explicitly (`BUILTIN_PACKS`); third-party packs register through the Python entry-point
group `dnne.nodes`, whose entries point at an iterable of `NodeType` or a callable returning one.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points

from dnne.catalog.spec import InputMode, NodeType
from dnne.errors import CatalogError

BUILTIN_PACKS = (
    "dnne.catalog.data",
    "dnne.catalog.ml",
    "dnne.catalog.robotics",
    "dnne.catalog.rl",
    "dnne.catalog.utils",
)
ENTRY_POINT_GROUP = "dnne.nodes"


# Inside a real ComfyUI the pack registers every type as "dnne.<key>" (no collision with other packs).
COMFYUI_PREFIX = "dnne."


class Catalog:
    def __init__(self, types: Iterable[NodeType] = ()):
        self._types: dict[str, NodeType] = {}
        self._legacy: dict[str, str] = {}
        for node_type in types:
            self.register(node_type)

    # -- registration --------------------------------------------------------------------------------------
    def register(self, node_type: NodeType) -> None:
        key = node_type.key
        problems = _check(node_type)
        if key in self._types or key in self._legacy:
            problems.append(f"type key {key!r} is already registered")
        for old in node_type.legacy_types:
            if old in self._types or old in self._legacy:
                problems.append(f"legacy type key {old!r} is already registered")
        if problems:
            raise CatalogError(f"cannot register node type {key!r}: " + "; ".join(problems))
        self._types[key] = node_type
        for old in node_type.legacy_types:
            self._legacy[old] = key

    # -- lookups -------------------------------------------------------------------------------------------
    def get(self, key: str) -> NodeType | None:
        """The type registered under `key`, or None. Legacy keys resolve via `canonical`."""
        return self._types.get(key)

    def canonical(self, key: str) -> str | None:
        """The registered key for `key` (itself, or the new name of a legacy key), or None if unknown."""
        if key in self._types:
            return key
        if key.startswith(COMFYUI_PREFIX) and key[len(COMFYUI_PREFIX) :] in self._types:
            return key[len(COMFYUI_PREFIX) :]  # saved inside ComfyUI, where the pack registers prefixed keys
        return self._legacy.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._types

    def __iter__(self) -> Iterator[NodeType]:
        return iter(sorted(self._types.values(), key=lambda t: t.key))

    def __len__(self) -> int:
        return len(self._types)

    def keys(self) -> list[str]:
        return sorted(self._types)

    def object_info(self) -> dict:
        """The whole `/api/object_info` document."""
        return {t.key: t.object_info() for t in self}


def _check(node_type: NodeType) -> list[str]:
    problems = []
    key = node_type.key
    if not isinstance(key, str) or not key or key != key.strip() or not key.isprintable():
        problems.append("the type key must be a non-empty printable string without surrounding whitespace")
    names = [i.name for i in node_type.inputs]
    if len(set(names)) != len(names):
        problems.append(f"duplicate input names {sorted({n for n in names if names.count(n) > 1})}")
    outs = [o.name for o in node_type.outputs]
    if len(set(outs)) != len(outs):
        problems.append(f"duplicate output names {sorted({n for n in outs if outs.count(n) > 1})}")
    seen_optional = False
    for spec in node_type.inputs:
        if not spec.name.isidentifier():
            problems.append(f"input name {spec.name!r} is not an identifier")
        if spec.required and seen_optional:
            problems.append(f"required input {spec.name!r} comes after an optional one (INPUT_TYPES order)")
        seen_optional |= not spec.required
        if spec.is_widget and spec.mode is not InputMode.CONSUME:
            problems.append(f"widget {spec.name!r} cannot have firing mode {spec.mode.value}")
        if spec.type == "COMBO" and spec.default not in spec.options:
            problems.append(f"combo {spec.name!r} default {spec.default!r} is not one of its options")
    for out in node_type.outputs:
        if not out.name.isidentifier():
            problems.append(f"output name {out.name!r} is not an identifier")
    if node_type.node_class is None and not node_type.template_path.is_file():
        problems.append(f"template {node_type.template_path} does not exist")
    if not callable(node_type.exporter):
        problems.append("exporter is not callable")
    return problems


def _types_of(obj: object) -> list[NodeType]:
    if callable(obj) and not isinstance(obj, NodeType):
        obj = obj()
    if isinstance(obj, NodeType):
        return [obj]
    return list(obj)  # type: ignore[call-overload]


def load_catalog(include_entry_points: bool = True) -> Catalog:
    """The built-in packs plus every installed third-party pack."""
    catalog = Catalog()
    for pack in BUILTIN_PACKS:
        module = importlib.import_module(pack)
        for node_type in module.NODE_TYPES:
            catalog.register(node_type)
    if include_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            for node_type in _types_of(ep.load()):
                catalog.register(node_type)
    return catalog


_DEFAULT: Catalog | None = None


def default_catalog() -> Catalog:
    """The process-wide catalog (built once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_catalog()
    return _DEFAULT
