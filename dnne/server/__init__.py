"""`dnne serve`: the visual editor backend (the pinned ComfyUI frontend + dnne's catalog, export and run routes).

Importing this package needs nothing beyond dnne itself; aiohttp (the `editor` extra) is imported by `create_app`.
"""

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from dnne.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
