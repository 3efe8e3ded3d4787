"""The model library panel's routes: GET /experiment/models (the model folders), /experiment/models/{folder} (the
model files with sizes and times) and /experiment/models/preview/{folder}/{path_index}/{filename} (a model's
preview image as WEBP).

A preview is an image file next to the model (`<model>.png`, `<model>.preview.webp`, ...) whose real path stays
inside the model folder, or the first cover image in a .safetensors header (`ssmd_cover_images`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import logging
import os
from typing import Any

from aiohttp import web

import folder_paths
from app.errors import json_error
from app.file_access import FileRequestError, check_filename, confined_path, is_inside, preview_bytes

# Folders that hold no models; the frontend hides them too.
HIDDEN_FOLDERS = ("configs", "custom_nodes")
EXCLUDED_DIR_NAMES = (".git",)
PREVIEW_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".preview.png", ".preview.jpg", ".preview.jpeg",
                    ".preview.webp")
PREVIEW_QUALITY = 90
# How much of a .safetensors header is read looking for cover images.
COVER_HEADER_LIMIT = 32 * 1024 * 1024


def model_folders() -> list[dict[str, Any]]:
    """`[{"name": folder name, "folders": [search paths]}]` for every model folder."""
    return [{"name": name, "folders": folder_paths.get_folder_paths(name)}
            for name in folder_paths.folder_names_and_paths if name not in HIDDEN_FOLDERS]


def model_files(folder_name: str) -> list[dict[str, Any]]:
    """`[{"name": path relative to its search folder, "pathIndex": which search folder, "modified", "created"
    (epoch seconds), "size" (bytes)}]` for the model files (ComfyUI's model extensions, no hidden files) of a folder
    name that exists."""
    files = []
    for path_index, base in enumerate(folder_paths.get_folder_paths(folder_name)):
        relative_paths, _ = folder_paths.recursive_search(base, excluded_dir_names=EXCLUDED_DIR_NAMES)
        for relative in folder_paths.filter_files_extensions(relative_paths, folder_paths.supported_pt_extensions):
            if any(part.startswith(".") for part in relative.split(os.sep)):
                continue
            full_path = os.path.join(base, relative)
            try:
                stat = os.stat(full_path)
            except OSError:  # removed while listing, or a dangling link
                continue
            files.append({"name": relative.replace(os.sep, "/"), "pathIndex": path_index,
                          "modified": stat.st_mtime, "created": stat.st_ctime, "size": stat.st_size})
    return files


def _cover_image(model_path: str) -> bytes | None:
    """The first `ssmd_cover_images` entry (base64) of a .safetensors header, decoded; None if there is none."""
    if not model_path.endswith(".safetensors"):
        return None
    from comfy.utils import safetensors_header  # deferred: comfy.utils imports torch

    try:
        header = safetensors_header(model_path, max_size=COVER_HEADER_LIMIT)
        metadata = json.loads(header).get("__metadata__") if header else None
        covers = json.loads(metadata.get("ssmd_cover_images", "[]")) if isinstance(metadata, dict) else []
        if isinstance(covers, list) and covers and isinstance(covers[0], str):
            return base64.b64decode(covers[0], validate=True)
    except (OSError, ValueError, AttributeError, binascii.Error) as error:
        logging.warning("Cannot read the cover image of %s: %s", model_path, error)
    return None


def model_preview(folder_name: str, path_index: int, filename: str) -> bytes | None:
    """The WEBP preview of model `filename` in search folder `path_index` of `folder_name`, or None if it has none.
    Raises FileRequestError for a name that leaves the folder."""
    base = folder_paths.get_folder_paths(folder_name)[path_index]
    check_filename(filename)
    model_path = confined_path(base, filename)
    stem = os.path.splitext(model_path)[0]
    for suffix in PREVIEW_SUFFIXES:
        candidate = stem + suffix
        if os.path.isfile(candidate) and is_inside(base, candidate):
            try:
                return preview_bytes(candidate, "webp", PREVIEW_QUALITY)
            except FileRequestError as error:
                logging.warning("Skipped model preview %s: %s", candidate, error.message)
    if os.path.isfile(model_path):
        cover = _cover_image(model_path)
        if cover is not None:
            try:
                return preview_bytes(io.BytesIO(cover), "webp", PREVIEW_QUALITY)
            except FileRequestError as error:
                logging.warning("Skipped the cover image of %s: %s", model_path, error.message)
    return None


def _unknown_folder(folder_name: str) -> web.Response:
    return json_error(404, "unknown_model_folder", f"No model folder named '{folder_name}'.",
                      "GET /experiment/models lists the folder names.")


def add_model_routes(routes: web.RouteTableDef) -> None:
    """Register the /experiment/models routes on `routes`."""

    @routes.get("/experiment/models")
    async def get_model_folders(request: web.Request) -> web.Response:
        return web.json_response(model_folders())

    @routes.get("/experiment/models/{folder}")
    async def get_model_files(request: web.Request) -> web.Response:
        folder_name = request.match_info["folder"]
        if folder_name not in folder_paths.folder_names_and_paths or folder_name in HIDDEN_FOLDERS:
            return _unknown_folder(folder_name)
        return web.json_response(await asyncio.to_thread(model_files, folder_name))

    @routes.get("/experiment/models/preview/{folder}/{path_index}/{filename:.+}")
    async def get_model_preview(request: web.Request) -> web.Response:
        folder_name = request.match_info["folder"]
        filename = request.match_info["filename"]
        if folder_name not in folder_paths.folder_names_and_paths or folder_name in HIDDEN_FOLDERS:
            return _unknown_folder(folder_name)
        search_folders = folder_paths.get_folder_paths(folder_name)
        try:
            path_index = int(request.match_info["path_index"])
        except ValueError:
            path_index = -1
        if not 0 <= path_index < len(search_folders):
            return json_error(404, "unknown_path_index",
                              f"Model folder '{folder_name}' has no search folder {request.match_info['path_index']}.",
                              f"pathIndex is 0 to {len(search_folders) - 1}, as GET /experiment/models/{folder_name} "
                              "gives it.")
        try:
            preview = await asyncio.to_thread(model_preview, folder_name, path_index, filename)
        except FileRequestError as error:
            return error.response()
        if preview is None:
            return json_error(404, "preview_not_found", f"Model '{filename}' has no preview image.",
                              "A preview is <model name>.png (or .jpg, .webp, .preview.png, ...) next to the model, "
                              "or a cover image in its .safetensors metadata.")
        return web.Response(body=preview, content_type="image/webp")
