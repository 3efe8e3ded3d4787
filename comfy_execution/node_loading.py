"""Importing node modules (comfy_extras, API nodes, custom nodes) into the registries of `nodes`.

A node module is a `.py` file or a package folder with `__init__.py` that defines `NODE_CLASS_MAPPINGS` (and
optionally `NODE_DISPLAY_NAME_MAPPINGS`, `WEB_DIRECTORY`), or else a V3 `comfy_entrypoint()` (sync or async)
returning a `comfy_api.latest.ComfyExtension` whose `get_node_list()` gives `io.ComfyNode` classes, registered
under their schemas' node ids. Loading one never stops the server: any failure is logged with its traceback and
the module is reported as "IMPORT FAILED" (a V3 node whose schema is invalid fails its module from that node on,
the nodes before it staying registered, as in ComfyUI). `nodes.py` re-exports `init_extra_nodes` and
`load_custom_node` from here under ComfyUI's names.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import sys
import time
import traceback
from collections.abc import Set
from types import ModuleType

import folder_paths
from comfy.cli_args import args
from comfy_api.internal.async_to_sync import AsyncToSyncConverter

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMFY_EXTRAS_DIR = os.path.join(_REPO_ROOT, "comfy_extras")
COMFY_API_NODES_DIR = os.path.join(_REPO_ROOT, "comfy_api_nodes")


def _node_registry() -> ModuleType:
    import nodes  # deferred: nodes imports this module lazily, and imports torch

    return nodes


def get_module_name(module_path: str) -> str:
    """The name a node module is known by: the folder name, or the file name without `.py`."""
    name = os.path.basename(os.path.normpath(module_path))
    if os.path.isfile(module_path):
        name = os.path.splitext(name)[0]
    return name


def _sys_module_key(module_path: str) -> str:
    """A sys.modules key built from the full path: unique per module, and free of dots so relative imports in a
    package resolve against it (dashes and spaces are fine)."""
    path = os.path.abspath(module_path)
    if os.path.isfile(path):
        path = os.path.splitext(path)[0]
    return path.replace(".", "_x_")


def _allowed_by_flags(entry_name: str) -> bool:
    if args.disable_all_custom_nodes and entry_name not in (args.whitelist_custom_nodes or []):
        return False
    return True


def _log_times_table(title: str, times: list[tuple[float, str, bool]], failure_label: str) -> None:
    if not times:
        return
    lines = [f"\n{title}"]
    for seconds, path, ok in sorted(times):
        lines.append(f"{seconds:6.1f} seconds{'' if ok else f' ({failure_label})'}: {path}")
    logging.info("\n".join(lines) + "\n")


def _register_pyproject_web_dir(module_path: str) -> None:
    """`[tool.comfy] web = "dir"` in a package's pyproject.toml registers that dir under the project's name."""
    pyproject = os.path.join(module_path, "pyproject.toml")
    if not os.path.isfile(pyproject):
        return
    try:
        import tomllib  # Python 3.11+; deferred so 3.10 can still load packs without pyproject web dirs
    except ImportError:
        logging.warning("Python %s cannot read %s (tomllib needs 3.11+); its [tool.comfy] web folder is not "
                        "registered", sys.version.split()[0], pyproject)
        return
    try:
        with open(pyproject, "rb") as handle:
            project_config = tomllib.load(handle)
    except (OSError, ValueError) as error:
        logging.warning("Unable to parse %s: %s", pyproject, error)
        return
    web_dir_name = project_config.get("tool", {}).get("comfy", {}).get("web")
    if not isinstance(web_dir_name, str) or not web_dir_name:
        return
    web_dir_path = os.path.abspath(os.path.join(module_path, web_dir_name))
    if os.path.isdir(web_dir_path):
        project_name = project_config.get("project", {}).get("name") or get_module_name(module_path)
        _node_registry().EXTENSION_WEB_DIRS[project_name] = web_dir_path
        logging.info("Automatically register web folder %s for %s", web_dir_name, project_name)


def load_custom_node(module_path: str, ignore: Set[str] = frozenset(), module_parent: str = "custom_nodes") -> bool:
    """Import one node module and merge its nodes into `nodes.NODE_CLASS_MAPPINGS`; True on success.

    `module_path` is a `.py` file or a package folder with `__init__.py`. Class names in `ignore` (the core
    nodes, when loading custom packs) are not overridden. Each registered class gets
    `RELATIVE_PYTHON_MODULE = "<module_parent>.<module name>"`. Failures are logged, never raised.
    """
    registry = _node_registry()
    module_name = get_module_name(module_path)
    sys_module_key = _sys_module_key(module_path)
    is_package = os.path.isdir(module_path)
    try:
        logging.debug("Trying to load custom node %s", module_path)
        if is_package:
            module_dir = module_path
            init_file = os.path.join(module_path, "__init__.py")
            if not os.path.isfile(init_file):
                raise FileNotFoundError(f"{module_path} is a folder without __init__.py, so it is not a Python package")
            spec = importlib.util.spec_from_file_location(sys_module_key, init_file)
        else:
            module_dir = os.path.dirname(module_path)
            spec = importlib.util.spec_from_file_location(sys_module_key, module_path)
        if spec is None or spec.loader is None:
            raise ImportError(f"Python cannot build an import spec for {module_path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[sys_module_key] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(sys_module_key, None)
            raise
        registry.LOADED_MODULE_DIRS[module_name] = os.path.abspath(module_dir)

        if is_package:
            _register_pyproject_web_dir(module_path)
        web_directory = getattr(module, "WEB_DIRECTORY", None)
        if web_directory is not None:
            web_dir = os.path.abspath(os.path.join(module_dir, web_directory))
            if os.path.isdir(web_dir):
                registry.EXTENSION_WEB_DIRS[module_name] = web_dir
            else:
                logging.warning("%s: WEB_DIRECTORY %s is not a folder; its web extensions are not served",
                                module_path, web_dir)

        relative_module = f"{module_parent}.{module_name}"
        if getattr(module, "__kiln_faces__", False):  # a comfy_extras module of ComfyUI names only (comfy/unsupported.py)
            return True
        class_mappings = getattr(module, "NODE_CLASS_MAPPINGS", None)
        if class_mappings is None:
            if hasattr(module, "comfy_entrypoint"):
                return _register_extension(module_path, module.comfy_entrypoint, ignore, relative_module)
            logging.warning("Skip %s module for custom nodes due to the lack of NODE_CLASS_MAPPINGS or NODES_LIST "
                            "(need one).", module_path)
            return False

        for name, node_class in class_mappings.items():
            if name in ignore:
                logging.warning("%s: node '%s' has the name of a core node and is not loaded", module_path, name)
                continue
            registry.NODE_CLASS_MAPPINGS[name] = node_class
            node_class.RELATIVE_PYTHON_MODULE = relative_module
        display_names = getattr(module, "NODE_DISPLAY_NAME_MAPPINGS", None) or {}
        registry.NODE_DISPLAY_NAME_MAPPINGS.update(
            {name: display for name, display in display_names.items() if name not in ignore})
        return True
    except (Exception, SystemExit) as error:  # a pack that calls sys.exit() at import must not stop the server
        logging.warning(traceback.format_exc())
        logging.warning("Cannot import %s module for custom nodes: %s", module_path, error)
        return False


class ExtensionRefused(Exception):
    """A module's comfy_entrypoint gave something other than a ComfyExtension with a list of nodes."""


