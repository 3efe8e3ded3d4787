"""The two VIDEO values: `VideoFromFile` (a file or bytes, decoded on demand with PyAV) and `VideoFromComponents`
(frames and audio in memory, encoded to H.264 + AAC in MP4 when saved).

Saving writes the metadata values as container tags (JSON unless already text); MP4 keeps them with
`movflags=use_metadata_tags`, as ComfyUI writes them. Saving a file in its own container and codec copies its
packets unchanged.
"""

from __future__ import annotations

import io
import json
import math
from fractions import Fraction
from typing import IO, Any

import av
import numpy as np
import torch
from av.subtitles.stream import SubtitleStream

from comfy_api.input.basic_types import AudioInput
from comfy_api.input.video_types import VideoInput
from comfy_api.util.video_types import VideoCodec, VideoComponents, VideoContainer

_KEEP_TAGS = {"movflags": "use_metadata_tags"}


def container_to_output_format(container_format: str | None) -> str | None:
    """One format name to write with: FFmpeg names demuxers by lists ("mov,mp4,m4a,3gp,3g2,mj2"); the first is
    the muxer. None (guess from the file name) for none."""
    if not container_format:
        return None
    return container_format.split(",")[0]


def get_open_write_kwargs(dest: str | IO[bytes], container_format: str, to_format: str | None) -> dict:
    """`av.open` arguments for writing a copy of a `container_format` file to `dest` as `to_format`."""
    kwargs: dict[str, Any] = {"mode": "w", "options": dict(_KEEP_TAGS)}
    if isinstance(dest, io.BytesIO):  # no file name to guess the format from
        if to_format == VideoContainer.AUTO:
            to_format = container_format.lower()
        elif isinstance(to_format, str):
            to_format = to_format.lower()
        kwargs["format"] = container_to_output_format(to_format)
    return kwargs


def _tag_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class VideoFromFile(VideoInput):
    """A video file (path or BytesIO)."""

    def __init__(self, file: str | io.BytesIO):
        self.__file = file

    def _source(self) -> str | io.BytesIO:
        if isinstance(self.__file, io.BytesIO):
            self.__file.seek(0)
        return self.__file

    def get_stream_source(self) -> str | io.BytesIO:
        return self._source()

    def get_dimensions(self) -> tuple[int, int]:
        with av.open(self._source(), mode="r") as container:
            for stream in container.streams.video:
                return stream.width, stream.height
        raise ValueError(f"No video stream found in file '{self.__file}'")

    def get_duration(self) -> float:
        with av.open(self._source(), mode="r") as container:
            if container.duration is not None:
                return float(container.duration / av.time_base)
            stream = next(iter(container.streams.video), None)
            if stream is not None and stream.average_rate:
                if stream.frames:
                    return float(stream.frames / stream.average_rate)
                container.seek(0)
                frames = sum(len(packet.decode()) for packet in container.demux(stream))
                if frames:
                    return float(frames / stream.average_rate)
        raise ValueError(f"Could not determine duration for file '{self.__file}'")

    def get_container_format(self) -> str:
        with av.open(self._source(), mode="r") as container:
            return container.format.name

    def get_components_internal(self, container: Any) -> VideoComponents:
        """Decode every frame (RGB, 0..1) and the audio streams' samples from an open container."""
        frames = [torch.from_numpy(frame.to_ndarray(format="rgb24")) / 255.0 for frame in container.decode(video=0)]
        images = torch.stack(frames) if frames else torch.zeros(0, 3, 0, 0)
        stream = next(stream for stream in container.streams if stream.type == "video")
        frame_rate = Fraction(stream.average_rate) if stream.average_rate else Fraction(1)
        audio = None
        container.seek(0)
        for audio_stream in container.streams.audio:
            chunks = [frame.to_ndarray() for packet in container.demux(audio_stream) for frame in packet.decode()]
            if chunks:  # the last audio stream with samples wins, as in ComfyUI
                waveform = torch.from_numpy(np.concatenate(chunks, axis=1)).unsqueeze(0)
                audio = AudioInput({"waveform": waveform,
                                    "sample_rate": int(audio_stream.sample_rate) if audio_stream.sample_rate else 1})
        return VideoComponents(images=images, audio=audio, frame_rate=frame_rate, metadata=container.metadata)

    def get_components(self) -> VideoComponents:
        with av.open(self._source(), mode="r") as container:
            return self.get_components_internal(container)

    def save_to(self, path: str | IO[bytes], format: VideoContainer = VideoContainer.AUTO,
                codec: VideoCodec = VideoCodec.AUTO, metadata: dict | None = None) -> None:
        with av.open(self._source(), mode="r") as container:
            container_format = container.format.name
            video_codec = container.streams.video[0].codec.name if container.streams.video else None
            same_container = format == VideoContainer.AUTO or format in container_format.split(",")
            same_codec = codec == VideoCodec.AUTO or video_codec is None or codec == video_codec
            if not (same_container and same_codec):
                components = self.get_components_internal(container)
                VideoFromComponents(components).save_to(path, format=format, codec=codec, metadata=metadata)
                return
            with av.open(path, **get_open_write_kwargs(path, container_format, format)) as output:
                for key, value in container.metadata.items():
                    if metadata is None or key not in metadata:
                        output.metadata[key] = value
                for key, value in (metadata or {}).items():
                    output.metadata[key] = _tag_value(value)
                copies = {}
                for stream in container.streams:
                    if isinstance(stream, (av.VideoStream, av.AudioStream, SubtitleStream)):
                        copies[stream] = output.add_stream_from_template(template=stream, opaque=True)
                for packet in container.demux():
                    if packet.stream in copies and packet.dts is not None:
                        packet.stream = copies[packet.stream]
                        output.mux(packet)


