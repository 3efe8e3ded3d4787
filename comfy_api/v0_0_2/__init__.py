"""API version 0.0.2: the same surface as `comfy_api.latest` (V3 schema included), under its own version."""

from comfy_api.internal.async_to_sync import create_sync_class
from comfy_api.latest import ComfyAPI_latest, ComfyExtension, io, ui  # noqa: F401  this version's names
from comfy_api.latest import Input as Input_latest
from comfy_api.latest import InputImpl as InputImpl_latest
from comfy_api.latest import Types as Types_latest


class ComfyAPIAdapter_v0_0_2(ComfyAPI_latest):
    VERSION = "0.0.2"
    STABLE = False


class Input(Input_latest):
    pass


class InputImpl(InputImpl_latest):
    pass


class Types(Types_latest):
    pass


ComfyAPI = ComfyAPIAdapter_v0_0_2
ComfyAPISync = create_sync_class(ComfyAPIAdapter_v0_0_2)

__all__ = ["ComfyAPI", "ComfyAPISync", "Input", "InputImpl", "Types", "ComfyExtension"]
