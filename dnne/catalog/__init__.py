"""The node catalog: one module (+ template beside it) per node type, grouped in packs (ml, robotics, rl, utils)."""

from dnne.catalog.registry import Catalog, default_catalog, load_catalog
from dnne.catalog.spec import InputMode, InputSpec, NodeExport, NodeType, OutputSpec

__all__ = [
    "Catalog",
    "InputMode",
    "InputSpec",
    "NodeExport",
    "NodeType",
    "OutputSpec",
    "default_catalog",
    "load_catalog",
]