def _run_to_completion(value: object) -> object:
    """`value`, awaited first if it is awaitable (a pack's async entrypoint or get_node_list)."""
    if not inspect.isawaitable(value):
        return value

    async def wait() -> object:
        return await value

    return AsyncToSyncConverter.run_async_in_thread(wait)


def extension_node_classes(entrypoint: object, module_path: str) -> list[type]:
    """The V3 node classes a module's `comfy_entrypoint` provides, running its coroutines to completion.

    ExtensionRefused (with ComfyUI's warning text) when the entrypoint is not callable, returns no ComfyExtension,
    or its `get_node_list()` is not a list; whatever the pack's code raises propagates.
    """
    from comfy_api.latest import ComfyExtension  # deferred: the V3 API imports torch

    if not callable(entrypoint):
        raise ExtensionRefused(f"comfy_entrypoint in {module_path} is not callable, skipping.")
    extension = _run_to_completion(entrypoint()) if inspect.iscoroutinefunction(entrypoint) else entrypoint()
    if not isinstance(extension, ComfyExtension):
        raise ExtensionRefused(f"comfy_entrypoint in {module_path} did not return a ComfyExtension, skipping.")
    node_list = _run_to_completion(extension.get_node_list())
    if not isinstance(node_list, list):
        raise ExtensionRefused(f"comfy_entrypoint in {module_path} did not return a list of nodes, skipping.")
    return node_list


