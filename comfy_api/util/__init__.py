"""Video helper types: `from comfy_api.util import VideoContainer, VideoCodec, VideoComponents`."""

from comfy_api.util.video_types import VideoCodec, VideoComponents, VideoContainer

__all__ = ["VideoContainer", "VideoCodec", "VideoComponents"]
