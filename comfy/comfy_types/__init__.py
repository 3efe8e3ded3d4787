"""Type names for node authors (`from comfy.comfy_types import IO, ComfyNodeABC, InputTypeDict`)."""

from comfy.comfy_types.node_typing import (
    IO,
    CheckLazyMixin,
    ComfyNodeABC,
    FileLocator,
    InputTypeDict,
    InputTypeOptions,
)

__all__ = ["IO", "ComfyNodeABC", "CheckLazyMixin", "FileLocator", "InputTypeDict", "InputTypeOptions"]