def _register_extension(module_path: str, entrypoint: object, ignore: Set[str], relative_module: str) -> bool:
    """Register the nodes of a V3 module, each under its schema's node id; False (logged) on any failure."""
    registry = _node_registry()
    try:
        for node_class in extension_node_classes(entrypoint, module_path):
            schema = node_class.GET_SCHEMA()
            if schema.node_id in ignore:
                logging.warning("%s: node '%s' has the name of a core node and is not loaded", module_path,
                                schema.node_id)
                continue
            registry.NODE_CLASS_MAPPINGS[schema.node_id] = node_class
            node_class.RELATIVE_PYTHON_MODULE = relative_module
            if schema.display_name is not None:
                registry.NODE_DISPLAY_NAME_MAPPINGS[schema.node_id] = schema.display_name
        return True
    except ExtensionRefused as refusal:
        logging.warning(str(refusal))
        return False
    except Exception as error:
        logging.warning(traceback.format_exc())
        logging.warning("Error while calling comfy_entrypoint in %s: %s", module_path, error)
        return False


def module_node_classes(module: ModuleType) -> dict[str, type]:
    """{node name: class} of an imported node module, classic (NODE_CLASS_MAPPINGS) or V3 (comfy_entrypoint);
    none for a module of faces (`__kiln_faces__`)."""
    if getattr(module, "__kiln_faces__", False):
        return {}
    class_mappings = getattr(module, "NODE_CLASS_MAPPINGS", None)
    if class_mappings is not None:
        return dict(class_mappings)
    node_list = extension_node_classes(module.comfy_entrypoint, getattr(module, "__file__", module.__name__))
    return {node_class.GET_SCHEMA().node_id: node_class for node_class in node_list}


def _node_module_entries(folder: str) -> list[str]:
    """The loadable entries of a custom_nodes folder: `.py` files and folders, minus __pycache__ and *.disabled."""
    try:
        names = sorted(os.listdir(os.path.realpath(folder)))
    except OSError:
        return []
    entries = []
    for name in names:
        path = os.path.join(folder, name)
        if name == "__pycache__" or name.endswith(".disabled"):
            continue
        if os.path.isfile(path) and os.path.splitext(name)[1] != ".py":
            continue
        entries.append(name)
    return entries


