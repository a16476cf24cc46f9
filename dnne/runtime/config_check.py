"""Checks of the node parameters in config.json, so that a hand edit gone wrong is a usage error naming the node and
the field (exit 2) rather than a traceback from deep inside a node.

What is checked: a node id missing from `nodes`, a parameter the node class does not take (with did-you-mean), and
values whose type contradicts the plain annotation (`int`, `float`, `bool`, `str`, `list`, `dict`) of the node's
`__init__`. Ranges and choices are not known here: the workflow validator checks those at export time.
"""

from __future__ import annotations

import difflib
import inspect
import re
from typing import Any

__all__ = ["ConfigError", "NodeParams", "check_node_params", "explain_build_error"]

_SIMPLE = {
    "int": ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "float": ("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "bool": ("true or false", lambda v: isinstance(v, bool)),
    "str": ("a string", lambda v: isinstance(v, str)),
    "list": ("a list", lambda v: isinstance(v, list)),
    "dict": ("an object", lambda v: isinstance(v, dict)),
}
_UNEXPECTED = re.compile(r"^(\w+)\.__init__\(\) got an unexpected keyword argument '(\w+)'$")


class ConfigError(Exception):
    """A node's parameters in config.json do not fit its node class."""


class NodeParams(dict):
    """config["nodes"]: remembers which node id was looked up last and names it when it is missing."""

    last: str | None = None

    def __getitem__(self, node_id: str) -> Any:
        self.last = node_id
        params = super().__getitem__(node_id)
        if not isinstance(params, dict):
            raise ConfigError(f"node {node_id}: its entry under 'nodes' must be an object, got {type(params).__name__}")
        return params

    def __missing__(self, node_id: str) -> Any:
        raise ConfigError(
            f"node {node_id}: no parameters under 'nodes' (was its entry deleted? re-export to restore it)"
        )


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    params = inspect.signature(cls.__init__).parameters
    return {name: p for name, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


def check_node_params(node: Any, params: Any) -> None:
    """Raise ConfigError when a value in `params` (this node's config entry) has a type its class does not take."""
    where = f"node {node.describe()}" if hasattr(node, "describe") else f"node {getattr(node, 'node_id', '?')}"
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: its entry under 'nodes' must be an object, got {type(params).__name__}")
    known = _parameters(type(node))
    for name, value in params.items():
        annotation = known[name].annotation if name in known else None
        if isinstance(annotation, type):
            annotation = annotation.__name__
        rule = _SIMPLE.get(annotation) if isinstance(annotation, str) else None
        if rule is not None and not rule[1](value):
            raise ConfigError(f"{where}, field {name!r}: expected {rule[0]}, got {value!r}")


def explain_build_error(exc: BaseException, nodes: Any, namespace: dict[str, Any]) -> str | None:
    """A clear message for an unknown parameter (the TypeError of a node constructor), else None."""
    match = _UNEXPECTED.match(str(exc)) if isinstance(exc, TypeError) else None
    if match is None:
        return None
    class_name, key = match.groups()
    node_id = getattr(nodes, "last", None)
    where = f"node {node_id} ({class_name})" if node_id is not None else class_name
    message = f"{where}: unknown parameter {key!r}"
    cls = namespace.get(class_name)
    if isinstance(cls, type):
        names = sorted(_parameters(cls))
        close = difflib.get_close_matches(key, names, n=1)
        message += f"; did you mean {close[0]!r}?" if close else ""
        message += f" (it takes: {', '.join(names) or 'no parameters'})"
    return message
