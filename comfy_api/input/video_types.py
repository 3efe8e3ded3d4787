"""`VideoInput`: what a VIDEO value offers (frames, audio and frame rate; saving; size and duration)."""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from typing import IO

from comfy_api.util.video_types import VideoCodec, VideoComponents, VideoContainer


class VideoInput(ABC):
    """A video, from a file or from frames in memory."""

    @abstractmethod
    def get_components(self) -> VideoComponents:
        """The frames [T, H, W, 3], audio (or None) and frame rate."""

    @abstractmethod
    def save_to(self, path: str | IO[bytes], format: VideoContainer = VideoContainer.AUTO,
                codec: VideoCodec = VideoCodec.AUTO, metadata: dict | None = None) -> None:
        """Write the video to a path or binary stream; `metadata` values become container tags."""

    def get_stream_source(self) -> str | io.BytesIO:
        """Something `av.open` reads: a path, or the video written to memory."""
        buffer = io.BytesIO()
        self.save_to(buffer)
        buffer.seek(0)
        return buffer

    def get_dimensions(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        images = self.get_components().images
        return images.shape[2], images.shape[1]

    def get_duration(self) -> float:
        """Length in seconds."""
        components = self.get_components()
        return float(components.images.shape[0] / components.frame_rate)

    def get_container_format(self) -> str:
        """The container's format name as FFmpeg gives it (e.g. "mov,mp4,m4a,3gp,3g2,mj2")."""
        import av

        with av.open(self.get_stream_source(), mode="r") as container:
            return container.format.name
