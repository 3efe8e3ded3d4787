"""Video and audio through the real server: /upload/image takes them as ComfyUI does (when they decode), /view
plays them inline with their media type, workflows load, make and save them, and damaged files are refused at
upload (400) or fail their node with a clear execution_error while the server keeps serving."""

from __future__ import annotations

import io
import wave
from fractions import Fraction

import av
import numpy as np
import pytest

from .graphs import fresh, link, node
from .images import solid_png

pytestmark = pytest.mark.asyncio


def mp4_bytes(frames: int = 4, width: int = 32, height: int = 16, with_audio: bool = True) -> bytes:
    """A small H.264 (+ AAC) MP4 made with PyAV: a moving gradient and a tone."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        video = container.add_stream("h264", rate=Fraction(8))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=16000) if with_audio else None
        for index in range(frames):
            pixels = np.full((height, width, 3), 40 * index, dtype=np.uint8)
            pixels[:, :, 1] = np.arange(width, dtype=np.uint8)[None, :] * 7
            container.mux(video.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(video.encode(None))
        if audio is not None:
            tone = (0.3 * np.sin(np.arange(8000) / 5.0)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]).T.reshape(1, -1), format="flt", layout="stereo")
            frame.sample_rate, frame.pts = 16000, 0
            container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
    return buffer.getvalue()


def wav_bytes(samples: int = 4000, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes((np.sin(np.arange(samples) / 3.0) * 9000).astype("<i2").tobytes())
    return buffer.getvalue()


async def _assert_still_serving(client) -> None:
    result = await client.get("/system_stats")
    assert result.status == 200


@pytest.mark.parametrize(("suffix", "make", "media_type"), [(".mp4", mp4_bytes, "video/mp4"),
                                                             (".wav", wav_bytes, "audio/wav")])
async def test_video_and_audio_uploads_are_stored_and_viewed_inline(client, server, suffix, make, media_type):
    name = f"media_{fresh()}{suffix}"
    data = make()

    answer = await client.upload_image(data, name)

    assert answer.status == 200, answer.body
    assert answer.json() == {"name": name, "subfolder": "", "type": "input"}
    assert (server.input_dir / name).read_bytes() == data
    viewed = await client.view(name, type="input")
    assert viewed.status == 200 and viewed.body == data
    assert viewed.headers["Content-Type"] == media_type
    assert "attachment" not in viewed.headers.get("Content-Disposition", "")


@pytest.mark.parametrize(("name", "data"), [
    ("broken.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200),
    ("truncated.mp4", mp4_bytes()[:300]),
    ("page.mp4", b"<html><script>alert(1)</script></html>"),
    ("noise.wav", b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(40))),
    ("empty.mp3", b""),
])
async def test_corrupt_video_or_audio_upload_is_a_400_and_the_server_keeps_serving(client, server, name, data):
    stored = f"{fresh()}_{name}"

    answer = await client.upload_image(data, stored)

    assert answer.status == 400, answer.body
    assert answer.json()["error"]["type"] in ("invalid_media", "invalid_image")
    assert not (server.input_dir / stored).exists()
    await _assert_still_serving(client)


async def test_an_image_named_like_a_video_is_still_accepted_as_an_image(client, server):
    name = f"still_{fresh()}.mp4"
    assert (await client.upload_image(solid_png(9), name)).status == 200


async def test_uploaded_video_loads_splits_and_saves_as_mp4_with_the_workflow(client, server):
    name = f"clip_{fresh()}.mp4"
    assert (await client.upload_image(mp4_bytes(), name)).status == 200
    prefix = f"video/kiln_{fresh()}"
    prompt = {
        "1": node("LoadVideo", file=name),
        "2": node("GetVideoComponents", video=link(1)),
        "3": node("CreateVideo", images=link(2, 0), fps=link(2, 2), audio=link(2, 1)),
        "4": node("SaveVideo", video=link(3), filename_prefix=prefix, format="auto", codec="auto"),
    }
    await client.connect()

    run = await client.run(prompt, extra_data={"extra_pnginfo": {"workflow": {"kiln": True}}}, timeout=120)

    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    [saved] = run.outputs()["4"]["images"]
    assert run.outputs()["4"]["animated"] == [True]
    data = await client.download(saved)
    with av.open(io.BytesIO(data)) as container:
        assert container.metadata["workflow"] == '{"kiln": true}'
        assert "prompt" in container.metadata
        frames = list(container.decode(video=0))
        assert len(frames) == 4 and (frames[0].width, frames[0].height) == (32, 16)
        assert len(container.streams.audio) == 1


async def test_uploaded_audio_loads_and_saves_as_flac(client, server):
    name = f"tone_{fresh()}.wav"
    assert (await client.upload_image(wav_bytes(), name)).status == 200
    prompt = {"1": node("LoadAudio", audio=name),
              "2": node("SaveAudio", audio=link(1), filename_prefix=f"audio/kiln_{fresh()}")}
    await client.connect()

    run = await client.run(prompt, timeout=60)

    assert run.history["status"]["status_str"] == "success", run.of_type("execution_error")
    [saved] = run.outputs()["2"]["audio"]
    viewed = await client.view(saved["filename"], subfolder=saved["subfolder"], type="output")
    assert viewed.headers["Content-Type"] == "audio/flac"
    with av.open(io.BytesIO(viewed.body)) as container:
        assert container.streams.audio[0].sample_rate == 8000


@pytest.mark.parametrize(("loader", "input_name", "suffix"), [("LoadVideo", "file", ".mp4"),
                                                              ("LoadAudio", "audio", ".wav")])
async def test_a_damaged_file_in_the_input_folder_fails_its_loader_with_a_clear_execution_error(
        client, server, loader, input_name, suffix):
    name = f"damaged_{fresh()}{suffix}"
    (server.input_dir / name).write_bytes(b"this is not media at all" * 20)
    saver = (node("SaveVideo", video=link(1), filename_prefix="video/x", format="auto", codec="auto")
             if loader == "LoadVideo" else node("SaveAudio", audio=link(1), filename_prefix="audio/x"))
    await client.connect()

    run = await client.run({"1": node(loader, **{input_name: name}), "2": saver}, timeout=60)

    [error] = run.of_type("execution_error")
    assert error["node_id"] == "1" and error["node_type"] == loader
    assert name in error["exception_message"]
    await _assert_still_serving(client)
