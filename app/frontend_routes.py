"""Serving the web frontend: its index page and static files at `/`, and the workflow templates at `/templates/`.

The frontend is the `comfyui-frontend-package` wheel's `static` folder, or the build named by `--front-end-root`.
Without either, server.py keeps its plain-text answer at `/` and the API works alone. The templates come from the
optional `comfyui-workflow-templates` package; without it the template index is empty, so the frontend's template
browser opens with nothing in it instead of failing.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp import web

from app.errors import json_error
from app.file_access import FileRequestError, check_filename, confined_path
from comfy.cli_args import args

FRONTEND_PACKAGE = "comfyui_frontend_package"
TEMPLATES_PACKAGE = "comfyui_workflow_templates"
# The split layout of comfyui-workflow-templates (0.2 and later): a manifest of assets in `_core`, the workflow
# JSON and the index files in `_json`.
TEMPLATES_CORE_PACKAGE = "comfyui_workflow_templates_core"
TEMPLATES_JSON_PACKAGE = "comfyui_workflow_templates_json"

NO_CACHE_HEADERS = {"Cache-Control": "no-cache", "Pragma": "no-cache", "Expires": "0"}
# What the template browser gets when no templates are installed: an empty list of categories for the index
# (`index.json`, or `index.<locale>.json`), no provider logos for `index_logo.json`.
_EMPTY_TEMPLATE_INDEX = re.compile(r"index(\.[A-Za-z_-]+)?\.json")
_EMPTY_LOGO_INDEX = "index_logo.json"


def installed_frontend_root() -> str | None:
    """The `static` folder of the installed comfyui-frontend-package, or None when it is not installed."""
    if importlib.util.find_spec(FRONTEND_PACKAGE) is None:
        return None
    package = importlib.import_module(FRONTEND_PACKAGE)
    root = os.path.join(os.path.dirname(os.path.abspath(package.__file__ or "")), "static")
    return root if os.path.isfile(os.path.join(root, "index.html")) else None


def frontend_root() -> str | None:
    """The folder the frontend is served from: `--front-end-root` (cli_args checked that it holds index.html),
    else the installed package's; None when there is no frontend to serve."""
    if args.front_end_root:
        return os.path.abspath(args.front_end_root)
    return installed_frontend_root()


def describe_frontend(root: str | None) -> str:
    """One log line saying which frontend is served."""
    if root is None:
        return ("Web frontend: none (pip install comfyui-frontend-package, or --front-end-root DIR); "
                "/ answers in plain text and the HTTP API works alone")
    if args.front_end_root:
        return f"Web frontend: {root} (--front-end-root)"
    version = getattr(importlib.import_module(FRONTEND_PACKAGE), "__version__", "unknown version")
    return f"Web frontend: comfyui-frontend-package {version}"


def add_frontend_routes(app: web.Application, root: str) -> None:
    """Serve `root/index.html` at `/` (never cached, so a new frontend is picked up at once) and every other file
    of `root` below `/`. Call this last: its catch-all route answers every GET path no route before it took.

    A file is served only if its real path (symlinks resolved) stays inside `root`; anything else is a JSON 404
    (or a 400 for a path with `..` or a backslash).
    """
    index_path = os.path.join(root, "index.html")

    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(index_path, headers=NO_CACHE_HEADERS)

    async def static_file(request: web.Request) -> web.StreamResponse:
        name = request.match_info["path"]
        try:
            check_filename(name)
            path = confined_path(root, name, status=404)
        except FileRequestError as error:
            return error.response()
        if not os.path.isfile(path):
            return json_error(404, "not_found", f"No file or route '/{name}'.",
                              "Not a route of the API, and not a file of the web frontend.")
        return web.FileResponse(path)

    app.router.add_get("/", index)
    app.router.add_get("/{path:.+}", static_file)


# ---------------------------------------------------------------------------------------------------------------
# Workflow templates


@dataclass
class TemplateFiles:
    """Where the files below `/templates/` are: `assets` maps a relative name straight to its file (the split
    packages' manifest), `folders` are searched in order for anything else (index files, the legacy layout)."""

    folders: list[str] = field(default_factory=list)
    assets: dict[str, str] = field(default_factory=dict)

    @property
    def installed(self) -> bool:
        return bool(self.folders or self.assets)

    def find(self, name: str) -> str | None:
        """The real path of the file `name` (already checked to be a plain relative name), or None."""
        path = self.assets.get(name)
        if path is not None and os.path.isfile(path):
            return path
        for folder in self.folders:
            try:
                candidate = confined_path(folder, name)
            except FileRequestError:
                continue
            if os.path.isfile(candidate):
                return candidate
        return None


def _package_folder(package: str, subfolder: str) -> str | None:
    if importlib.util.find_spec(package) is None:
        return None
    module = importlib.import_module(package)
    folder = os.path.join(os.path.dirname(os.path.abspath(module.__file__ or "")), subfolder)
    return folder if os.path.isdir(folder) else None


def _manifest_assets(core: object) -> Iterable[tuple[str, str]]:
    try:
        yield from core.iter_assets()  # type: ignore[attr-defined]
    except (OSError, KeyError, ValueError) as error:  # a media bundle not installed: its assets are missing
        logging.warning("Some workflow template files are not installed: %s", error)


def installed_template_files() -> TemplateFiles:
    """The files of the installed comfyui-workflow-templates, in either of its layouts; empty when absent."""
    files = TemplateFiles()
    try:
        if importlib.util.find_spec(TEMPLATES_CORE_PACKAGE) is not None:
            files.assets = dict(_manifest_assets(importlib.import_module(TEMPLATES_CORE_PACKAGE)))
            files.folders += [folder for folder in (_package_folder(TEMPLATES_JSON_PACKAGE, "templates"),
                                                    _package_folder(TEMPLATES_CORE_PACKAGE, "templates")) if folder]
        if importlib.util.find_spec(TEMPLATES_PACKAGE) is not None:
            legacy = getattr(importlib.import_module(TEMPLATES_PACKAGE), "get_templates_path", None)
            folder = legacy() if callable(legacy) else _package_folder(TEMPLATES_PACKAGE, "templates")
            if folder and os.path.isdir(folder) and folder not in files.folders:
                files.folders.append(folder)
    except ImportError as error:
        logging.warning("comfyui-workflow-templates is installed but cannot be imported (%s); "
                        "the template browser will be empty", error)
        return TemplateFiles()
    return files


def add_template_routes(app: web.Application, files: TemplateFiles | None = None) -> None:
    """GET /templates/{name}: a file of the installed workflow templates; without them, an empty index."""
    files = installed_template_files() if files is None else files

    async def template_file(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        try:
            check_filename(name)
        except FileRequestError as error:
            return error.response()
        path = files.find(name)
        if path is not None:
            return web.FileResponse(path)
        if not files.installed:
            if _EMPTY_TEMPLATE_INDEX.fullmatch(name):
                return web.json_response([])
            if name == _EMPTY_LOGO_INDEX:
                return web.json_response({})
        hint = ("No workflow templates are installed (pip install comfyui-workflow-templates)."
                if not files.installed else "The installed workflow templates have no such file.")
        return json_error(404, "template_not_found", f"No template file '{name}'.", hint)

    app.router.add_get("/templates/{name:.+}", template_file)
