"""Where `/view` and the upload routes may read and write, what they do to image bytes on the way, and which
uploads they accept (images that decode, and audio or video that PyAV decodes).

Every path a client names is checked here before any file is touched: names are plain relative names, and the fully
resolved real path (symlinks followed) must stay inside the input, output or temp directory it was asked for. A
refusal is a `FileRequestError` that the route turns into ComfyUI's JSON error shape.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from aiohttp import web
from PIL import Image, PngImagePlugin

import folder_paths
from app.errors import json_error
from comfy.cli_args import args
from comfy.file_writing import write_whole

FILE_TYPES = ("input", "output", "temp")
CHUNK_BYTES = 1 << 20
# The image formats uploads may be in and that previews decode: what LoadImage users and browsers use, all decoded
# by Pillow's own code. Left out on purpose: EPS (Pillow runs Ghostscript on it) and rarely used, rarely audited
# scientific and legacy formats.
DECODABLE_IMAGE_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "DIB", "TIFF", "PPM", "TGA", "ICO", "PSD",
                           "JPEG2000", "AVIF", "HEIF")
# Uploads with these extensions that are not images may instead be audio or video (LoadVideo, LoadAudio and the
# frontend's video, audio and recording widgets upload through /upload/image, as in ComfyUI); /view shows them
# all inline. They are accepted only when PyAV finds an audio or video stream and decodes its first frame.
MEDIA_EXTENSIONS = (".mp4", ".webm", ".mov", ".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac")


class FileRequestError(Exception):
    """A request naming a file that cannot be served or stored; carries the HTTP status and the JSON error fields."""

    def __init__(self, status: int, error_type: str, message: str, details: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.details = details

    def response(self) -> web.Response:
        return json_error(self.status, self.error_type, self.message, self.details)


# ---------------------------------------------------------------------------------------------------------------
# Names and confinement


def _reject_unsafe_characters(value: str, what: str) -> None:
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise FileRequestError(400, f"invalid_{what}", f"The {what} contains a control character.", repr(value))
    if "\\" in value:
        raise FileRequestError(400, f"invalid_{what}", f"The {what} contains a backslash; use '/' between folders.",
                               value)


def check_filename(name: str) -> None:
    """Accept a file name as `/view` does: non-empty, not absolute, no `..` anywhere, no backslash or control char."""
    if not name:
        raise FileRequestError(400, "invalid_filename", "The filename is empty.")
    _reject_unsafe_characters(name, "filename")
    if name.startswith("/") or ".." in name:
        raise FileRequestError(400, "invalid_filename",
                               "The filename must be a name relative to its folder, without '..' or a leading '/'.",
                               name)


def check_subfolder(subfolder: str) -> None:
    """Accept a subfolder that is relative; whether it stays inside its base directory is `confined_path`'s job."""
    _reject_unsafe_characters(subfolder, "subfolder")
    if subfolder.startswith("/"):
        raise FileRequestError(400, "invalid_subfolder", "The subfolder must be relative to the type's directory.",
                               subfolder)


def check_upload_filename(name: str) -> None:
    """Accept an uploaded file's name only if it is one plain file name, never a path."""
    if not name:
        raise FileRequestError(400, "invalid_filename", "The uploaded file has no name.")
    _reject_unsafe_characters(name, "filename")
    if "/" in name or name in (".", ".."):
        raise FileRequestError(400, "invalid_filename",
                               "The uploaded file's name must be a plain file name, not a path; "
                               "put folders in the 'subfolder' field.", name)


def directory_for_type(file_type: str) -> str:
    """The base directory of `input`, `output` or `temp`; any other type is a 400."""
    directory = folder_paths.get_directory_by_type(file_type)
    if directory is None:
        raise FileRequestError(400, "invalid_type",
                               f"Unknown type {file_type!r}; expected one of: {', '.join(FILE_TYPES)}.")
    return directory


def is_inside(base_dir: str, path: str) -> bool:
    """Whether `path`, with every symlink resolved, is `base_dir` (also resolved) or lies below it."""
    base_real = os.path.realpath(base_dir)
    return os.path.commonpath((base_real, os.path.realpath(path))) == base_real


