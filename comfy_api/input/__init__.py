"""Input types nodes receive: `from comfy_api.input import VideoInput, AudioInput, ImageInput, ...`."""

from comfy_api.input.basic_types import AudioInput, ImageInput, LatentInput, MaskInput
from comfy_api.input.video_types import VideoInput

__all__ = ["ImageInput", "AudioInput", "MaskInput", "LatentInput", "VideoInput"]
