"""The newest API version: `ComfyAPI` (async) and `ComfyAPISync`, with `execution.set_progress`; the VIDEO and
AUDIO types as `Input`, `InputImpl` and `Types`."""

from __future__ import annotations

import asyncio
from typing import Any

from comfy_api.input import AudioInput, ImageInput, LatentInput, MaskInput, VideoInput
from comfy_api.input_impl import VideoFromComponents, VideoFromFile
from comfy_api.util import VideoCodec, VideoComponents, VideoContainer
from comfy_execution.progress import get_progress_state
from comfy_execution.utils import get_executing_context


class _Execution:
    async def set_progress(self, value: float, max_value: float, node_id: str | None = None,
                           preview_image: Any = None, ignore_size_limit: bool = False) -> None:
        """Report progress of the running node (or `node_id`): updates `progress_state`, not `progress`."""
        context = get_executing_context()
        if node_id is None and context is not None:
            node_id = context.node_id
        if node_id is None:
            raise ValueError("set_progress was called outside a running node; pass node_id")
        preview = None
        if preview_image is not None:
            preview = ("JPEG", preview_image, None if ignore_size_limit else 512)
        get_progress_state().update_progress(node_id, value, max_value, preview)


class ComfyAPI:
    """Async API object: `await ComfyAPI().execution.set_progress(value, max_value)`."""

    def __init__(self) -> None:
        self.execution = _Execution()


class _SyncExecution:
    def __init__(self, inner: _Execution):
        self._inner = inner

    def set_progress(self, value: float, max_value: float, node_id: str | None = None,
                     preview_image: Any = None, ignore_size_limit: bool = False) -> None:
        coroutine = self._inner.set_progress(value, max_value, node_id, preview_image, ignore_size_limit)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(coroutine)
            return
        # Called from sync code inside the executor's loop: the update itself never awaits, so step it.
        try:
            coroutine.send(None)
        except StopIteration:
            pass


class ComfyAPISync:
    """Sync API object for plain node functions: `ComfyAPISync().execution.set_progress(value, max_value)`."""

    def __init__(self) -> None:
        self.execution = _SyncExecution(_Execution())


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


__all__ = ["ComfyAPI", "ComfyAPISync", "Input", "InputImpl", "Types"]
