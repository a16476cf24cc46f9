"""Confine every client-supplied path to a root folder (no `..`, absolute paths, NUL bytes or symlink escapes)."""

from __future__ import annotations

import os
import re
from pathlib import Path

_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_NAME_BYTES = 255  # one path component (the usual file-system limit; longer names fail in the OS, not here)
MAX_PATH_CHARS = 1024


class PathRejected(ValueError):
    """A client-supplied path points outside its root folder (403) or is malformed (400), with a stable code."""

    def __init__(self, message: str, code: str = "E_PATH_REJECTED", status: int = 403):
        super().__init__(message)
        self.code = code
        self.status = status


def confine(root: Path, relative: str) -> Path:
    """The absolute path of `relative` inside `root`; raises `PathRejected` when it would leave `root`.

    Symlinks are resolved before the check, so a link inside `root` that points elsewhere is rejected too.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise PathRejected("empty path")
    if "\x00" in relative:
        raise PathRejected("path contains a NUL byte")
    if "\\" in relative:
        raise PathRejected("path contains a backslash")
    if relative.startswith("/") or os.path.isabs(relative) or _DRIVE.match(relative):
        raise PathRejected("absolute paths are not allowed")
    parts = relative.split("/")
    if len(relative) > MAX_PATH_CHARS or any(len(p.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES for p in parts):
        raise PathRejected(
            f"path too long: at most {MAX_PATH_CHARS} characters, {MAX_NAME_BYTES} bytes per name",
            "E_NAME_TOO_LONG",
            400,
        )
    if any(part == ".." for part in parts):
        raise PathRejected("'..' is not allowed in paths")
    root_real = os.path.realpath(root)
    target = os.path.realpath(os.path.join(root_real, *[p for p in parts if p not in ("", ".")]))
    if target != root_real and not target.startswith(root_real.rstrip(os.sep) + os.sep):
        raise PathRejected("path leaves the work directory (symlink?)")
    return Path(target)


def relative_posix(path: Path, root: Path) -> str:
    """`path` relative to `root`, with forward slashes (the form ComfyUI's frontend expects)."""
    return Path(os.path.relpath(os.path.realpath(path), os.path.realpath(root))).as_posix()


def sanitize_name(name: object, fallback: str = "workflow") -> str:
    """A safe single folder name derived from a workflow name: letters, digits, `._-`; at most 64 characters."""
    text = name if isinstance(name, str) else ""
    text = text.rsplit("/", 1)[-1]
    if text.lower().endswith(".json"):
        text = text[:-5]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:64].rstrip("._-")
    return cleaned or fallback