def confined_path(base_dir: str, *parts: str, status: int = 403) -> str:
    """`base_dir` joined with the relative `parts`, resolved to its real path; raises if that leaves `base_dir`."""
    path = os.path.realpath(os.path.join(base_dir, *parts))
    if not is_inside(base_dir, path):
        raise FileRequestError(status, "path_outside_directory",
                               "The requested path resolves outside the directory of its type "
                               "(through '..' or a symlink).", "/".join(part for part in parts if part))
    return path


@dataclass(frozen=True)
class ViewTarget:
    path: str  # real path of an existing regular file inside its type's directory
    name: str  # the name to show the client (basename of what it asked for)


def resolve_view_file(filename: str, file_type: str, subfolder: str | None) -> ViewTarget:
    """The file `/view` should answer with, following ComfyUI's order of checks; raises `FileRequestError`."""
    name, annotated_dir = folder_paths.annotated_filepath(filename)
    check_filename(name)
    base_dir = annotated_dir if annotated_dir is not None else directory_for_type(file_type)
    subfolder = subfolder or ""
    check_subfolder(subfolder)
    confined_path(base_dir, subfolder)
    # ComfyUI serves only the last component of the name from the (sub)folder.
    name = os.path.basename(name)
    path = confined_path(base_dir, subfolder, name)
    if not os.path.isfile(path):
        raise FileRequestError(404, "file_not_found", f"No file named {name!r} in the requested folder.", name)
    return ViewTarget(path=path, name=name)


def resolve_original_ref(original_ref: object) -> str:
    """The real path of the image a mask upload applies to, from `{filename, subfolder?, type?}` (type defaults to
    output, as in ComfyUI); raises `FileRequestError`."""
    if not isinstance(original_ref, dict) or not isinstance(original_ref.get("filename"), str):
        raise FileRequestError(400, "invalid_original_ref",
                               "original_ref must be a JSON object with a 'filename' string.")
    name, annotated_dir = folder_paths.annotated_filepath(original_ref["filename"])
    check_filename(name)
    base_dir = annotated_dir
    if base_dir is None:
        base_dir = directory_for_type(str(original_ref.get("type", "output")))
    subfolder = original_ref.get("subfolder") or ""
    if not isinstance(subfolder, str):
        raise FileRequestError(400, "invalid_subfolder", "original_ref.subfolder must be a string.")
    check_subfolder(subfolder)
    confined_path(base_dir, subfolder)
    path = confined_path(base_dir, subfolder, name)
    if not os.path.isfile(path):
        raise FileRequestError(404, "file_not_found", f"The original image {name!r} does not exist.", name)
    return path


# ---------------------------------------------------------------------------------------------------------------
# Uploads


@dataclass(frozen=True)
class UploadTarget:
    folder: str  # real path of the folder to store into (may not exist yet)
    filename: str  # the name the client sent
    overwrite: bool


def resolve_upload_target(base_dir: str, subfolder: str, filename: str, overwrite: bool) -> UploadTarget:
    """Where an upload goes; a subfolder escaping `base_dir` is a 400, as in ComfyUI."""
    check_upload_filename(filename)
    check_subfolder(subfolder)
    folder = confined_path(base_dir, os.path.normpath(subfolder), status=400)
    return UploadTarget(folder=folder, filename=filename, overwrite=overwrite)


def content_digest(stream: BinaryIO) -> str:
    """Hex digest of a whole binary stream with `--default-hashing-function`; leaves the stream at its start."""
    hasher = hashlib.new(args.default_hashing_function)
    stream.seek(0)
    while chunk := stream.read(CHUNK_BYTES):
        hasher.update(chunk)
    stream.seek(0)
    return hasher.hexdigest()


def _file_digest(path: str) -> str:
    with open(path, "rb") as stream:
        return content_digest(stream)


