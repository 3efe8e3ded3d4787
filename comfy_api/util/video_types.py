"""Video containers and codecs the video nodes offer, and `VideoComponents` (frames, audio, frame rate)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from comfy_api.input.basic_types import AudioInput, ImageInput


class VideoCodec(str, Enum):
    AUTO = "auto"
    H264 = "h264"

    @classmethod
    def as_input(cls) -> list[str]:
        """The values as a node's combo options."""
        return [member.value for member in cls]


class VideoContainer(str, Enum):
    AUTO = "auto"
    MP4 = "mp4"

    @classmethod
    def as_input(cls) -> list[str]:
        """The values as a node's combo options."""
        return [member.value for member in cls]

    @classmethod
    def get_extension(cls, value: str | VideoContainer) -> str:
        """The file extension for a container ("auto" writes MP4)."""
        value = cls(value)
        return "mp4" if value in (VideoContainer.MP4, VideoContainer.AUTO) else ""


@dataclass
class VideoComponents:
    """A video in memory: `images` [T, H, W, 3] in 0..1, its frame rate, optional AUDIO and container tags."""

    images: ImageInput
    frame_rate: Fraction
    audio: AudioInput | None = None
    metadata: dict | None = None