class VideoFromComponents(VideoInput):
    """Frames (and audio) in memory."""

    def __init__(self, components: VideoComponents):
        self.__components = components

    def get_components(self) -> VideoComponents:
        return VideoComponents(images=self.__components.images, audio=self.__components.audio,
                               frame_rate=self.__components.frame_rate)

    def save_to(self, path: str | IO[bytes], format: VideoContainer = VideoContainer.AUTO,
                codec: VideoCodec = VideoCodec.AUTO, metadata: dict | None = None) -> None:
        """H.264 (yuv420p) and, with audio, AAC in MP4; the audio is cut to the video's length."""
        if format not in (VideoContainer.AUTO, VideoContainer.MP4):
            raise ValueError("Only MP4 format is supported for now")
        if codec not in (VideoCodec.AUTO, VideoCodec.H264):
            raise ValueError("Only H264 codec is supported for now")
        images, audio = self.__components.images, self.__components.audio
        with av.open(path, mode="w", options=dict(_KEEP_TAGS)) as output:
            for key, value in (metadata or {}).items():
                output.metadata[key] = json.dumps(value)
            frame_rate = Fraction(round(self.__components.frame_rate * 1000), 1000)
            video_stream = output.add_stream("h264", rate=frame_rate)
            video_stream.width, video_stream.height = images.shape[2], images.shape[1]
            video_stream.pix_fmt = "yuv420p"
            audio_rate = int(audio["sample_rate"]) if audio else 1
            audio_stream = output.add_stream("aac", rate=audio_rate) if audio else None

            for image in images:
                pixels = (image * 255).clamp(0, 255).byte().cpu().numpy()
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
                output.mux(video_stream.encode(frame))
            output.mux(video_stream.encode(None))

            if audio_stream is not None:
                samples = math.ceil((audio_rate / frame_rate) * images.shape[0])
                waveform = audio["waveform"][:, :, :samples]
                layout = "mono" if waveform.shape[1] == 1 else "stereo"
                packed = waveform.movedim(2, 1).reshape(1, -1).float().numpy()
                frame = av.AudioFrame.from_ndarray(packed, format="flt", layout=layout)
                frame.sample_rate = audio_rate
                frame.pts = 0
                output.mux(audio_stream.encode(frame))
                output.mux(audio_stream.encode(None))
