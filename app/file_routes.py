"""The file routes: GET `/view` and POST `/upload/image`, `/upload/mask`, with ComfyUI's wire format.

Handlers parse the request, call `app.file_access` (path confinement, storage, image re-encoding) and answer. Every
refusal answers ComfyUI's JSON error shape; blocking disk and PIL work runs in a thread.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from app import file_access
from app.errors import json_error
from app.file_access import FileRequestError
from app.request_limits import JsonBodyError, parse_json_body

# The only types /view lets a browser show: media it displays or plays but never runs. Everything else (HTML, SVG,
# XML/XHTML, scripts, styles, PDFs, text, unknown types) goes out as an opaque download, so a page or script that a
# user or a node put in a folder can never run with the server's origin. Keyed by lowercase extension rather than
# `mimetypes`, whose answers depend on the machine's mime.types file. JSON is safe with `nosniff`: browsers show
# it as text and never run it as script.
INLINE_MEDIA_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif",
    ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff", ".avif": "image/avif",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mov": "video/quicktime",
    ".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg", ".opus": "audio/opus",
    ".m4a": "audio/mp4", ".aac": "audio/aac",
    ".json": "application/json",
}
DOWNLOAD_TYPE = "application/octet-stream"
PREVIEW_FORMATS = ("webp", "jpeg")
DEFAULT_PREVIEW_QUALITY = 90


def _view_headers(name: str, attachment: bool = False) -> dict[str, str]:
    """ComfyUI's `Content-Disposition: filename="<name>"` (shown inline), or an attachment; always `nosniff`, so no
    browser second-guesses the type."""
    quoted = name.replace('"', '\\"')
    disposition = f'attachment; filename="{quoted}"' if attachment else f'filename="{quoted}"'
    return {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"}


def parse_preview(preview: str, channel: str) -> tuple[str, int]:
    """(format, quality) from `preview=fmt;quality`: unknown formats, or a channel with alpha, fall back to webp."""
    parts = preview.split(";")
    image_format = parts[0] if parts[0] in PREVIEW_FORMATS and "a" not in channel else "webp"
    quality = int(parts[-1]) if parts[-1].isascii() and parts[-1].isdigit() else DEFAULT_PREVIEW_QUALITY
    return image_format, quality


def served_content_type(name: str) -> str:
    """The Content-Type /view gives a file: its media type if it is in `INLINE_MEDIA_TYPES`, else a download."""
    return INLINE_MEDIA_TYPES.get(os.path.splitext(name)[1].lower(), DOWNLOAD_TYPE)


async def view(request: web.Request) -> web.StreamResponse:
    query = request.rel_url.query
    if "filename" not in query:
        return json_error(404, "missing_filename", "Pass the file to view as the 'filename' query parameter.")
    try:
        target = await asyncio.to_thread(file_access.resolve_view_file, query["filename"],
                                         query.get("type", "output"), query.get("subfolder"))
        return await _view_answer(target, query.get("preview"), query.get("channel"))
    except FileRequestError as error:
        return error.response()


async def _view_answer(target: file_access.ViewTarget, preview: str | None,
                       channel: str | None) -> web.StreamResponse:
    """The file itself, or a re-encoded PNG/WebP/JPEG of it when a channel or preview is asked for."""
    headers = _view_headers(target.name)
    if preview is not None:
        image_format, quality = parse_preview(preview, channel or "")
        body = await asyncio.to_thread(file_access.preview_bytes, target.path, image_format, quality)
        return web.Response(body=body, content_type=f"image/{image_format}", headers=headers)
    if channel == "rgb":
        body = await asyncio.to_thread(file_access.rgb_png_bytes, target.path)
        return web.Response(body=body, content_type="image/png", headers=headers)
    if channel == "a":
        body = await asyncio.to_thread(file_access.alpha_png_bytes, target.path)
        return web.Response(body=body, content_type="image/png", headers=headers)
    content_type = served_content_type(target.name)
    headers = _view_headers(target.name, attachment=content_type == DOWNLOAD_TYPE)
    headers["Content-Type"] = content_type
    return web.FileResponse(target.path, headers=headers)


@dataclass(frozen=True)
class UploadRequest:
    form: MultiDictProxy
    upload: web.FileField
    file_type: str
    subfolder: str  # as the client sent it; echoed back in the answer
    target: file_access.UploadTarget

    def answer(self, stored_name: str) -> web.Response:
        return web.json_response({"name": stored_name, "subfolder": self.subfolder, "type": self.file_type})


async def read_upload_request(request: web.Request, allow_media: bool = False) -> UploadRequest:
    """The uploaded file, its type and where it goes, from the multipart form; raises `FileRequestError`. The file
    must decode as an image, or with `allow_media` also as audio or video when it is named like them."""
    try:
        form = await request.post()
    except (ValueError, HttpProcessingError) as error:  # malformed multipart: bad headers, bad encoding
        raise FileRequestError(400, "invalid_form", "The body must be a multipart form with an 'image' file.",
                               str(error))
    upload = form.get("image")
    if not isinstance(upload, web.FileField):
        raise FileRequestError(400, "missing_image", "The multipart form has no 'image' file field.")
    file_type, subfolder = form.get("type", "input"), form.get("subfolder", "")
    if not isinstance(file_type, str) or not isinstance(subfolder, str):
        raise FileRequestError(400, "invalid_form", "The 'type' and 'subfolder' fields must be text, not files.")
    base_dir = file_access.directory_for_type(file_type)
    overwrite = str(form.get("overwrite", "")) in ("true", "1")
    target = file_access.resolve_upload_target(base_dir, subfolder, upload.filename or "", overwrite)
    if allow_media:
        await asyncio.to_thread(file_access.verify_upload, upload.file, upload.filename or "")
    else:
        await asyncio.to_thread(file_access.verify_image, upload.file)
    return UploadRequest(form=form, upload=upload, file_type=file_type, subfolder=subfolder, target=target)


def parse_original_ref(value: object) -> object:
    if value is None:
        raise FileRequestError(400, "invalid_original_ref", "A mask upload needs an 'original_ref' form field.")
    try:
        return parse_json_body(str(value))
    except JsonBodyError as error:
        raise FileRequestError(400, "invalid_original_ref", "original_ref is not valid JSON.", str(error))


async def upload_image(request: web.Request) -> web.Response:
    try:
        upload = await read_upload_request(request, allow_media=True)
        stored_name = await asyncio.to_thread(file_access.store_upload, upload.target, upload.upload.file)
    except FileRequestError as error:
        return error.response()
    return upload.answer(stored_name)


async def upload_mask(request: web.Request) -> web.Response:
    try:
        upload = await read_upload_request(request)
        reference = parse_original_ref(upload.form.get("original_ref"))
        original_path = await asyncio.to_thread(file_access.resolve_original_ref, reference)
        stored_name = await asyncio.to_thread(file_access.store_upload, upload.target, upload.upload.file,
                                              file_access.mask_writer(original_path))
    except FileRequestError as error:
        return error.response()
    return upload.answer(stored_name)


def add_file_routes(routes: web.RouteTableDef) -> None:
    """Register GET /view, POST /upload/image and POST /upload/mask on `routes` (the server mirrors them under /api)."""
    routes.get("/view")(view)
    routes.post("/upload/image")(upload_image)
    routes.post("/upload/mask")(upload_mask)
