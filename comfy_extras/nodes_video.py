"""Video nodes: make a VIDEO from frames (and audio), split one into its parts, load one from the input folder,
and save one as MP4 or frames as WebM (VP9 / AV1), with the prompt and workflow as container tags.

VIDEO values are `comfy_api.input.VideoInput`s (`VideoFromFile`, `VideoFromComponents`).
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from typing import Any

import av
import torch

import folder_paths
from comfy.cli_args import args
from comfy_api.input import AudioInput, ImageInput, VideoInput
from comfy_api.input_impl import VideoFromComponents, VideoFromFile
from comfy_api.util import VideoCodec, VideoComponents, VideoContainer
from comfy_extras.v3_info import V3Rendered, class_mappings, display_names

_PREFIX_TOOLTIP = ("The prefix for the file to save. This may include formatting information such as "
                   "%date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.")
_HIDDEN = {"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"}


def _preview(file: str, subfolder: str) -> dict:
    return {"ui": {"images": [{"filename": file, "subfolder": subfolder, "type": "output"}], "animated": (True,)}}


class SaveWEBM(V3Rendered):
    """Encode frames as a WebM (VP9 yuv420p, or AV1 10-bit) at a constant quality."""

    NODE_ID = "SaveWEBM"
    CATEGORY = "image/video"
    EXPERIMENTAL = True
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE",),
                "filename_prefix": ("STRING", {"default": "ComfyUI"}),
                "codec": (["vp9", "av1"],),
                "fps": ("FLOAT", {"default": 24.0, "min": 0.01, "max": 1000.0, "step": 0.01}),
                "crf": ("FLOAT", {"default": 32.0, "min": 0, "max": 63.0, "step": 1,
                                  "tooltip": "Higher crf means lower quality with a smaller file size, lower crf "
                                             "means higher quality higher filesize."}),
            },
            "hidden": dict(_HIDDEN),
        }

    RETURN_TYPES = ()
    FUNCTION = "execute"

    @classmethod
    def execute(cls, images: torch.Tensor, codec: str, fps: float, filename_prefix: str, crf: float,
                prompt: Any = None, extra_pnginfo: dict | None = None) -> dict:
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), images[0].shape[1], images[0].shape[0])
        file = f"{filename}_{counter:05}_.webm"
        container = av.open(os.path.join(full_output_folder, file), mode="w")
        try:
            # SaveWEBM tags the file even with --disable-metadata, as ComfyUI does.
            if prompt is not None:
                container.metadata["prompt"] = json.dumps(prompt)
            for key, value in (extra_pnginfo or {}).items():
                container.metadata[key] = json.dumps(value)
            encoder = {"vp9": "libvpx-vp9", "av1": "libsvtav1"}[codec]
            stream = container.add_stream(encoder, rate=Fraction(round(fps * 1000), 1000))
            stream.width, stream.height = images.shape[-2], images.shape[-3]
            stream.pix_fmt = "yuv420p10le" if codec == "av1" else "yuv420p"
            stream.bit_rate = 0
            stream.options = {"crf": str(crf)}
            if codec == "av1":
                stream.options["preset"] = "6"
            for image in images:
                pixels = torch.clamp(image[..., :3] * 255, min=0, max=255).to("cpu", torch.uint8).numpy()
                for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                    container.mux(packet)
            container.mux(stream.encode())
        finally:
            container.close()
        return _preview(file, subfolder)


class SaveVideo(V3Rendered):
    """Save a VIDEO as MP4 (a file in its own container and codec is copied as it is)."""

    NODE_ID = "SaveVideo"
    DISPLAY_NAME = "Save Video"
    DESCRIPTION = "Saves the input images to your ComfyUI output directory."
    CATEGORY = "image/video"
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "video": ("VIDEO", {"tooltip": "The video to save."}),
                "filename_prefix": ("STRING", {"default": "video/ComfyUI", "tooltip": _PREFIX_TOOLTIP}),
                "format": (VideoContainer.as_input(), {"default": "auto",
                                                       "tooltip": "The format to save the video as."}),
                "codec": (VideoCodec.as_input(), {"default": "auto", "tooltip": "The codec to use for the video."}),
            },
            "hidden": dict(_HIDDEN),
        }

    RETURN_TYPES = ()
    FUNCTION = "execute"

    @classmethod
    def execute(cls, video: VideoInput, filename_prefix: str, format: str, codec: str, prompt: Any = None,
                extra_pnginfo: dict | None = None) -> dict:
        width, height = video.get_dimensions()
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), width, height)
        metadata = None
        if not args.disable_metadata:
            tags = dict(extra_pnginfo or {})
            if prompt is not None:
                tags["prompt"] = prompt
            metadata = tags or None
        file = f"{filename}_{counter:05}_.{VideoContainer.get_extension(format)}"
        video.save_to(os.path.join(full_output_folder, file), format=VideoContainer(format),
                      codec=VideoCodec(codec), metadata=metadata)
        return _preview(file, subfolder)


class CreateVideo(V3Rendered):
    """A VIDEO from frames, a frame rate and optional audio."""

    NODE_ID = "CreateVideo"
    DISPLAY_NAME = "Create Video"
    DESCRIPTION = "Create a video from images."
    CATEGORY = "image/video"

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "images": ("IMAGE", {"tooltip": "The images to create a video from."}),
                "fps": ("FLOAT", {"default": 30.0, "min": 1.0, "max": 120.0, "step": 1.0}),
            },
            "optional": {"audio": ("AUDIO", {"tooltip": "The audio to add to the video."})},
        }

    RETURN_TYPES = ("VIDEO",)
    FUNCTION = "execute"

    @classmethod
    def execute(cls, images: ImageInput, fps: float, audio: AudioInput | None = None) -> tuple[VideoInput]:
        return (VideoFromComponents(VideoComponents(images=images, audio=audio, frame_rate=Fraction(fps))),)


class GetVideoComponents(V3Rendered):
    """The frames, audio and frame rate of a VIDEO."""

    NODE_ID = "GetVideoComponents"
    DISPLAY_NAME = "Get Video Components"
    DESCRIPTION = "Extracts all components from a video: frames, audio, and framerate."
    CATEGORY = "image/video"

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"video": ("VIDEO", {"tooltip": "The video to extract components from."})}}

    RETURN_TYPES = ("IMAGE", "AUDIO", "FLOAT")
    RETURN_NAMES = ("images", "audio", "fps")
    FUNCTION = "execute"

    @classmethod
    def execute(cls, video: VideoInput) -> tuple[torch.Tensor, AudioInput | None, float]:
        components = video.get_components()
        return (components.images, components.audio, float(components.frame_rate))


class LoadVideo(V3Rendered):
    """A video file from the input folder, as a VIDEO (decoded when a node asks for its frames)."""

    NODE_ID = "LoadVideo"
    DISPLAY_NAME = "Load Video"
    CATEGORY = "image/video"

    @classmethod
    def INPUT_TYPES(cls):
        input_dir = folder_paths.get_input_directory()
        names = [name for name in os.listdir(input_dir) if os.path.isfile(os.path.join(input_dir, name))] \
            if os.path.isdir(input_dir) else []
        files = folder_paths.filter_files_content_types(names, ["video"])
        return {"required": {"file": (sorted(files), {"video_upload": True})}}

    RETURN_TYPES = ("VIDEO",)
    FUNCTION = "execute"

    @classmethod
    def execute(cls, file: str) -> tuple[VideoInput]:
        path = folder_paths.get_annotated_filepath(file)
        try:
            with av.open(path, mode="r") as container:
                if not container.streams.video:
                    raise ValueError("it has no video stream")
        except (av.error.FFmpegError, ValueError) as error:
            raise ValueError(f"LoadVideo: cannot read video from {file!r}: {error}") from error
        return (VideoFromFile(path),)

    @classmethod
    def IS_CHANGED(cls, file: str) -> float:
        # The modification time, not a hash: video files are large.
        return os.path.getmtime(folder_paths.get_annotated_filepath(file))

    @classmethod
    def VALIDATE_INPUTS(cls, file: str) -> str | bool:
        if not folder_paths.exists_annotated_filepath(file):
            return f"Invalid video file: {file}"
        return True


_NODES = (SaveWEBM, SaveVideo, CreateVideo, GetVideoComponents, LoadVideo)
NODE_CLASS_MAPPINGS = class_mappings(*_NODES)
NODE_DISPLAY_NAME_MAPPINGS = display_names(*_NODES)
