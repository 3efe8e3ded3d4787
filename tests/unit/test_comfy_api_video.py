"""comfy_api's VIDEO types: the import paths custom nodes use, and VideoFromFile / VideoFromComponents reading,
saving (container tags, stream copy to memory) and describing a video."""

from __future__ import annotations

import io
import json
from fractions import Fraction

import av
import torch

import comfy_api.latest as latest
from comfy_api.input import AudioInput, VideoInput
from comfy_api.input_impl import VideoFromComponents, VideoFromFile
from comfy_api.util import VideoCodec, VideoComponents, VideoContainer


def _components(frames: int = 3, with_audio: bool = True) -> VideoComponents:
    images = torch.linspace(0, 1, frames * 8 * 12 * 3).reshape(frames, 8, 12, 3)
    audio = AudioInput({"waveform": torch.zeros(1, 1, 4000), "sample_rate": 8000}) if with_audio else None
    return VideoComponents(images=images, frame_rate=Fraction(6), audio=audio)


def test_the_types_are_reachable_under_comfyuis_names():
    assert latest.Input.Video is VideoInput and latest.InputImpl.VideoFromFile is VideoFromFile
    assert latest.Types.VideoContainer is VideoContainer and latest.Types.VideoCodec is VideoCodec
    assert VideoContainer.as_input() == ["auto", "mp4"] and VideoCodec.as_input() == ["auto", "h264"]
    assert VideoContainer.get_extension("auto") == "mp4" == VideoContainer.get_extension(VideoContainer.MP4)


def test_components_save_as_h264_mp4_with_json_tags_and_the_audio_cut_to_the_video(tmp_path):
    path = tmp_path / "clip.mp4"

    VideoFromComponents(_components()).save_to(str(path), metadata={"workflow": {"a": 1}, "prompt": "p"})

    with av.open(str(path)) as container:
        assert container.metadata["workflow"] == json.dumps({"a": 1})
        assert container.metadata["prompt"] == json.dumps("p")
        assert container.streams.video[0].codec_context.name == "h264"
        assert [stream.codec_context.name for stream in container.streams.audio] == ["aac"]
    video = VideoFromFile(str(path))
    assert video.get_dimensions() == (12, 8)
    assert abs(video.get_duration() - 0.5) < 0.2
    components = video.get_components()
    assert components.images.shape == (3, 8, 12, 3) and components.frame_rate == 6
    assert components.audio["sample_rate"] == 8000


def test_a_file_in_memory_is_copied_to_memory_in_its_own_container_with_added_tags(tmp_path):
    path = tmp_path / "clip.mp4"
    VideoFromComponents(_components(with_audio=False)).save_to(str(path))
    source = VideoFromFile(io.BytesIO(path.read_bytes()))
    copy = io.BytesIO()

    source.save_to(copy, metadata={"note": "kiln"})

    assert "mp4" in source.get_container_format()
    copied = VideoFromFile(io.BytesIO(copy.getvalue()))
    with av.open(io.BytesIO(copy.getvalue())) as container:
        assert container.metadata["note"] == "kiln"
    assert torch.equal(copied.get_components().images, source.get_components().images)
