"""Video nodes: make a VIDEO from frames (and audio), split one into its parts, load one from the input folder,
and save one as MP4 or frames as WebM (VP9 / AV1), with the prompt and workflow as container tags.

VIDEO values are `comfy_api.input.VideoInput`s (`VideoFromFile`, `VideoFromComponents`).
"""

from __future__ import annotations

import json
import os
from fractions import Fraction

import av
import torch

import folder_paths
from comfy.cli_args import args
from comfy.file_writing import whole_file
from comfy_api.input import AudioInput, ImageInput, VideoInput
from comfy_api.input_impl import VideoFromComponents, VideoFromFile
from comfy_api.latest import ComfyExtension, io, ui
from comfy_api.util import VideoCodec, VideoComponents, VideoContainer

_PREFIX_TOOLTIP = ("The prefix for the file to save. This may include formatting information such as "
                   "%date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.")
CATEGORY = "image/video"


def _preview(file: str, subfolder: str) -> ui.PreviewVideo:
    return ui.PreviewVideo([ui.SavedResult(file, subfolder, io.FolderType.output)])


class SaveWEBM(io.ComfyNode):
    """Encode frames as a WebM (VP9 yuv420p, or AV1 10-bit) at a constant quality."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SaveWEBM", category=CATEGORY, is_experimental=True, is_output_node=True,
            inputs=[io.Image.Input("images"), io.String.Input("filename_prefix", default="ComfyUI"),
                    io.Combo.Input("codec", options=["vp9", "av1"]),
                    io.Float.Input("fps", default=24.0, min=0.01, max=1000.0, step=0.01),
                    io.Float.Input("crf", default=32.0, min=0, max=63.0, step=1,
                                   tooltip="Higher crf means lower quality with a smaller file size, lower crf means "
                                           "higher quality higher filesize.")])

    @classmethod
    def execute(cls, images: torch.Tensor, codec: str, fps: float, filename_prefix: str, crf: float
                ) -> io.NodeOutput:
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), images[0].shape[1], images[0].shape[0])
        file = f"{filename}_{counter:05}_.webm"
        with whole_file(os.path.join(full_output_folder, file)) as partial:
            container = av.open(partial, mode="w")
            try:
                # SaveWEBM tags the file even with --disable-metadata, as ComfyUI does.
                if cls.hidden.prompt is not None:
                    container.metadata["prompt"] = json.dumps(cls.hidden.prompt)
                for key, value in (cls.hidden.extra_pnginfo or {}).items():
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
        return io.NodeOutput(ui=_preview(file, subfolder))


class SaveVideo(io.ComfyNode):
    """Save a VIDEO as MP4 (a file in its own container and codec is copied as it is)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SaveVideo", display_name="Save Video", category=CATEGORY, is_output_node=True,
            description="Saves the input images to your ComfyUI output directory.",
            inputs=[io.Video.Input("video", tooltip="The video to save."),
                    io.String.Input("filename_prefix", default="video/ComfyUI", tooltip=_PREFIX_TOOLTIP),
                    io.Combo.Input("format", options=VideoContainer.as_input(), default="auto",
                                   tooltip="The format to save the video as."),
                    io.Combo.Input("codec", options=VideoCodec.as_input(), default="auto",
                                   tooltip="The codec to use for the video.")],
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo])

    @classmethod
    def execute(cls, video: VideoInput, filename_prefix: str, format: str, codec: str) -> io.NodeOutput:
        width, height = video.get_dimensions()
        full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(
            filename_prefix, folder_paths.get_output_directory(), width, height)
        metadata = None
        if not args.disable_metadata:
            tags = dict(cls.hidden.extra_pnginfo or {})
            if cls.hidden.prompt is not None:
                tags["prompt"] = cls.hidden.prompt
            metadata = tags or None
        file = f"{filename}_{counter:05}_.{VideoContainer.get_extension(format)}"
        with whole_file(os.path.join(full_output_folder, file)) as partial:
            video.save_to(partial, format=VideoContainer(format), codec=VideoCodec(codec), metadata=metadata)
        return io.NodeOutput(ui=_preview(file, subfolder))


class CreateVideo(io.ComfyNode):
    """A VIDEO from frames, a frame rate and optional audio."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="CreateVideo", display_name="Create Video", category=CATEGORY,
            description="Create a video from images.",
            inputs=[io.Image.Input("images", tooltip="The images to create a video from."),
                    io.Float.Input("fps", default=30.0, min=1.0, max=120.0, step=1.0),
                    io.Audio.Input("audio", optional=True, tooltip="The audio to add to the video.")],
            outputs=[io.Video.Output()])

    @classmethod
    def execute(cls, images: ImageInput, fps: float, audio: AudioInput | None = None) -> io.NodeOutput:
        return io.NodeOutput(VideoFromComponents(VideoComponents(images=images, audio=audio,
                                                                 frame_rate=Fraction(fps))))


class GetVideoComponents(io.ComfyNode):
    """The frames, audio and frame rate of a VIDEO."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="GetVideoComponents", display_name="Get Video Components", category=CATEGORY,
            description="Extracts all components from a video: frames, audio, and framerate.",
            inputs=[io.Video.Input("video", tooltip="The video to extract components from.")],
            outputs=[io.Image.Output(display_name="images"), io.Audio.Output(display_name="audio"),
                     io.Float.Output(display_name="fps")])

    @classmethod
    def execute(cls, video: VideoInput) -> io.NodeOutput:
        components = video.get_components()
        return io.NodeOutput(components.images, components.audio, float(components.frame_rate))


class LoadVideo(io.ComfyNode):
    """A video file from the input folder, as a VIDEO (decoded when a node asks for its frames)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        input_dir = folder_paths.get_input_directory()
        names = [name for name in os.listdir(input_dir) if os.path.isfile(os.path.join(input_dir, name))] \
            if os.path.isdir(input_dir) else []
        files = folder_paths.filter_files_content_types(names, ["video"])
        return io.Schema(node_id="LoadVideo", display_name="Load Video", category=CATEGORY,
                         inputs=[io.Combo.Input("file", options=sorted(files), upload=io.UploadType.video)],
                         outputs=[io.Video.Output()])

    @classmethod
    def execute(cls, file: str) -> io.NodeOutput:
        path = folder_paths.get_annotated_filepath(file)
        try:
            with av.open(path, mode="r") as container:
                if not container.streams.video:
                    raise ValueError("it has no video stream")
        except (av.error.FFmpegError, ValueError) as error:
            raise ValueError(f"LoadVideo: cannot read video from {file!r}: {error}") from error
        return io.NodeOutput(VideoFromFile(path))

    @classmethod
    def fingerprint_inputs(cls, file: str) -> float:
        # The modification time, not a hash: video files are large.
        return os.path.getmtime(folder_paths.get_annotated_filepath(file))

    @classmethod
    def validate_inputs(cls, file: str) -> str | bool:
        if not folder_paths.exists_annotated_filepath(file):
            return f"Invalid video file: {file}"
        return True


class VideoExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [SaveWEBM, SaveVideo, CreateVideo, GetVideoComponents, LoadVideo]


async def comfy_entrypoint() -> VideoExtension:
    return VideoExtension()
