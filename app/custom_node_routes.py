"""What loaded custom node packs give the web frontend besides nodes and scripts: translations (/i18n), example
workflows (/workflow_templates), global subgraphs (/global_subgraphs) and node replacements (/node_replacements).

Only packs that were imported are read (a pack that failed to load or was disabled contributes nothing), and only
files whose real path stays inside their pack's folder are read or served.

Node replacements tell the frontend which node can stand in for one that no longer exists (renamed, merged, fixed
typo), and how its inputs and outputs map. As in ComfyUI they come from a pack's `node_replacements.json` and from
`register_node_replacement` (the registry ComfyUI's `ComfyAPI().node_replacement.register` fills).
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

import folder_paths
from app.errors import json_error
from app.file_access import FileRequestError, check_filename, confined_path, is_inside

# The folders of a pack holding example workflows, in ComfyUI's order of preference (the first one found is used).
EXAMPLE_WORKFLOW_FOLDERS = ("example_workflows", "example", "examples", "workflow", "workflows")
# A pack's translations: locales/<language>/main.json merged at the top, the others under their own key.
I18N_MAIN_FILE = "main.json"
I18N_KEYED_FILES = ("nodeDefs.json", "commands.json", "settings.json")
SUBGRAPH_FOLDER = "subgraphs"
SUBGRAPH_SOURCE = "custom_node"
NODE_REPLACEMENTS_FILE = "node_replacements.json"


def custom_node_packs() -> list[tuple[str, str]]:
    """`(module name, folder)` of every loaded custom node pack that is a folder (not a single .py file) directly
    inside one of the `custom_nodes` folders, sorted by folder."""
    import nodes  # deferred: nodes imports torch and the node loader

    roots = [os.path.realpath(folder) for folder in folder_paths.get_folder_paths("custom_nodes")]
    packs = [(name, folder) for name, folder in nodes.LOADED_MODULE_DIRS.items()
             if os.path.realpath(os.path.dirname(os.path.abspath(folder))) in roots
             and os.path.realpath(folder) not in roots]
    return sorted(packs, key=lambda pack: pack[1])


def _files_inside(pack_dir: str, pattern: str) -> list[str]:
    """The regular files matching `pattern` below `pack_dir` whose real path stays inside the pack, sorted."""
    matches = glob.glob(os.path.join(glob.escape(pack_dir), pattern))
    return sorted(path for path in matches if os.path.isfile(path) and is_inside(pack_dir, path))


def _read_json_object(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError) as error:
        logging.warning("Skipped %s: %s", path, error)
        return None
    if not isinstance(data, dict):
        logging.warning("Skipped %s: it holds a JSON %s, not an object", path, type(data).__name__)
        return None
    return data


def deep_merge(base: dict, update: dict) -> dict:
    """`base` with `update` merged in: nested objects merge key by key, anything else in `update` wins."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def custom_node_translations() -> dict[str, dict]:
    """`{language: {main.json keys..., "nodeDefs": {...}, "commands": {...}, "settings": {...}}}` merged over
    every loaded pack's `locales/<language>/` folder."""
    translations: dict[str, dict] = {}
    for _, pack_dir in custom_node_packs():
        for language_dir in sorted(glob.glob(os.path.join(glob.escape(pack_dir), "locales", "*", ""))):
            language = os.path.basename(os.path.dirname(language_dir))
            if not is_inside(pack_dir, language_dir):
                continue
            language_entry = translations.get(language, {})
            main = os.path.join(language_dir, I18N_MAIN_FILE)
            if os.path.isfile(main) and is_inside(pack_dir, main):
                language_entry = deep_merge(language_entry, _read_json_object(main) or {})
            for keyed_file in I18N_KEYED_FILES:
                path = os.path.join(language_dir, keyed_file)
                if not os.path.isfile(path) or not is_inside(pack_dir, path):
                    continue
                key = keyed_file.removesuffix(".json")
                data = _read_json_object(path)
                if data:
                    previous = language_entry.get(key)
                    language_entry[key] = deep_merge(previous if isinstance(previous, dict) else {}, data)
            translations[language] = language_entry
    return translations