def choose_upload_name(target: UploadTarget, upload: BinaryIO) -> tuple[str, bool]:
    """(name to store under, whether that file already holds these exact bytes).

    Without overwrite, an existing file with the same content is reused; otherwise `name (1).ext`, `name (2).ext`...
    is tried until a free or identical one is found."""
    if target.overwrite:
        return target.filename, False
    stem, extension = os.path.splitext(target.filename)
    upload_digest: str | None = None
    name, counter = target.filename, 1
    while os.path.lexists(path := os.path.join(target.folder, name)):
        if os.path.isfile(path) and is_inside(target.folder, path):
            upload_digest = upload_digest or content_digest(upload)
            if _file_digest(path) == upload_digest:
                return name, True
        name, counter = f"{stem} ({counter}){extension}", counter + 1
    return name, False


def write_replacing(path: str, write: Callable[[BinaryIO], None]) -> None:
    """Write a file through a hidden sibling and rename it into place (comfy.file_writing), so a reader never
    sees half a file and a symlink already at `path` is replaced rather than written through."""
    write_whole(path, write)


def copy_upload(upload: BinaryIO) -> Callable[[BinaryIO], None]:
    """A writer that copies the uploaded bytes unchanged."""
    def write(stream: BinaryIO) -> None:
        upload.seek(0)
        while chunk := upload.read(CHUNK_BYTES):
            stream.write(chunk)
    return write


def store_upload(target: UploadTarget, upload: BinaryIO,
                 make_writer: Callable[[BinaryIO], Callable[[BinaryIO], None]] = copy_upload) -> str:
    """Store an upload (blocking: run it in a thread) and give the name it was stored under."""
    try:
        os.makedirs(target.folder, exist_ok=True)
        name, is_duplicate = choose_upload_name(target, upload)
        if not is_duplicate:
            write_replacing(os.path.join(target.folder, name), make_writer(upload))
    except OSError as error:
        if error.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST):
            raise FileRequestError(409, "path_conflict", "A folder or file of that name is in the way of the upload.",
                                   str(error))
        if error.errno in (errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ):
            raise FileRequestError(400, "invalid_filename",
                                   "The file name or subfolder cannot be used on this server's file system.",
                                   str(error))
        raise FileRequestError(500, "upload_failed", "The upload could not be stored.", str(error))
    return name


# ---------------------------------------------------------------------------------------------------------------
# Image re-encoding (blocking: run in a thread)


def _decodable_formats() -> list[str]:
    Image.init()
    return [name for name in DECODABLE_IMAGE_FORMATS if name in Image.OPEN]


def _open_image(path_or_stream: str | BinaryIO) -> Image.Image:
    """The image fully decoded; a file that is not an image in `DECODABLE_IMAGE_FORMATS`, is damaged, or has more
    pixels than Pillow's decompression-bomb limit (`Image.MAX_IMAGE_PIXELS`) is a 400."""
    try:
        image = Image.open(path_or_stream, formats=_decodable_formats())
    except Exception as error:  # Pillow's decoders raise many types on hostile input; all mean "not an image"
        raise FileRequestError(400, "invalid_image", "The file is not an image this server can decode.",
                               f"Expected one of: {', '.join(DECODABLE_IMAGE_FORMATS)}. {error}")
    try:
        width, height = image.size
        if Image.MAX_IMAGE_PIXELS is not None and width * height > Image.MAX_IMAGE_PIXELS:
            raise FileRequestError(400, "image_too_large", "The image has too many pixels to decode safely.",
                                   f"{width}x{height} is more than {Image.MAX_IMAGE_PIXELS} pixels.")
        image.load()
        return image
    except Exception as error:
        with image:  # releases a file Pillow opened itself; a caller's stream stays open
            pass
        if isinstance(error, FileRequestError):
            raise
        raise FileRequestError(400, "invalid_image", "The file is not an image this server can decode.", str(error))


def verify_image(stream: BinaryIO) -> None:
    """Raise a 400 `FileRequestError` unless the uploaded bytes decode as an image (blocking: run it in a thread).
    Leaves the stream open, at its start."""
    stream.seek(0)
    try:
        with _open_image(stream):
            pass
    finally:
        stream.seek(0)


