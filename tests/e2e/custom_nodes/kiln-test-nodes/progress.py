"""Nodes that take time: a slow node that reports progress and honours interrupts, and an async sleeper."""

import asyncio
import time
from pathlib import Path

from PIL import Image

import comfy.model_management
import comfy.utils

from .common import CATEGORY

_INTERRUPT_POLL_SECONDS = 0.02
PREVIEW_SIZE = (64, 48)


class KilnTestSlow:
    """Passes `value` through after `seconds`, in `steps` ProgressBar steps, checking for interrupts every 20 ms.

    With `preview`, every step also carries a 64x48 red JPEG preview, as a sampler's would.
    """

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "value": ("INT", {"default": 0}),
            "seconds": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 600.0, "step": 0.01}),
            "steps": ("INT", {"default": 10, "min": 1, "max": 10000}),
        }, "optional": {"preview": ("BOOLEAN", {"default": False})}}

    def run(self, value, seconds, steps, preview=False):
        progress = comfy.utils.ProgressBar(steps)
        # A sampler's previewer hands ProgressBar a ("JPEG", PIL image, max size) triple; so does this node.
        preview_image = ("JPEG", Image.new("RGB", PREVIEW_SIZE, (200, 30, 30)), 512) if preview else None
        for step in range(steps):
            step_end = time.monotonic() + seconds / steps
            while True:
                comfy.model_management.throw_exception_if_processing_interrupted()
                remaining = step_end - time.monotonic()
                if remaining <= 0:
                    break
                time.sleep(min(remaining, _INTERRUPT_POLL_SECONDS))
            progress.update_absolute(step + 1, steps, preview_image)
        return (value,)


class KilnTestAsyncSleep:
    """Async output node: awaits `seconds` and reports when it started and ended (server `time.time()`). With
    `started_marker` (a file path), it creates that file once it runs: past the executor's last interrupt check, so
    a test that waits for the file knows the sleep can no longer be interrupted."""

    CATEGORY = CATEGORY
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "value": ("INT", {"default": 0}),
            "seconds": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 60.0, "step": 0.01}),
        }, "optional": {"started_marker": ("STRING", {"default": ""})}}

    async def run(self, value, seconds, started_marker=""):
        started = time.time()
        if started_marker:
            Path(started_marker).touch()
        await asyncio.sleep(seconds)
        ended = time.time()
        return {"ui": {"value": [value], "start": [started], "end": [ended]}, "result": (value,)}


NODE_CLASS_MAPPINGS = {
    "KilnTestSlow": KilnTestSlow,
    "KilnTestAsyncSleep": KilnTestAsyncSleep,
}
