"""dnne as a ComfyUI custom-node pack: draw dnne graphs in ComfyUI, export them with dnne.

Install: `pip install dnne` into ComfyUI's Python, then link this folder into `ComfyUI/custom_nodes/` under a name
other than `dnne` (see docs/editor.md). Absolute imports only: ComfyUI imports this file under the link's name.
The mappings are built on first access, so importing `dnne.comfyui.nodes` elsewhere stays cheap.
"""

import importlib.util

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "WEB_DIRECTORY"]


def __getattr__(name: str):
    if name in __all__:
        from dnne.comfyui import pack

        return getattr(pack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if importlib.util.find_spec("server") is not None and importlib.util.find_spec("folder_paths") is not None:
    # inside ComfyUI: build the mappings now and add /dnne/export to its PromptServer
    from dnne.comfyui.pack import register_with_comfyui

    register_with_comfyui()