def example_workflow_folders() -> dict[str, str]:
    """`{pack module name: its example workflow folder}` for the loaded packs that have one."""
    folders = {}
    for name, pack_dir in custom_node_packs():
        for folder_name in EXAMPLE_WORKFLOW_FOLDERS:
            folder = os.path.join(pack_dir, folder_name)
            if os.path.isdir(folder) and is_inside(pack_dir, folder):
                folders[name] = folder
                break
    return folders


def example_workflows() -> dict[str, list[str]]:
    """`{pack module name: [workflow names]}`: the `.json` files of each pack's example folder, extension dropped."""
    listing = {}
    for name, folder in example_workflow_folders().items():
        names = [os.path.splitext(os.path.basename(path))[0] for path in _files_inside(folder, "*.json")]
        if names:
            listing[name] = names
    return listing


def global_subgraphs() -> dict[str, dict[str, Any]]:
    """`{id: {"source", "name", "info": {"node_pack"}, "path"}}` for every `<pack>/subgraphs/*.json`.

    The id is the SHA-256 of the source and the file's path, as in ComfyUI, so it stays the same across restarts.
    `path` is for the server only; the routes never send it.
    """
    entries = {}
    for _, pack_dir in custom_node_packs():
        for path in _files_inside(pack_dir, os.path.join(SUBGRAPH_FOLDER, "*.json")):
            path = path.replace("\\", "/")
            subgraph_id = hashlib.sha256(f"{SUBGRAPH_SOURCE}{path}".encode()).hexdigest()
            entries[subgraph_id] = {
                "source": SUBGRAPH_SOURCE,
                "name": os.path.splitext(os.path.basename(path))[0],
                "info": {"node_pack": "custom_nodes." + os.path.basename(pack_dir)},
                "path": path,
            }
    return entries


# ---------------------------------------------------------------------------------------------------------------
# Node replacements


def node_replacement_entry(replacement: Any) -> dict[str, Any]:
    """The JSON the frontend reads for one replacement: `new_node_id`, `old_node_id`, `old_widget_ids`,
    `input_mapping` (`[{"new_id", "old_id"} | {"new_id", "set_value"}]`) and `output_mapping`
    (`[{"new_idx", "old_idx"}]`), an empty mapping sent as null. `replacement` is a mapping with those keys or an
    object with those attributes (ComfyUI's `io.NodeReplace`); only the two node ids are required."""
    def get(name: str) -> Any:
        return replacement.get(name) if isinstance(replacement, dict) else getattr(replacement, name, None)

    new_node_id, old_node_id = get("new_node_id"), get("old_node_id")
    if not isinstance(new_node_id, str) or not new_node_id or not isinstance(old_node_id, str) or not old_node_id:
        raise ValueError(f"a node replacement needs 'new_node_id' and 'old_node_id' strings, got "
                         f"{new_node_id!r} and {old_node_id!r}")
    return {"new_node_id": new_node_id, "old_node_id": old_node_id, "old_widget_ids": get("old_widget_ids"),
            "input_mapping": list(get("input_mapping") or []) or None,
            "output_mapping": list(get("output_mapping") or []) or None}


@dataclass
class NodeReplacements:
    """`{old node class: [replacement entries]}`, in registration order. Registering the same (old, new) pair
    again changes nothing: the first registration wins, as in ComfyUI."""

    by_old_node: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def register(self, replacement: Any) -> None:
        """Add one replacement (see `node_replacement_entry`); raises `ValueError` when a node id is missing."""
        entry = node_replacement_entry(replacement)
        entries = self.by_old_node.setdefault(entry["old_node_id"], [])
        if all(known["new_node_id"] != entry["new_node_id"] for known in entries):
            entries.append(entry)

    def merged_with(self, other: NodeReplacements) -> NodeReplacements:
        merged = NodeReplacements({old: list(entries) for old, entries in self.by_old_node.items()})
        for entries in other.by_old_node.values():
            for entry in entries:
                merged.register(entry)
        return merged


# Filled by `register_node_replacement`: the registry ComfyUI's API gives custom nodes.
REGISTERED_NODE_REPLACEMENTS = NodeReplacements()


def register_node_replacement(replacement: Any) -> None:
    """Offer `replacement` (ComfyUI's `io.NodeReplace`, or a dict with its keys) to the frontend's missing-node
    dialog through GET /node_replacements."""
    REGISTERED_NODE_REPLACEMENTS.register(replacement)


