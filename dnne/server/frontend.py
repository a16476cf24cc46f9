"""Locate the pinned official ComfyUI frontend (`comfyui-frontend-package`, served unmodified from its install)."""

from __future__ import annotations

from pathlib import Path

from dnne.errors import DnneError

FRONTEND_VERSION = "1.58.1"
WEB_DIR = Path(__file__).parent / "web"  # dnne's own editor extension (dnne_export.js)


class FrontendMissing(DnneError):
    """The editor frontend package is not installed."""


def frontend_static_dir() -> Path:
    """The `static/` folder of the installed `comfyui-frontend-package`."""
    try:
        import comfyui_frontend_package
    except ImportError:
        raise FrontendMissing(
            "the editor needs the ComfyUI frontend: run `make serve` in the dnne clone, or "
            f".venv/bin/pip install comfyui-frontend-package=={FRONTEND_VERSION}"
        ) from None
    static = Path(comfyui_frontend_package.__file__).parent / "static"
    if not (static / "index.html").is_file():
        raise FrontendMissing(f"the installed comfyui-frontend-package has no static/index.html (looked in {static})")
    return static


def frontend_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("comfyui-frontend-package")
    except Exception:
        return None


def extension_urls() -> list[str]:
    """The `/api/extensions` list: dnne's extension scripts, served under `/extensions/dnne/`."""
    return [f"/extensions/dnne/{p.name}" for p in sorted(WEB_DIR.glob("*.js"))]