def execute_prestartup_scripts() -> None:
    """Run each custom node package's `prestartup_script.py`, before torch and the nodes are imported.

    Honours `--disable-all-custom-nodes` and `--whitelist-custom-nodes`; failures are logged and listed as
    "(PRESTARTUP FAILED)".
    """
    if args.disable_all_custom_nodes and not args.whitelist_custom_nodes:
        return
    times: list[tuple[float, str, bool]] = []
    for folder in folder_paths.get_folder_paths("custom_nodes"):
        for name in _node_module_entries(folder):
            module_path = os.path.join(folder, name)
            script_path = os.path.join(module_path, "prestartup_script.py")
            if not os.path.isdir(module_path) or not os.path.isfile(script_path):
                continue
            if not _allowed_by_flags(name):
                logging.info("Prestartup Skipping %s due to disable_all_custom_nodes and whitelist_custom_nodes", name)
                continue
            started = time.perf_counter()
            ok = _run_script(script_path)
            times.append((time.perf_counter() - started, module_path, ok))
    _log_times_table("Prestartup times for custom nodes:", times, "PRESTARTUP FAILED")


def _run_script(script_path: str) -> bool:
    try:
        spec = importlib.util.spec_from_file_location(_sys_module_key(script_path), script_path)
        if spec is None or spec.loader is None:
            raise ImportError(f"Python cannot build an import spec for {script_path}")
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        return True
    except Exception as error:
        logging.error("Failed to execute startup-script: %s / %s", script_path, error)
        return False


def _load_node_files(folder: str, module_parent: str) -> list[str]:
    """Load every `nodes_*.py` file of a folder in sorted order; the file names that failed."""
    if not os.path.isdir(folder):
        return []
    failed = []
    for file_name in sorted(os.listdir(folder)):
        if not (file_name.startswith("nodes_") and file_name.endswith(".py")):
            continue
        if not load_custom_node(os.path.join(folder, file_name), module_parent=module_parent):
            failed.append(file_name)
    return failed


def init_builtin_extra_nodes(extras_dir: str | None = None) -> list[str]:
    """Load every `comfy_extras/nodes_*.py` present, sorted, as `comfy_extras.<name>`; the names that failed."""
    return _load_node_files(extras_dir or COMFY_EXTRAS_DIR, "comfy_extras")


def init_builtin_api_nodes(api_nodes_dir: str | None = None) -> list[str]:
    """Load every `comfy_api_nodes/nodes_*.py` present (none ship with Kiln yet); the names that failed."""
    return _load_node_files(api_nodes_dir or COMFY_API_NODES_DIR, "comfy_api_nodes")


def init_external_custom_nodes() -> None:
    """Load every module in every `custom_nodes` folder; core node names stay unoverridable. Logs import times."""
    core_node_names = frozenset(_node_registry().NODE_CLASS_MAPPINGS)
    times: list[tuple[float, str, bool]] = []
    for folder in folder_paths.get_folder_paths("custom_nodes"):
        for name in _node_module_entries(folder):
            if not _allowed_by_flags(name):
                logging.info("Skipping %s due to disable_all_custom_nodes and whitelist_custom_nodes", name)
                continue
            module_path = os.path.join(folder, name)
            started = time.perf_counter()
            ok = load_custom_node(module_path, core_node_names, module_parent="custom_nodes")
            times.append((time.perf_counter() - started, module_path, ok))
    _log_times_table("Import times for custom nodes:", times, "IMPORT FAILED")


def init_extra_nodes(init_custom_nodes: bool = True, init_api_nodes: bool = True) -> list[str]:
    """Load comfy_extras, then API nodes (unless disabled), then external custom nodes; the extras that failed."""
    failed_extras = init_builtin_extra_nodes()
    failed_api = init_builtin_api_nodes() if init_api_nodes and not args.disable_api_nodes else []
    if init_custom_nodes:
        init_external_custom_nodes()
    else:
        logging.info("Skipping loading of custom nodes")
    if failed_api:
        logging.warning("WARNING: some comfy_api_nodes/ nodes did not import correctly: %s", ", ".join(failed_api))
    if failed_extras:
        lines = ["WARNING: some comfy_extras/ nodes did not import correctly. "
                 "This may be because they are missing some dependencies.\n"]
        lines += [f"IMPORT FAILED: {name}" for name in failed_extras]
        logging.warning("\n".join(lines) + "\n")
    return failed_extras
