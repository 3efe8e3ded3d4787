"""VIDEO implementations: `from comfy_api.input_impl import VideoFromFile, VideoFromComponents`."""

from comfy_api.input_impl.video_types import VideoFromComponents, VideoFromFile

__all__ = ["VideoFromFile", "VideoFromComponents"]
