import os

import pytest

from dnne.server.paths import PathRejected, confine, sanitize_name


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "../x", "a/../../x", "workflows/../../etc/passwd", "/etc/passwd", "C:/x", "a\x00b", "a\\..\\b", ".."],
)
def test_confine_rejects_escapes(tmp_path, bad):
    with pytest.raises(PathRejected):
        confine(tmp_path, bad)


def test_confine_accepts_nested_paths(tmp_path):
    assert confine(tmp_path, "workflows/a b.json") == tmp_path.resolve() / "workflows" / "a b.json"
    assert confine(tmp_path, "./x.json") == tmp_path.resolve() / "x.json"


def test_confine_rejects_symlink_escape(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(PathRejected, match="leaves"):
        confine(root, "link/secret.txt")
    os.symlink(root / "inner", root / "ok")
    assert confine(root, "ok/x") == (root / "inner" / "x").resolve()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("MNIST Test.json", "MNIST_Test"),
        ("workflows/sub/cartpole.json", "cartpole"),
        ("../../etc", "etc"),
        ("..", "workflow"),
        ("", "workflow"),
        (None, "workflow"),
        ("ünïcode name!", "n_code_name"),
        ("x" * 200, "x" * 64),
    ],
)
def test_sanitize_name(name, expected):
    assert sanitize_name(name) == expected
