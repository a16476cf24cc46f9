"""Post-conditions on a generated runner.py: it compiles, calls nothing dangerous, and its classes match the specs."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from dnne.catalog.spec import NodeType
from dnne.errors import DnneError

FORBIDDEN_CALLS = frozenset({"exec", "eval", "__import__", "compile", "breakpoint"})
FORBIDDEN_MODULES = frozenset(
    {"subprocess", "pickle", "marshal", "shelve", "ctypes", "importlib", "dill", "cloudpickle"}
)
FORBIDDEN_OS = frozenset(
    {"system", "popen", "execl", "execle", "execlp", "execv", "execve", "execvp", "spawnl", "spawnv"}
)


class PostConditionError(DnneError):
    """The generated code broke a rule it must always satisfy (a bug in dnne or in a node pack template)."""


def parse_and_compile(source: str, filename: str = "runner.py") -> ast.Module:
    try:
        tree = ast.parse(source, filename=filename)
        compile(tree, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise PostConditionError(f"generated {filename} does not compile: line {exc.lineno}: {exc.msg}") from exc
    return tree


def check_safety(tree: ast.Module) -> None:
    """No exec/eval/__import__/compile, os.system & co, subprocess or pickle anywhere in the module."""
    problems = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_CALLS:
            problems.append(f"line {line}: use of {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_OS and _base_name(node.value) == "os":
            problems.append(f"line {line}: use of os.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_MODULES:
            problems.append(f"line {line}: use of .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_MODULES:
            problems.append(f"line {line}: use of {node.id}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    problems.append(f"line {line}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {a.name for a in node.names}
            if module.split(".")[0] in FORBIDDEN_MODULES or (module == "os" and names & FORBIDDEN_OS):
                problems.append(f"line {line}: from {module} import {', '.join(sorted(names))}")
            if "*" in names:
                problems.append(f"line {line}: star import from {module}")
    if problems:
        raise PostConditionError("generated runner.py uses forbidden code:\n  " + "\n  ".join(problems))


def _base_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def check_classes(tree: ast.Module, classes: dict[str, NodeType], params: dict[str, Iterable[str]]) -> None:
    """Each class's INPUTS/OUTPUTS/PRIMED match its spec, `compute` takes exactly the inputs, `__init__` the params.

    `classes` maps class name → node type; `params` maps class name → every parameter name its instances get.
    """
    defs = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    problems: list[str] = []
    for class_name, node_type in classes.items():
        cls = defs.get(class_name)
        where = f"class {class_name} (type {node_type.key!r}, template {node_type.template_path.name})"
        if cls is None:
            problems.append(f"{where}: the template did not define it")
            continue
        if node_type.node_class is not None:
            continue  # a declared class: INPUTS/OUTPUTS/compute are derived and checked when the class is made
        problems.extend(f"{where}: {p}" for p in _class_problems(cls, node_type, set(params.get(class_name, ()))))
    if problems:
        raise PostConditionError("generated classes do not match their node specs:\n  " + "\n  ".join(problems))


def _class_problems(cls: ast.ClassDef, node_type: NodeType, param_names: set[str]) -> list[str]:
    problems = []
    attrs = _class_attrs(cls)
    sockets = node_type.sockets
    want_inputs = {s.name: s.mode.name for s in sockets}
    inputs = attrs.get("INPUTS")
    if inputs is None:
        problems.append("INPUTS is not declared")
    else:
        got = _inputs_dict(inputs)
        if got is None:
            problems.append("INPUTS must be a dict literal of name: Input.MODE")
        elif got != want_inputs:
            problems.append(f"INPUTS {got} differ from the spec {want_inputs}")
    outputs = attrs.get("OUTPUTS")
    want_outputs = [o.name for o in node_type.outputs]
    if outputs is None:
        problems.append("OUTPUTS is not declared")
    else:
        got_out = _str_sequence(outputs)
        if got_out != want_outputs:
            problems.append(f"OUTPUTS {got_out} differ from the spec {want_outputs}")
    want_primed = [s.name for s in sockets if s.primed]
    primed = attrs.get("PRIMED")
    got_primed = _str_sequence(primed) if primed is not None else []
    if sorted(got_primed or []) != sorted(want_primed):
        problems.append(f"PRIMED {got_primed} differs from the spec's primed inputs {want_primed}")
    methods = {n.name: n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    compute = methods.get("compute")
    if compute is None:
        problems.append("compute() is not defined")
    else:
        names = _keyword_names(compute)
        if compute.args.vararg or compute.args.kwarg or names != set(want_inputs):
            problems.append(f"compute() parameters {sorted(names)} differ from the inputs {sorted(want_inputs)}")
    init = methods.get("__init__")
    if init is not None and not init.args.kwarg:
        accepted = _keyword_names(init) - {"node_id", "title"}
        missing = param_names - accepted
        if missing:
            problems.append(f"__init__() does not accept the params {sorted(missing)}")
    return problems


def _class_attrs(cls: ast.ClassDef) -> dict[str, ast.expr]:
    attrs: dict[str, ast.expr] = {}
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    attrs[target.id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            attrs[stmt.target.id] = stmt.value
    return attrs


def _inputs_dict(node: ast.expr) -> dict[str, str] | None:
    if not isinstance(node, ast.Dict):
        return None
    out = {}
    for key, value in zip(node.keys, node.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            return None
        if not (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "Input"):
            return None
        out[key.value] = value.attr
    return out


def _str_sequence(node: ast.expr | None) -> list[str] | None:
    if not isinstance(node, (ast.Tuple, ast.List)):
        return None
    items = []
    for elt in node.elts:
        if not (isinstance(elt, ast.Constant) and isinstance(elt.value, str)):
            return None
        items.append(elt.value)
    return items


def _keyword_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    args = func.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)][1:]  # drop self
    return set(positional) | {a.arg for a in args.kwonlyargs}
