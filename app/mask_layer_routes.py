"""GET /files/mask-layers?filename=NAME: the layer files the mask editor saved together with an input image, so
that reopening the editor restores its mask and paint layers.

The mask editor uploads each save as four PNGs named by one timestamp: `clipspace-mask-<t>.png`,
`clipspace-paint-<t>.png`, `clipspace-painted-<t>.png` and `clipspace-painted-masked-<t>.png`, in the input
folder's `clipspace/` subfolder (older frontends) or next to the image. Given any one of them, this answers the names
of those that exist: `{"mask", "paint", "painted", "painted_masked"}`.
"""

from __future__ import annotations

import os
import re

from aiohttp import web

import folder_paths
from app.errors import json_error
from app.file_access import FileRequestError, check_filename, confined_path, is_inside

CLIPSPACE_SUBFOLDER = "clipspace"
LAYER_NAME = re.compile(r"clipspace-(?:mask|paint|painted|painted-masked)-(\d+)\.png")
LAYER_PREFIXES = {"mask": "clipspace-mask-", "paint": "clipspace-paint-", "painted": "clipspace-painted-",
                  "painted_masked": "clipspace-painted-masked-"}
INPUT_ANNOTATION = " [input]"


def mask_layers(filename: str) -> dict[str, str] | None:
    """The existing layer files of the mask editor save that `filename` (`[subfolder/]clipspace-...-<t>.png`,
    optionally annotated ` [input]`) belongs to; None when it names no layer file that exists.
    Raises FileRequestError for a name that is not a plain relative path inside the input folder."""
    name = filename.removesuffix(INPUT_ANNOTATION)
    check_filename(name)
    subfolder, base_name = os.path.split(name)
    match = LAYER_NAME.fullmatch(base_name)
    if match is None:
        return None
    input_dir = folder_paths.get_input_directory()
    for folder in dict.fromkeys((subfolder, CLIPSPACE_SUBFOLDER)):
        directory = confined_path(input_dir, folder) if folder else os.path.realpath(input_dir)
        layers = {}
        for key, prefix in LAYER_PREFIXES.items():
            layer_name = f"{prefix}{match.group(1)}.png"
            path = os.path.join(directory, layer_name)
            if os.path.isfile(path) and is_inside(directory, path):
                layers[key] = layer_name
        if layers:
            return layers
    return None


def add_mask_layer_routes(routes: web.RouteTableDef) -> None:
    @routes.get("/files/mask-layers")
    async def get_mask_layers(request: web.Request) -> web.Response:
        filename = request.rel_url.query.get("filename", "")
        if not filename:
            return json_error(400, "missing_filename", "filename is required",
                              "Pass ?filename=<an image the mask editor saved>.")
        try:
            layers = mask_layers(filename)
        except FileRequestError as error:
            return error.response()
        if layers is None:
            return json_error(404, "mask_layers_not_found", f"No mask editor layers for '{filename}'.",
                              "Layers are the clipspace-mask/paint/painted/painted-masked-<timestamp>.png files the "
                              "mask editor saves in the input folder.")
        return web.json_response(layers)
