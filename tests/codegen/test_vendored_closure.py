"""The vendored runtime is exactly what the program can reach: every module copied into an export is reached by
the static imports of its runner.py (plus the pack flag modules the core discovers), every import of a vendored
module resolves inside the vendored tree, and the core never imports a pack."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from dnne.codegen.writer import RUNTIME_DIR, RUNTIME_PACKAGE, pack_closure, runtime_packs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "golden"))

from golden_cases import GOLDEN_DIR, build_workflow_files, cases  # noqa: E402

CASES = cases()


def module_index(files: dict[str, bytes]) -> dict[str, tuple[str, bool]]:
    """Dotted module name → (source, is_package) for every .py file of an export tree (runner.py is `runner`)."""
    modules = {}
    for rel, data in files.items():
        if not rel.endswith(".py"):
            continue
        parts = rel.removesuffix(".py").split("/")
        package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if package else parts)
        modules[name] = (data.decode("utf-8"), package)
    return modules


def imports_of(name: str, source: str, package: bool) -> list[tuple[str, list[str], int]]:
    """(target module, imported names, line) for every import in a module, function-level (lazy) ones included;
    `importlib.import_module("<constant>", __name__)` counts as the relative import it spells."""
    here = name if package else name.rpartition(".")[0]
    found = []

    def relative(level: int, module: str | None) -> str:
        base = here.split(".") if here else []
        base = base[: len(base) - (level - 1)] if level > 1 else base
        return ".".join([*base, *([module] if module else [])])

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = relative(node.level, node.module) if node.level else node.module or ""
            found.append((target, [a.name for a in node.names], node.lineno))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            text = node.args[0].value
            level = len(text) - len(text.lstrip("."))
            found.append((relative(level, text.lstrip(".") or None) if level else text, [], node.lineno))
    if package and "import_module" in source:  # a lazy package (`__getattr__` + a table of ".module" names)
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value[:1] == "."
                and node.value[1:].isidentifier()
            ):
                found.append((relative(1, node.value[1:]), [], node.lineno))
    return found


def closure(files: dict[str, bytes]) -> tuple[set[str], list[str]]:
    """(modules reached from runner.py and the discovered pack flag modules, imports that do not resolve)."""
    modules = module_index(files)
    roots = ["runner"] + sorted(
        f"{RUNTIME_PACKAGE}.{pack}.flags"
        for pack in runtime_packs()
        if f"{RUNTIME_PACKAGE}.{pack}.flags" in modules  # loaded by the core's flags.pack_flag_modules()
    )
    reached: set[str] = set()
    unresolved: list[str] = []
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in reached:
            continue
        reached.add(name)
        source, package = modules[name]
        for target, names, line in imports_of(name, source, package):
            if target.split(".")[0] != RUNTIME_PACKAGE:
                continue  # the standard library, torch, numpy: not vendored
            if target not in modules:
                unresolved.append(f"{name}:{line}: import of {target} (not vendored)")
                continue
            parts = target.split(".")
            todo.extend(".".join(parts[: i + 1]) for i in range(len(parts)))  # parent packages run first
            todo.extend(f"{target}.{n}" for n in names if f"{target}.{n}" in modules)  # `from pkg import module`
    return reached, unresolved


@pytest.fixture(scope="module", params=CASES)
def export_tree(request) -> tuple[str, dict[str, bytes]]:
    return request.param, build_workflow_files(request.param)


def test_every_vendored_module_is_reached_and_every_import_resolves(export_tree):
    case, files = export_tree
    reached, unresolved = closure(files)
    vendored = {name for name in module_index(files) if name.startswith(RUNTIME_PACKAGE)}
    assert not unresolved, f"{case}: " + "; ".join(unresolved)
    assert vendored - reached == set(), f"{case}: vendored but never imported: {sorted(vendored - reached)}"


def test_examples_vendor_only_their_packs(export_tree):
    case, files = export_tree
    packs = {rel.split("/")[1] for rel in files if rel.startswith(f"{RUNTIME_PACKAGE}/") and rel.count("/") == 2}
    assert packs == set(pack_closure(packs))  # the requirements of every vendored pack came along
    if case.startswith("mnist") or case.startswith("fashion"):
        assert {"ml", "data"} <= packs and not {"rl", "envs"} & packs, packs
    if case.endswith("_ppo"):
        assert {"rl", "envs"} <= packs and not {"ml", "data"} & packs, packs
    if case.startswith("testpack_"):
        assert packs == set(), packs  # the test pack imports only the core


def test_the_closure_finds_an_unreached_and_an_unresolved_module(export_tree):
    """The check itself can fail: an extra pack module is unreached, a removed one is an unresolved import."""
    _case, files = export_tree
    extra = dict(files) | {f"{RUNTIME_PACKAGE}/stray.py": b"X = 1\n"}
    reached, _ = closure(extra)
    assert f"{RUNTIME_PACKAGE}.stray" not in reached
    broken = {k: v for k, v in files.items() if k != f"{RUNTIME_PACKAGE}/node.py"}
    _, unresolved = closure(broken)
    assert any(f"{RUNTIME_PACKAGE}.node" in problem for problem in unresolved)


def test_the_core_never_imports_a_pack():
    packs = set(runtime_packs())
    files = {
        f"{RUNTIME_PACKAGE}/{p.relative_to(RUNTIME_DIR).as_posix()}": p.read_bytes() for p in RUNTIME_DIR.rglob("*.py")
    }
    modules = module_index(files)
    offending = []
    for name, (source, package) in sorted(modules.items()):
        if name.count(".") > 1 or (name.count(".") == 1 and name.split(".")[1] in packs):
            continue  # a pack module (it may import the core and the packs it REQUIRES)
        for target, _names, line in imports_of(name, source, package):
            parts = target.split(".")
            if parts[0] == RUNTIME_PACKAGE and len(parts) > 1 and parts[1] in packs:
                offending.append(f"{name}:{line} imports {target}")
    assert not offending, offending


def test_no_pack_imports_a_pack_it_does_not_require():
    from dnne.codegen.writer import pack_requirements

    files = {
        f"{RUNTIME_PACKAGE}/{p.relative_to(RUNTIME_DIR).as_posix()}": p.read_bytes() for p in RUNTIME_DIR.rglob("*.py")
    }
    modules = module_index(files)
    offending = []
    for name, (source, package) in sorted(modules.items()):
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in runtime_packs():
            continue
        allowed = set(pack_closure([parts[1]]))
        for target, _names, line in imports_of(name, source, package):
            tparts = target.split(".")
            if tparts[0] == RUNTIME_PACKAGE and len(tparts) > 1 and tparts[1] in runtime_packs():
                if tparts[1] not in allowed:
                    offending.append(f"{name}:{line} imports {target}; REQUIRES = {pack_requirements(parts[1])}")
    assert not offending, offending


def test_golden_dir_has_the_cases():
    assert CASES and all((GOLDEN_DIR / case / "workflow.json").is_file() for case in CASES)


def _help_of(case: str, tmp_path: Path) -> str:
    import subprocess

    out = tmp_path / case
    for rel, data in build_workflow_files(case).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "runner.py", "--help"], cwd=out, capture_output=True, text=True, timeout=120, check=True
    )
    return proc.stdout


def test_runner_flags_come_from_the_vendored_packs(tmp_path):
    mnist = _help_of("mnist_mlp", tmp_path)
    assert "--epochs" in mnist and "--data-dir" in mnist and "--tensorboard" in mnist
    assert "--num-envs" not in mnist and "--render" not in mnist and "--isaacgym-path" not in mnist
    cartpole = _help_of("cartpole_ppo", tmp_path)
    assert "--num-envs" in cartpole and "--render" in cartpole and "--episodes" in cartpole
    assert "--epochs" not in cartpole and "--data-dir" not in cartpole and "--no-implicit-eval" not in cartpole
    for text in (mnist, cartpole):  # the core's flags are in every runner
        assert "--timeout" in text and "--resume" in text and "--max-steps" in text and "--quiet" in text


@pytest.mark.parametrize("case", ["mnist_mlp", "cartpole_ppo", "testpack_chain"])
def test_the_readme_documents_only_the_flags_its_runner_offers(case, tmp_path):
    import re

    offered = set(re.findall(r"(--[a-z][a-z-]*)", _help_of(case, tmp_path)))
    readme = (tmp_path / case / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `--"))  # the Flags table
    documented = set(re.findall(r"(--[a-z][a-z-]*)", table))
    assert documented and documented <= offered, documented - offered
