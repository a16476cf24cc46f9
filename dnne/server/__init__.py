"""`dnne serve`: the visual editor backend (the pinned ComfyUI frontend + dnne's catalog, export and run routes)."""

from dnne.server.app import create_app

__all__ = ["create_app"]
