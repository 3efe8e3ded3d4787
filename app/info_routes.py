"""Read-only routes that describe the server's nodes, models and web extensions.

GET /object_info, /object_info/{node_class}, /embeddings, /models, /models/{folder}, /extensions and
/view_metadata/{folder_name}, plus the static `/extensions/<name>/` routes that serve custom nodes' web folders.
server.py registers these (and duplicates the non-static ones under /api).
"""

from __future__ import annotations

import glob
import json
import logging
import os
import urllib.parse

from aiohttp import web

import folder_paths
from app.errors import json_error
from comfy_execution.node_info import all_node_info, node_info

# ComfyUI reads at most this much safetensors header for /view_metadata.
_METADATA_HEADER_LIMIT = 1024 * 1024


def _node_registry():
    import nodes  # deferred: nodes imports torch and the node loader

    return nodes


def _script_urls(folder: str, url_prefix: str) -> list[str]:
    """`<url_prefix>/<relative path>` for every .js file below `folder`, sorted."""
    files = glob.glob(os.path.join(glob.escape(folder), "**", "*.js"), recursive=True)
    return [url_prefix + "/" + os.path.relpath(path, folder).replace(os.sep, "/") for path in sorted(files)]


def extension_script_urls(web_root: str | None = None) -> list[str]:
    """The JS files the frontend should load: `<web_root>/extensions/**/*.js`, then each custom node web dir's
    scripts as `/extensions/<url-quoted name>/<relative path>`."""
    urls: list[str] = []
    if web_root:
        urls += _script_urls(os.path.join(web_root, "extensions"), "/extensions")
    for name, web_dir in _node_registry().EXTENSION_WEB_DIRS.items():
        urls += _script_urls(web_dir, "/extensions/" + urllib.parse.quote(name))
    return urls


def safetensors_file_metadata(folder_name: str, filename: str) -> dict | None:
    """The `__metadata__` of a .safetensors model file in a model folder; None if any step fails."""
    if not filename.endswith(".safetensors"):
        return None
    path = folder_paths.get_full_path(folder_name, filename)
    if path is None:
        return None
    from comfy.utils import safetensors_header  # deferred: comfy.utils imports torch

    try:
        header = safetensors_header(path, max_size=_METADATA_HEADER_LIMIT)
        if header is None:
            return None
        metadata = json.loads(header).get("__metadata__")
    except (OSError, ValueError, AttributeError) as error:
        logging.warning("Cannot read safetensors metadata of %s: %s", path, error)
        return None
    return metadata if isinstance(metadata, dict) else None


def add_info_routes(routes: web.RouteTableDef, web_root: str | None = None) -> None:
    """Register the node/model/extension description routes on `routes` (`web_root`: the frontend's folder,
    whose `extensions/**/*.js` are listed by /extensions)."""

    @routes.get("/object_info")
    async def get_object_info(request: web.Request) -> web.Response:
        return web.json_response(all_node_info())

    @routes.get("/object_info/{node_class}")
    async def get_object_info_node(request: web.Request) -> web.Response:
        node_class = request.match_info["node_class"]
        if node_class not in _node_registry().NODE_CLASS_MAPPINGS:
            return web.json_response({})
        with folder_paths.cache_helper:
            try:
                info = node_info(node_class)
            except Exception as error:
                logging.exception("Cannot describe node '%s'", node_class)
                return json_error(500, "node_info_failed", f"Node '{node_class}' cannot describe its inputs: {error}",
                                  details="Its INPUT_TYPES() raised; see the server log for the traceback.")
        return web.json_response({node_class: info})

    @routes.get("/embeddings")
    async def get_embeddings(request: web.Request) -> web.Response:
        names = folder_paths.get_filename_list("embeddings")
        return web.json_response([os.path.splitext(name)[0] for name in names])

    @routes.get("/models")
    async def get_model_folders(request: web.Request) -> web.Response:
        return web.json_response(list(folder_paths.folder_names_and_paths))

    @routes.get("/models/{folder}")
    async def get_models(request: web.Request) -> web.Response:
        folder = request.match_info["folder"]
        if folder not in folder_paths.folder_names_and_paths:
            return json_error(404, "unknown_model_folder", f"No model folder named '{folder}'.",
                              details="GET /models lists the folder names.")
        return web.json_response(folder_paths.get_filename_list(folder))

    @routes.get("/extensions")
    async def get_extensions(request: web.Request) -> web.Response:
        return web.json_response(extension_script_urls(web_root))

    @routes.get("/view_metadata/{folder_name}")
    async def view_metadata(request: web.Request) -> web.Response:
        folder_name = request.match_info["folder_name"]
        filename = request.rel_url.query.get("filename", "")
        metadata = safetensors_file_metadata(folder_name, filename)
        if metadata is None:
            return json_error(404, "metadata_not_found",
                              f"No safetensors metadata for '{filename}' in model folder '{folder_name}'.",
                              details="filename must name an existing .safetensors file of that folder "
                                      "whose header has __metadata__.")
        return web.json_response(metadata)


class _UnquotedPrefixStaticResource(web.StaticResource):
    """A static resource whose prefix may hold spaces or non-ASCII letters.

    aiohttp stores a static prefix percent-encoded but matches it against the decoded request path, so
    "/extensions/my pack" would never match; this keeps the prefix decoded.
    """

    def __init__(self, prefix: str, directory: str, **kwargs) -> None:
        super().__init__(prefix, directory, **kwargs)
        self._prefix = prefix
        self._prefix2 = prefix + "/"


def add_extension_static_routes(app: web.Application) -> None:
    """Serve each custom node web folder (`nodes.EXTENSION_WEB_DIRS`) at `/extensions/<name>/`.

    Symlinks are not followed, so nothing outside the registered folders is reachable.
    """
    for name, web_dir in _node_registry().EXTENSION_WEB_DIRS.items():
        prefix = "/extensions/" + name
        if urllib.parse.quote(name) == name:
            app.router.add_static(prefix, web_dir, follow_symlinks=False)
        else:
            app.router.register_resource(_UnquotedPrefixStaticResource(prefix, web_dir, follow_symlinks=False))