def verify_media(stream: BinaryIO) -> None:
    """Raise a 400 `FileRequestError` unless the bytes are a container with an audio or video stream whose first
    frame decodes (and whose video frames are within Pillow's pixel limit). Blocking; leaves the stream at its
    start."""
    import av  # deferred: only media uploads need it

    stream.seek(0)
    try:
        with av.open(stream, mode="r") as container:
            streams = [item for item in container.streams if item.type in ("audio", "video")]
            if not streams:
                raise ValueError("it has no audio or video stream")
            for media in container.streams.video:
                pixels = (media.width or 0) * (media.height or 0)
                if Image.MAX_IMAGE_PIXELS is not None and pixels > Image.MAX_IMAGE_PIXELS:
                    raise FileRequestError(400, "media_too_large", "The video frames have too many pixels.",
                                           f"{media.width}x{media.height} is more than {Image.MAX_IMAGE_PIXELS}.")
            first = streams[0]
            if next(iter(container.decode(first)), None) is None:
                raise ValueError(f"its {first.type} stream has no frame that decodes")
    except FileRequestError:
        raise
    except Exception as error:  # FFmpeg raises many kinds on damaged or foreign input; all mean "not media"
        raise FileRequestError(400, "invalid_media", "The file is not audio or video this server can decode.",
                               f"{type(error).__name__}: {error}")
    finally:
        stream.seek(0)


def verify_upload(stream: BinaryIO, filename: str) -> None:
    """An image upload must decode as an image; one named like audio or video (MEDIA_EXTENSIONS) that is not an
    image must decode as media. Raises a 400 `FileRequestError` otherwise."""
    if not filename.lower().endswith(MEDIA_EXTENSIONS):
        verify_image(stream)
        return
    try:
        verify_image(stream)
    except FileRequestError as error:
        if error.status != 400 or error.error_type != "invalid_image":
            raise
        verify_media(stream)


def _png_bytes(image: Image.Image, **save_options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **save_options)
    return buffer.getvalue()


def preview_bytes(path_or_stream: str | BinaryIO, image_format: str, quality: int) -> bytes:
    """The image (a file, or image bytes in a stream) re-encoded as `webp` or `jpeg` at `quality` (0-100) for a
    light preview."""
    with _open_image(path_or_stream) as image:
        if image_format == "jpeg" and image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        elif image_format == "webp" and image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
        buffer = io.BytesIO()
        image.save(buffer, format=image_format.upper(), quality=max(0, min(100, quality)))
        return buffer.getvalue()


def rgb_png_bytes(path: str) -> bytes:
    """The image as an RGB PNG, alpha dropped."""
    with _open_image(path) as image:
        return _png_bytes(image.convert("RGB"))


def alpha_png_bytes(path: str) -> bytes:
    """A black RGBA PNG whose alpha is the source's alpha (RGBA sources) or fully opaque (others), as ComfyUI does."""
    with _open_image(path) as image:
        alpha = image.getchannel("A") if image.mode == "RGBA" else Image.new("L", image.size, 255)
        result = Image.new("RGBA", image.size)
        result.putalpha(alpha)
        return _png_bytes(result)


def mask_writer(original_path: str) -> Callable[[BinaryIO], Callable[[BinaryIO], None]]:
    """A `store_upload` writer maker: the original image's RGB with the uploaded image's alpha, saved as an RGBA PNG
    (compress level 4) that keeps the original's PNG text chunks."""
    def make_writer(upload: BinaryIO) -> Callable[[BinaryIO], None]:
        upload.seek(0)
        with _open_image(original_path) as original, _open_image(upload) as mask:
            text_chunks = PngImagePlugin.PngInfo()
            for key, value in getattr(original, "text", {}).items():
                text_chunks.add_text(key, value)
            if mask.size != original.size:
                raise FileRequestError(400, "invalid_image",
                                       f"The mask is {mask.size[0]}x{mask.size[1]} but the original image is "
                                       f"{original.size[0]}x{original.size[1]}; they must match.")
            composed = original.convert("RGBA")
            composed.putalpha(mask.convert("RGBA").getchannel("A"))
        encoded = _png_bytes(composed, compress_level=4, pnginfo=text_chunks)
        return lambda stream: stream.write(encoded)
    return make_writer
