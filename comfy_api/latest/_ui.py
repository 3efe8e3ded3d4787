"""What a V3 node shows in the frontend (`comfy_api.latest.ui`): `NodeOutput(ui=...)` objects for saved and
previewed images, masks, audio, video, 3D and text, and the helpers that write those files.

Each object's `as_dict()` is the node's `executed` output as clients see it (`{"images": [{filename, subfolder,
type}], "animated": [...]}`, `{"audio": [...]}`, `{"text": [...]}`). Files carry the prompt and workflow the
node's hidden values hold (`cls.hidden.prompt` / `extra_pnginfo`), unless `--disable-metadata`.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import torch
from PIL import Image as PILImage
from PIL.PngImagePlugin import PngInfo

import folder_paths
import node_helpers
from comfy.cli_args import args
from comfy.file_writing import whole_file
from comfy_api.latest._io_nodes import ComfyNode, _UIOutput
from comfy_api.latest._io_types import FolderType

# ComfyUI draws the random part of image preview names from this alphabet (a doubled "p", no "w").
_IMAGE_PREVIEW_LETTERS = "abcdefghijklmnopqrstupvxyz"
_AUDIO_PREVIEW_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _random_suffix(letters: str) -> str:
    return "".join(random.choice(letters) for _ in range(5))


class SavedResult(dict):
    """One written file as the frontend addresses it: `{"filename", "subfolder", "type"}`."""

    def __init__(self, filename: str, subfolder: str, type: FolderType):  # noqa: A002  ComfyUI's name
        super().__init__(filename=filename, subfolder=subfolder, type=type.value)

    @property
    def filename(self) -> str:
        return self["filename"]

    @property
    def subfolder(self) -> str:
        return self["subfolder"]

    @property
    def type(self) -> FolderType:
        return FolderType(self["type"])


class SavedImages(_UIOutput):
    """Saved images (one animated file when `is_animated`)."""

    def __init__(self, results: list[SavedResult], is_animated: bool = False):
        super().__init__()
        self.results = results
        self.is_animated = is_animated

    def as_dict(self) -> dict:
        data: dict[str, Any] = {"images": self.results}
        if self.is_animated:
            data["animated"] = (True,)
        return data


class SavedAudios(_UIOutput):
    """Saved audio files (FLAC, MP3 or Opus)."""

    def __init__(self, results: list[SavedResult]):
        super().__init__()
        self.results = results

    def as_dict(self) -> dict:
        return {"audio": self.results}


def _directory_of(folder_type: FolderType) -> str:
    if folder_type == FolderType.input:
        return folder_paths.get_input_directory()
    if folder_type == FolderType.output:
        return folder_paths.get_output_directory()
    return folder_paths.get_temp_directory()


def _hidden_metadata(cls: type[ComfyNode] | None) -> tuple[Any, Any] | None:
    """(prompt, extra_pnginfo) to embed, each None when empty; None when nothing may be embedded."""
    if args.disable_metadata or cls is None or not cls.hidden:
        return None
    return cls.hidden.prompt or None, cls.hidden.extra_pnginfo or None


class ImageSaveHelper:
    """Writing image batches as PNG files, animated PNG or animated WebP, with the prompt and workflow."""

    @staticmethod
    def _convert_tensor_to_pil(image_tensor: torch.Tensor) -> PILImage.Image:
        """One image [H, W, C] in 0..1 as 8-bit Pillow image (clipped, truncated)."""
        return node_helpers.tensor_to_pil(image_tensor)

    @staticmethod
    def _create_png_metadata(cls: type[ComfyNode] | None) -> PngInfo | None:
        """PNG text chunks: `prompt` and one per extra_pnginfo key, JSON-encoded."""
        hidden = _hidden_metadata(cls)
        return None if hidden is None else node_helpers.png_metadata(*hidden)

    @staticmethod
    def _create_animated_png_metadata(cls: type[ComfyNode] | None) -> PngInfo | None:
        """The same entries as `comf` chunks after the image data (APNG keeps text chunks of frame one only)."""
        hidden = _hidden_metadata(cls)
        if hidden is None:
            return None
        prompt, extra_pnginfo = hidden
        metadata = PngInfo()
        entries = ([("prompt", prompt)] if prompt else []) + list((extra_pnginfo or {}).items())
        for key, value in entries:
            chunk = key.encode("latin-1", "strict") + b"\0" + json.dumps(value).encode("latin-1", "strict")
            metadata.add(b"comf", chunk, after_idat=True)
        return metadata

    @staticmethod
    def _create_webp_metadata(pil_image: PILImage.Image, cls: type[ComfyNode] | None) -> PILImage.Exif:
        """EXIF for a WebP: 0x0110 = "prompt:<json>", then one "<key>:<json>" tag per extra_pnginfo key from
        0x010f downwards."""
        exif = pil_image.getexif()
        if args.disable_metadata or cls is None or cls.hidden is None:
            return exif
        if cls.hidden.prompt is not None:
            exif[0x0110] = "prompt:{}".format(json.dumps(cls.hidden.prompt))
        if cls.hidden.extra_pnginfo is not None:
            tag = 0x010F
            for key, value in cls.hidden.extra_pnginfo.items():
                exif[tag] = "{}:{}".format(key, json.dumps(value))
                tag -= 1
        return exif

    @staticmethod
    def save_images(images: torch.Tensor, filename_prefix: str, folder_type: FolderType,
                    cls: type[ComfyNode] | None, compress_level: int = 4) -> list[SavedResult]:
        """Each image of the batch [B, H, W, C] as `<prefix>_<counter:05>_.png` in the folder."""
        full_output_folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, _directory_of(folder_type), images[0].shape[1], images[0].shape[0])
        metadata = ImageSaveHelper._create_png_metadata(cls)
        results = []
        for batch_number, image in enumerate(images):
            file = f"{filename.replace('%batch_num%', str(batch_number))}_{counter:05}_.png"
            node_helpers.save_png(image, os.path.join(full_output_folder, file), metadata, compress_level)
            results.append(SavedResult(file, subfolder, folder_type))
            counter += 1
        return results

    @staticmethod
    def get_save_images_ui(images: torch.Tensor, filename_prefix: str, cls: type[ComfyNode] | None,
                           compress_level: int = 4) -> SavedImages:
        """Save to the output folder and describe the files."""
        return SavedImages(ImageSaveHelper.save_images(images, filename_prefix=filename_prefix,
                                                       folder_type=FolderType.output, cls=cls,
                                                       compress_level=compress_level))

    @staticmethod
    def save_animated_png(images: torch.Tensor, filename_prefix: str, folder_type: FolderType,
                          cls: type[ComfyNode] | None, fps: float, compress_level: int) -> SavedResult:
        """The batch as one APNG, `fps` frames per second."""
        full_output_folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, _directory_of(folder_type), images[0].shape[1], images[0].shape[0])
        frames = [ImageSaveHelper._convert_tensor_to_pil(image) for image in images]
        file = f"{filename}_{counter:05}_.png"
        with whole_file(os.path.join(full_output_folder, file)) as partial:
            frames[0].save(partial, pnginfo=ImageSaveHelper._create_animated_png_metadata(cls),
                           compress_level=compress_level, save_all=True, duration=int(1000.0 / fps),
                           append_images=frames[1:])
        return SavedResult(file, subfolder, folder_type)

    @staticmethod
    def get_save_animated_png_ui(images: torch.Tensor, filename_prefix: str, cls: type[ComfyNode] | None,
                                 fps: float, compress_level: int) -> SavedImages:
        result = ImageSaveHelper.save_animated_png(images, filename_prefix=filename_prefix,
                                                   folder_type=FolderType.output, cls=cls, fps=fps,
                                                   compress_level=compress_level)
        return SavedImages([result], is_animated=len(images) > 1)

    @staticmethod
    def save_animated_webp(images: torch.Tensor, filename_prefix: str, folder_type: FolderType,
                           cls: type[ComfyNode] | None, fps: float, lossless: bool, quality: int,
                           method: int) -> SavedResult:
        """The batch as one animated WebP, `fps` frames per second."""
        full_output_folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, _directory_of(folder_type), images[0].shape[1], images[0].shape[0])
        frames = [ImageSaveHelper._convert_tensor_to_pil(image) for image in images]
        file = f"{filename}_{counter:05}_.webp"
        with whole_file(os.path.join(full_output_folder, file)) as partial:
            frames[0].save(partial, save_all=True, duration=int(1000.0 / fps), append_images=frames[1:],
                           exif=ImageSaveHelper._create_webp_metadata(frames[0], cls), lossless=lossless,
                           quality=quality, method=method)
        return SavedResult(file, subfolder, folder_type)

    @staticmethod
    def get_save_animated_webp_ui(images: torch.Tensor, filename_prefix: str, cls: type[ComfyNode] | None,
                                  fps: float, lossless: bool, quality: int, method: int) -> SavedImages:
        result = ImageSaveHelper.save_animated_webp(images, filename_prefix=filename_prefix,
                                                    folder_type=FolderType.output, cls=cls, fps=fps,
                                                    lossless=lossless, quality=quality, method=method)
        return SavedImages([result], is_animated=len(images) > 1)


class AudioSaveHelper:
    """Writing audio batches as FLAC, MP3 or Opus files, with the prompt and workflow as container tags."""

    _OPUS_RATES = [8000, 12000, 16000, 24000, 48000]

    @staticmethod
    def save_audio(audio: dict, filename_prefix: str, folder_type: FolderType, cls: type[ComfyNode] | None,
                   format: str = "flac", quality: str = "128k") -> list[SavedResult]:  # noqa: A002  ComfyUI's name
        """Each waveform of `audio["waveform"]` [B, C, T] as `<prefix>_<counter:05>_.<format>`; Opus is resampled
        to a rate it supports."""
        # deferred: the codec code lives with the classic audio nodes, which import PyAV
        from comfy_extras.nodes_audio import audio_tags, write_audio_batch

        full_output_folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(
            filename_prefix, _directory_of(folder_type))
        tags = {} if cls is None else audio_tags(cls.hidden.prompt, cls.hidden.extra_pnginfo)
        names = write_audio_batch(audio, full_output_folder, filename, counter, format, tags, quality)
        return [SavedResult(name, subfolder, folder_type) for name in names]

    @staticmethod
    def get_save_audio_ui(audio: dict, filename_prefix: str, cls: type[ComfyNode] | None, format: str = "flac",
                          quality: str = "128k") -> SavedAudios:  # noqa: A002  ComfyUI's name
        """Save to the output folder and describe the files."""
        return SavedAudios(AudioSaveHelper.save_audio(audio, filename_prefix=filename_prefix,
                                                      folder_type=FolderType.output, cls=cls, format=format,
                                                      quality=quality))


class PreviewImage(_UIOutput):
    """Images written to the temp folder (fast PNG compression) and shown on the node."""

    def __init__(self, image: torch.Tensor, animated: bool = False, cls: type[ComfyNode] | None = None,
                 **kwargs: Any):
        self.values = ImageSaveHelper.save_images(
            image, filename_prefix="ComfyUI_temp_" + _random_suffix(_IMAGE_PREVIEW_LETTERS),
            folder_type=FolderType.temp, cls=cls, compress_level=1)
        self.animated = animated

    def as_dict(self) -> dict:
        return {"images": self.values, "animated": (self.animated,)}


class PreviewMask(PreviewImage):
    """A mask batch [B, H, W] shown as grey images."""

    def __init__(self, mask: torch.Tensor, animated: bool = False, cls: type[ComfyNode] | None = None,
                 **kwargs: Any):
        preview = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1])).movedim(1, -1).expand(-1, -1, -1, 3)
        super().__init__(preview, animated, cls, **kwargs)


class PreviewAudio(_UIOutput):
    """Audio written to the temp folder as FLAC and played on the node."""

    def __init__(self, audio: dict, cls: type[ComfyNode] | None = None, **kwargs: Any):
        self.values = AudioSaveHelper.save_audio(
            audio, filename_prefix="ComfyUI_temp_" + _random_suffix(_AUDIO_PREVIEW_LETTERS),
            folder_type=FolderType.temp, cls=cls, format="flac", quality="128k")

    def as_dict(self) -> dict:
        return {"audio": self.values}


class PreviewVideo(_UIOutput):
    """Video files already written (`SavedResult`s or dicts of the same shape)."""

    def __init__(self, values: list[SavedResult | dict], **kwargs: Any):
        self.values = values

    def as_dict(self) -> dict:
        return {"images": self.values, "animated": (True,)}


class PreviewUI3D(_UIOutput):
    """A 3D model file and its camera for the 3D viewer."""

    def __init__(self, model_file: Any, camera_info: Any, **kwargs: Any):
        self.model_file = model_file
        self.camera_info = camera_info

    def as_dict(self) -> dict:
        return {"result": [self.model_file, self.camera_info]}


class PreviewText(_UIOutput):
    """A text shown on the node."""

    def __init__(self, value: str, **kwargs: Any):
        self.value = value

    def as_dict(self) -> dict:
        return {"text": (self.value,)}


__all__ = ["SavedResult", "SavedImages", "SavedAudios", "ImageSaveHelper", "AudioSaveHelper", "PreviewImage",
           "PreviewMask", "PreviewAudio", "PreviewVideo", "PreviewUI3D", "PreviewText"]
