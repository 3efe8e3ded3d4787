"""The newest API version: the V3 node schema (`io`), what nodes show (`ui`), `ComfyExtension` (what a module's
`comfy_entrypoint()` returns), `ComfyAPI` (async) / `ComfyAPISync` with `execution.set_progress`, and the VIDEO and
AUDIO types as `Input`, `InputImpl` and `Types`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch
from PIL import Image

from comfy.cli_args import args
from comfy_api.input import AudioInput, ImageInput, LatentInput, MaskInput, VideoInput
from comfy_api.input_impl import VideoFromComponents, VideoFromFile
from comfy_api.internal import ComfyAPIBase
from comfy_api.internal.async_to_sync import create_sync_class
from comfy_api.internal.singleton import ProxiedSingleton
from comfy_api.latest import _io as io
from comfy_api.latest import _ui as ui
from comfy_api.util import VideoCodec, VideoComponents, VideoContainer
from comfy_execution.progress import get_progress_state
from comfy_execution.utils import get_executing_context

# The longest side of a progress preview unless the caller lifts the limit (ComfyUI's --preview-size default).
DEFAULT_PREVIEW_SIZE = 512


class ComfyAPI_latest(ComfyAPIBase):
    """Async API object: `await ComfyAPI().execution.set_progress(value, max_value)`."""

    VERSION = "latest"
    STABLE = False

    class Execution(ProxiedSingleton):
        async def set_progress(self, value: float, max_value: float, node_id: str | None = None,
                               preview_image: Image.Image | ImageInput | None = None,
                               ignore_size_limit: bool = False) -> None:
            """Report progress of the running node (or of `node_id`): its `progress_state` entry, and a preview
            (a Pillow image, or an image batch [B, H, W, C] of which the first is shown) if given."""
            context = get_executing_context()
            if node_id is None and context is not None:
                node_id = context.node_id
            if node_id is None:
                raise ValueError("node_id must be provided if not in executing context")
            preview: Any = preview_image
            if isinstance(preview, torch.Tensor):
                frame = preview[0] if preview.ndim == 4 else preview
                preview = Image.fromarray((frame.cpu().numpy() * 255).astype(np.uint8))
            if isinstance(preview, Image.Image):
                size_limit = None if ignore_size_limit else getattr(args, "preview_size", DEFAULT_PREVIEW_SIZE)
                preview = (preview.format or "JPEG", preview, size_limit)
            get_progress_state().update_progress(node_id, value, max_value, preview)

    def __init__(self) -> None:
        super().__init__()
        self.execution = self.Execution()


class ComfyExtension(ABC):
    """What a node module's `comfy_entrypoint()` returns: the V3 node classes it provides."""

    async def on_load(self) -> None:  # noqa: B027  optional hook, empty by default
        """Set up what the extension's nodes share (ComfyUI 0.3.64 does not call it)."""

    @abstractmethod
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        """The node classes this extension registers."""


class Input:
    """The input types: `Input.Video`, `Input.Audio`, `Input.Image`, `Input.Mask`, `Input.Latent`."""

    Image = ImageInput
    Audio = AudioInput
    Mask = MaskInput
    Latent = LatentInput
    Video = VideoInput


class InputImpl:
    """The VIDEO implementations."""

    VideoFromFile = VideoFromFile
    VideoFromComponents = VideoFromComponents


class Types:
    """Video helper types."""

    VideoCodec = VideoCodec
    VideoContainer = VideoContainer
    VideoComponents = VideoComponents


ComfyAPI = ComfyAPI_latest
ComfyAPISync = create_sync_class(ComfyAPI_latest)
comfy_io = io

__all__ = ["ComfyAPI", "ComfyAPISync", "Input", "InputImpl", "Types", "ComfyExtension", "io", "comfy_io", "ui"]
