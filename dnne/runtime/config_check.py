"""Checks of the node parameters in config.json, so that a hand edit gone wrong is a usage error naming the node and
the field (exit 2) rather than a traceback from deep inside a node.

What is checked: a node id missing from `nodes`, a parameter the node class does not take (with did-you-mean),
values whose type contradicts the plain annotation (`int`, `float`, `bool`, `str`, `list`, `dict`) of the node's
`__init__`, and the ranges and choices of config.json's `limits` section, when it has one:

    "limits": {"<node id>": {"<field>": {"min": 1e-7, "max": 1.0}, "<field>": {"choices": ["a", "b"]}}}

`limits` is written by the exporter from the same declarations the workflow validator checks at export time (the
catalog's widgets), so a hand edit is checked against exactly the ranges the export was checked against.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from .declare import choice_problem, range_problem
from .suggest import did_you_mean

__all__ = ["ConfigError", "NodeParams", "check_node_limits", "check_node_params", "explain_build_error"]

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


def check_declared_params(node: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The attribute values of a declared node class (see dnne.runtime.declare) from its config entry `params`:
    every widget and Param checked against its declaration (unknown, missing, type, range, choices). Raises one
    ConfigError naming node, title, every bad field, expected and got."""
    cls = type(node)
    fields = {**cls.WIDGETS, **cls.PARAMS}
    problems = []
    values: dict[str, Any] = {}
    for key in params:
        if key not in fields:
            hint = did_you_mean(key, sorted(fields))
            problems.append(
                f"unknown field {key!r}"
                + (f"; {hint}" if hint else "")
                + f" (it takes: {', '.join(fields) or 'no parameters'})"
            )
    for name, decl in fields.items():
        if name not in params:
            default = getattr(decl, "default", None)
            if getattr(decl, "optional", False) or (hasattr(decl, "required") and not decl.required):
                values[decl.attr] = default
            else:
                problems.append(f"field {name!r} is missing (re-export to restore it)")
            continue
        value = params[name]
        problem = decl.problem(value)
        if problem is not None:
            problems.append(f"field {name!r}: expected {problem}, got {value!r}")
        else:
            values[decl.attr] = decl.cast(value) if hasattr(decl, "cast") else value
    if problems:
        raise ConfigError(f"node {node.describe()}: " + "; ".join(problems))
    return values


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


def check_node_limits(node: Any, params: dict, limits: Any) -> None:
    """Raise ConfigError naming node, field, expected range/choices and the value for every value of `params`
    outside its entry of config.json's `limits` (all of this node's problems in one message)."""
    if limits is None:
        return
    where = f"node {node.describe()}" if hasattr(node, "describe") else f"node {getattr(node, 'node_id', '?')}"
    if not isinstance(limits, dict):
        raise ConfigError(f"{where}: its entry under 'limits' must be an object of field → limits")
    problems = []
    for name, rule in limits.items():
        if name not in params:
            continue
        if not isinstance(rule, dict):
            raise ConfigError(f"{where}: 'limits' of field {name!r} must be an object (min, max, choices)")
        problem = _limit_problem(params[name], rule)
        if problem is not None:
            problems.append(f"field {name!r}: expected {problem}, got {params[name]!r}")
    if problems:
        raise ConfigError(f"{where}: " + "; ".join(problems))


def _limit_problem(value: Any, rule: dict) -> str | None:
    """What `value` should be under `rule`, or None when it fits."""
    choices = rule.get("choices")
    if isinstance(choices, list):
        return choice_problem(value, choices)
    if not _is_number(value):
        return None  # a type problem: check_node_params reports those
    low = rule.get("min") if _is_number(rule.get("min")) else None
    high = rule.get("max") if _is_number(rule.get("max")) else None
    return range_problem(value, low, high)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
        hint = did_you_mean(key, names)
        message += f"; {hint}" if hint else ""
        message += f" (it takes: {', '.join(names) or 'no parameters'})"
    return message
