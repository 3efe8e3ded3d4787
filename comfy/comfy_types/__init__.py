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


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_class  # noqa: E402

_REASON = "these types describe ComfyUI's UNet wrapper calls, which Kiln's diffusers models do not make"

UnetApplyConds = unsupported_class(__name__, 'UnetApplyConds', None, _REASON)
UnetApplyFunction = unsupported_class(__name__, 'UnetApplyFunction', None, _REASON)
UnetParams = unsupported_class(__name__, 'UnetParams', None, _REASON)
UnetWrapperFunction = UnsupportedValue(__name__, 'UnetWrapperFunction', _REASON)