def pack_node_replacements() -> NodeReplacements:
    """The replacements in each loaded pack's `node_replacements.json` (`{old node class: [entries]}`, an entry's
    `old_node_id` defaulting to its key). A file that is not a JSON object, and entries that are not objects with
    a `new_node_id`, are skipped with a warning that names the pack."""
    replacements = NodeReplacements()
    for name, pack_dir in custom_node_packs():
        path = os.path.join(pack_dir, NODE_REPLACEMENTS_FILE)
        if not os.path.isfile(path) or not is_inside(pack_dir, path):
            continue
        for old_node_id, entries in (_read_json_object(path) or {}).items():
            if not isinstance(entries, list):
                logging.warning("%s of %s: the value of '%s' is not a list of replacements; skipped",
                                NODE_REPLACEMENTS_FILE, name, old_node_id)
                continue
            for entry in entries:
                try:
                    if not isinstance(entry, dict):
                        raise ValueError(f"expected an object, got {entry!r}")
                    replacements.register({"old_node_id": old_node_id, **entry})
                except ValueError as error:
                    logging.warning("%s of %s: a replacement of '%s' skipped: %s", NODE_REPLACEMENTS_FILE, name,
                                    old_node_id, error)
    return replacements


def node_replacements() -> dict[str, list[dict[str, Any]]]:
    """What GET /node_replacements answers: the registered replacements, then those of the packs' files."""
    return REGISTERED_NODE_REPLACEMENTS.merged_with(pack_node_replacements()).by_old_node


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in entry.items() if key != "path"}


def add_custom_node_routes(routes: web.RouteTableDef) -> None:
    """Register /i18n, /workflow_templates, /workflow_templates/{module}/{name}, /global_subgraphs,
    /global_subgraphs/{id} and /node_replacements on `routes`."""

    @routes.get("/i18n")
    async def get_i18n(request: web.Request) -> web.Response:
        return web.json_response(await asyncio.to_thread(custom_node_translations))

    @routes.get("/workflow_templates")
    async def get_workflow_templates(request: web.Request) -> web.Response:
        return web.json_response(await asyncio.to_thread(example_workflows))

    @routes.get("/workflow_templates/{module}/{name:.+}")
    async def get_workflow_template_file(request: web.Request) -> web.StreamResponse:
        module, name = request.match_info["module"], request.match_info["name"]
        folder = example_workflow_folders().get(module)
        if folder is None:
            return json_error(404, "unknown_module", f"No loaded custom node pack '{module}' has example workflows.",
                              "GET /workflow_templates lists the packs and their workflows.")
        try:
            check_filename(name)
            path = confined_path(folder, name)
        except FileRequestError as error:
            return error.response()
        if not os.path.isfile(path):
            return json_error(404, "template_not_found", f"Pack '{module}' has no example workflow file '{name}'.",
                              "GET /workflow_templates lists the packs and their workflows.")
        return web.FileResponse(path)

    @routes.get("/global_subgraphs")
    async def get_global_subgraphs(request: web.Request) -> web.Response:
        entries = await asyncio.to_thread(global_subgraphs)
        return web.json_response({subgraph_id: _public(entry) for subgraph_id, entry in entries.items()})

    @routes.get("/global_subgraphs/{id}")
    async def get_global_subgraph(request: web.Request) -> web.Response:
        subgraph_id = request.match_info["id"]
        entry = (await asyncio.to_thread(global_subgraphs)).get(subgraph_id)
        if entry is None:
            return json_error(404, "subgraph_not_found", f"No global subgraph with id '{subgraph_id}'.",
                              "GET /global_subgraphs lists the ids.")
        try:
            with open(entry["path"], encoding="utf-8") as file:
                data = file.read()
        except (OSError, UnicodeDecodeError) as error:
            return json_error(500, "subgraph_unreadable", f"Global subgraph '{subgraph_id}' cannot be read.",
                              str(error))
        return web.json_response({**_public(entry), "data": data})

    @routes.get("/node_replacements")
    async def get_node_replacements(request: web.Request) -> web.Response:
        return web.json_response(await asyncio.to_thread(node_replacements))
