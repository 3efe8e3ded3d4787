"""Where models, inputs, outputs and temp files live: ComfyUI's `folder_paths` module, names kept exactly.

Custom nodes `import folder_paths` and read or mutate its globals (`folder_names_and_paths`, `models_dir`,
`get_filename_list`, `get_full_path`, ...), so this module is deliberately a set of module-level registries and
functions rather than a class. Kiln additions: `set_base_path` (for `--base-directory`), `load_extra_path_config`
(extra_model_paths.yaml), `apply_cli_args` (the start-up order of main.py) and `cleanup_temp_directory`.

Importing it only computes paths; it creates no folders and imports nothing heavy.
"""

from __future__ import annotations

import itertools
import logging
import mimetypes
import os
import shutil
import time
from collections.abc import Collection, Iterable
from typing import Any

supported_pt_extensions: set[str] = {".ckpt", ".pt", ".pt2", ".bin", ".pth", ".safetensors", ".pkl", ".sft"}

# name -> ([folders], extensions); an empty extension set accepts every file.
folder_names_and_paths: dict[str, tuple[list[str], set[str]]] = {}

# name -> (sorted relative filenames, {folder: mtime} seen when listing, perf_counter time of the listing)
filename_list_cache: dict[str, tuple[list[str], dict[str, float], float]] = {}

# file extension (lower case, no dot) -> top-level content type ("image", "video", "audio", "model", ...)
extension_mimetypes_cache: dict[str, str] = {"webp": "image", "fbx": "model"}

_LEGACY_FOLDER_NAMES = {"unet": "diffusion_models", "clip": "text_encoders"}

# The folders main.py adds under the output directory, so that models saved by nodes can be loaded again.
_OUTPUT_MODEL_FOLDERS = ("checkpoints", "clip", "vae", "diffusion_models", "loras")

_ANNOTATIONS = ("output", "input", "temp")

base_path: str = ""
models_dir: str = ""
output_directory: str = ""
temp_directory: str = ""
input_directory: str = ""
user_directory: str = ""


def _default_folders(base: str, models: str) -> dict[str, tuple[list[str], set[str]]]:
    """The model folders ComfyUI knows out of the box, for a base directory and its models directory."""

    def under_models(*names: str) -> list[str]:
        return [os.path.join(models, name) for name in names]

    pt = supported_pt_extensions
    return {
        "checkpoints": (under_models("checkpoints"), set(pt)),
        "configs": (under_models("configs"), {".yaml"}),
        "loras": (under_models("loras"), set(pt)),
        "vae": (under_models("vae"), set(pt)),
        "text_encoders": (under_models("text_encoders", "clip"), set(pt)),
        "diffusion_models": (under_models("unet", "diffusion_models"), set(pt)),
        "clip_vision": (under_models("clip_vision"), set(pt)),
        "style_models": (under_models("style_models"), set(pt)),
        "embeddings": (under_models("embeddings"), set(pt)),
        "diffusers": (under_models("diffusers"), {"folder"}),
        "vae_approx": (under_models("vae_approx"), set(pt)),
        "controlnet": (under_models("controlnet", "t2i_adapter"), set(pt)),
        "gligen": (under_models("gligen"), set(pt)),
        "upscale_models": (under_models("upscale_models"), set(pt)),
        "custom_nodes": ([os.path.join(base, "custom_nodes")], set()),
        "hypernetworks": (under_models("hypernetworks"), set(pt)),
        "photomaker": (under_models("photomaker"), set(pt)),
        "classifiers": (under_models("classifiers"), {""}),
        "model_patches": (under_models("model_patches"), set(pt)),
        "audio_encoders": (under_models("audio_encoders"), set(pt)),
    }


def set_base_path(path: str) -> None:
    """Re-derive every default folder from a new base directory (`--base-directory`).

    Resets `models_dir`, the model folders (dropping any extra paths added so far), and the output, temp, input
    and user directories. Call it before loading extra_model_paths.yaml files. The dict is updated in place so
    modules that hold a reference to `folder_names_and_paths` see the change.
    """
    global base_path, models_dir, output_directory, temp_directory, input_directory, user_directory
    base_path = os.path.abspath(path)
    models_dir = os.path.join(base_path, "models")
    folder_names_and_paths.clear()
    folder_names_and_paths.update(_default_folders(base_path, models_dir))
    filename_list_cache.clear()
    output_directory = os.path.join(base_path, "output")
    temp_directory = os.path.join(base_path, "temp")
    input_directory = os.path.join(base_path, "input")
    user_directory = os.path.join(base_path, "user")


def map_legacy(folder_name: str) -> str:
    """The current name of a folder: `unet` -> `diffusion_models`, `clip` -> `text_encoders`, others unchanged."""
    return _LEGACY_FOLDER_NAMES.get(folder_name, folder_name)


# --- input / output / temp / user directories -------------------------------------------------------------


def set_output_directory(output_dir: str) -> None:
    global output_directory
    output_directory = output_dir


def set_temp_directory(temp_dir: str) -> None:
    global temp_directory
    temp_directory = temp_dir


def set_input_directory(input_dir: str) -> None:
    global input_directory
    input_directory = input_dir


def set_user_directory(user_dir: str) -> None:
    global user_directory
    user_directory = user_dir


def get_output_directory() -> str:
    return output_directory


def get_temp_directory() -> str:
    return temp_directory


def get_input_directory() -> str:
    return input_directory


def get_user_directory() -> str:
    return user_directory


def get_directory_by_type(type_name: str) -> str | None:
    """The folder for an image `type` as clients send it: "output", "temp" or "input"; None for anything else."""
    if type_name == "output":
        return get_output_directory()
    if type_name == "temp":
        return get_temp_directory()
    if type_name == "input":
        return get_input_directory()
    return None


def annotated_filepath(name: str) -> tuple[str, str | None]:
    """Split a name like "sub/x.png [output]" into ("sub/x.png", <output dir>); no annotation gives (name, None)."""
    for annotation in _ANNOTATIONS:
        suffix = f" [{annotation}]"
        if name.endswith(suffix):
            return name[: -len(suffix)], get_directory_by_type(annotation)
    return name, None


def get_annotated_filepath(name: str, default_dir: str | None = None) -> str:
    """The full path of an annotated name; unannotated names resolve against `default_dir` (else the input dir)."""
    name, base_dir = annotated_filepath(name)
    if base_dir is None:
        base_dir = default_dir if default_dir is not None else get_input_directory()
    return os.path.join(base_dir, name)


def exists_annotated_filepath(name: str) -> bool:
    """Whether the file an annotated name points at exists (unannotated names are looked up in the input dir)."""
    return os.path.exists(get_annotated_filepath(name))


def cleanup_temp_directory() -> None:
    """Delete the temp directory and everything in it (main.py does this at start-up and exit)."""
    if os.path.exists(temp_directory):
        shutil.rmtree(temp_directory, ignore_errors=True)


# --- model folders ----------------------------------------------------------------------------------------


def _folder_entry(folder_name: str) -> tuple[list[str], set[str]]:
    folder_name = map_legacy(folder_name)
    try:
        return folder_names_and_paths[folder_name]
    except KeyError:
        raise KeyError(
            f"Unknown model folder '{folder_name}'. Known folders: {', '.join(sorted(folder_names_and_paths))}. "
            "Register it first with folder_paths.add_model_folder_path() or in extra_model_paths.yaml."
        )


def add_model_folder_path(folder_name: str, full_folder_path: str, is_default: bool = False) -> None:
    """Add a search folder for a model kind; `is_default` puts it first, otherwise it goes last.

    Adding a folder that is already listed only moves it to the front when `is_default` is set. An unknown
    `folder_name` creates a new kind that accepts every file extension.
    """
    folder_name = map_legacy(folder_name)
    filename_list_cache.pop(folder_name, None)
    if folder_name not in folder_names_and_paths:
        folder_names_and_paths[folder_name] = ([full_folder_path], set())
        return
    paths = folder_names_and_paths[folder_name][0]
    if full_folder_path in paths:
        if is_default and paths[0] != full_folder_path:
            paths.remove(full_folder_path)
            paths.insert(0, full_folder_path)
    elif is_default:
        paths.insert(0, full_folder_path)
    else:
        paths.append(full_folder_path)


def get_folder_paths(folder_name: str) -> list[str]:
    """A copy of the search folders for a model kind (legacy names accepted); KeyError if the kind is unknown."""
    return list(_folder_entry(folder_name)[0])


def recursive_search(directory: str, excluded_dir_names: Collection[str] | None = None) -> tuple[list[str], dict[str, float]]:
    """Every file below `directory`, as paths relative to it, and the mtime of each folder walked.

    Symlinked folders are followed (once each, so link loops end); folders named in `excluded_dir_names` are
    skipped. A missing directory gives ([], {}).
    """
    if not os.path.isdir(directory):
        return [], {}
    excluded = set(excluded_dir_names or ())
    files: list[str] = []
    folder_mtimes: dict[str, float] = {}
    try:
        folder_mtimes[directory] = os.path.getmtime(directory)
    except OSError:
        logging.warning("Could not read the modification time of %s", directory)
    seen_real_dirs = {os.path.realpath(directory)}
    for dirpath, subdirs, filenames in os.walk(directory, followlinks=True, topdown=True):
        kept = []
        for subdir in subdirs:
            if subdir in excluded:
                continue
            real = os.path.realpath(os.path.join(dirpath, subdir))
            if real in seen_real_dirs:
                continue
            seen_real_dirs.add(real)
            kept.append(subdir)
        subdirs[:] = kept
        for filename in filenames:
            files.append(os.path.relpath(os.path.join(dirpath, filename), directory))
        for subdir in subdirs:
            path = os.path.join(dirpath, subdir)
            try:
                folder_mtimes[path] = os.path.getmtime(path)
            except OSError:
                logging.warning("Could not read the modification time of %s", path)
    return files, folder_mtimes


def filter_files_extensions(files: Iterable[str], extensions: Collection[str]) -> list[str]:
    """The files whose extension (case-insensitive) is in `extensions`, sorted; an empty collection keeps all."""
    return sorted(name for name in files if not extensions or os.path.splitext(name)[-1].lower() in extensions)


def filter_files_content_types(files: Iterable[str], content_types: Collection[str]) -> list[str]:
    """The files whose guessed MIME top-level type ("image", "video", "audio", "model") is in `content_types`.

    Order is kept. Files whose type cannot be guessed are dropped.
    """
    kept = []
    for name in files:
        extension = name.rsplit(".", 1)[-1].lower()
        content_type = extension_mimetypes_cache.get(extension)
        if content_type is None:
            mime_type, _ = mimetypes.guess_type(name, strict=False)
            if not mime_type:
                continue
            content_type = mime_type.split("/")[0]
            extension_mimetypes_cache[extension] = content_type
        if content_type in content_types:
            kept.append(name)
    return kept


def get_full_path(folder_name: str, filename: str) -> str | None:
    """The first existing file `filename` across the search folders of `folder_name`, else None.

    `filename` is normalised as if rooted at "/", so "../x" or "/etc/x" can never leave the folder. An unknown
    folder name gives None.
    """
    folder_name = map_legacy(folder_name)
    if folder_name not in folder_names_and_paths:
        return None
    relative = os.path.relpath(os.path.normpath(os.path.join(os.sep, filename)), os.sep)
    if relative == os.curdir:
        return None
    for folder in folder_names_and_paths[folder_name][0]:
        full_path = os.path.join(folder, relative)
        if os.path.isfile(full_path):
            return full_path
        if os.path.islink(full_path):
            logging.warning("WARNING path %s exists but doesn't link anywhere, skipping.", full_path)
    return None


def get_full_path_or_raise(folder_name: str, filename: str) -> str:
    """Like `get_full_path`, but a missing file raises FileNotFoundError naming the folder and file."""
    full_path = get_full_path(folder_name, filename)
    if full_path is None:
        raise FileNotFoundError(f"Model in folder '{folder_name}' with filename '{filename}' not found.")
    return full_path


# --- cached file listings -----------------------------------------------------------------------------------


class CacheHelper:
    """A listing cache that holds only inside a `with` block (one /object_info request), then empties itself."""

    def __init__(self) -> None:
        self.cache: dict[str, Any] = {}
        self.active = False

    def get(self, key: str, default: Any = None) -> Any:
        if not self.active:
            return default
        return self.cache.get(key, default)

    def set(self, key: str, value: Any) -> None:
        if self.active:
            self.cache[key] = value

    def clear(self) -> None:
        self.cache.clear()

    def __enter__(self) -> CacheHelper:
        self.active = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.active = False
        self.clear()


cache_helper = CacheHelper()


def _list_folder(folder_name: str) -> tuple[list[str], dict[str, float], float]:
    folders, extensions = _folder_entry(folder_name)
    names: set[str] = set()
    folder_mtimes: dict[str, float] = {}
    for folder in folders:
        files, mtimes = recursive_search(folder, excluded_dir_names=[".git"])
        names.update(filter_files_extensions(files, extensions))
        folder_mtimes.update(mtimes)
    return sorted(names), folder_mtimes, time.perf_counter()


def _cached_listing(folder_name: str) -> tuple[list[str], dict[str, float], float] | None:
    """The cached listing if no folder it saw has changed and no new search folder has appeared."""
    request_cached = cache_helper.get(folder_name)
    if request_cached is not None:
        return request_cached
    cached = filename_list_cache.get(folder_name)
    if cached is None:
        return None
    for folder, mtime in cached[1].items():
        try:
            if os.path.getmtime(folder) != mtime:
                return None
        except OSError:
            return None
    for folder in folder_names_and_paths[folder_name][0]:
        if folder not in cached[1] and os.path.isdir(folder):
            return None
    return cached


def get_filename_list(folder_name: str) -> list[str]:
    """Sorted relative paths of the model files of one kind across all its folders (OS separators), with the
    names remote workers reported (`set_remote_filenames`).

    Cached per kind; the cache is dropped when any listed folder's mtime changes or a search folder appears.
    """
    local = get_local_filename_list(folder_name)
    remote = [names.get(map_legacy(folder_name), ()) for names in _remote_filenames.values()]
    return sorted(set(local).union(*remote)) if any(remote) else local


def get_local_filename_list(folder_name: str) -> list[str]:
    """`get_filename_list` without the remote names: the files this process can load."""
    folder_name = map_legacy(folder_name)
    listing = _cached_listing(folder_name)
    if listing is None:
        listing = _list_folder(folder_name)
        filename_list_cache[folder_name] = listing
    cache_helper.set(folder_name, listing)
    return list(listing[0])


# Model files that exist on other machines (Ray workers: comfy_execution/distributed), by source and kind. Their
# names validate and are listed like local ones; only the machine that has a file loads it.
_remote_filenames: dict[str, dict[str, list[str]]] = {}


def set_remote_filenames(source: str, lists: dict[str, list[str]]) -> None:
    """Record the model files `source` (a worker) has, kind -> names; an empty dict forgets the source."""
    if lists:
        _remote_filenames[source] = {map_legacy(kind): [str(name) for name in names] for kind, names in lists.items()}
    else:
        _remote_filenames.pop(source, None)


def local_model_lists() -> dict[str, list[str]]:
    """Every kind of model file this process can load (not custom nodes or configs), kind -> names."""
    return {kind: get_local_filename_list(kind) for kind in folder_names_and_paths
            if kind not in ("custom_nodes", "configs")}


# --- saving ---------------------------------------------------------------------------------------------------


def _substitute_prefix_variables(prefix: str, image_width: int, image_height: int) -> str:
    now = time.localtime()
    replacements = {
        "%width%": str(image_width),
        "%height%": str(image_height),
        "%year%": str(now.tm_year),
        "%month%": str(now.tm_mon).zfill(2),
        "%day%": str(now.tm_mday).zfill(2),
        "%hour%": str(now.tm_hour).zfill(2),
        "%minute%": str(now.tm_min).zfill(2),
        "%second%": str(now.tm_sec).zfill(2),
    }
    for variable, value in replacements.items():
        prefix = prefix.replace(variable, value)
    return prefix


def _next_counter(folder: str, filename: str) -> int:
    """1 + the largest N among files named "<filename>_<N>..." in `folder` (1 if none)."""
    wanted = os.path.normcase(filename)
    highest = 0
    for existing in os.listdir(folder):
        head, rest = existing[: len(filename) + 1], existing[len(filename) + 1:]
        if os.path.normcase(head[:-1]) != wanted or head[-1:] != "_":
            continue
        try:
            number = int(rest.split("_")[0])
        except ValueError:
            number = 0
        highest = max(highest, number)
    return highest + 1


def get_save_image_path(filename_prefix: str, output_dir: str, image_width: int = 0,
                        image_height: int = 0) -> tuple[str, str, int, str, str]:
    """Where the next file for `filename_prefix` goes: (full_folder, filename, counter, subfolder, prefix).

    `%width% %height% %year% %month% %day% %hour% %minute% %second%` in the prefix are substituted (local time,
    zero-padded); a directory part of the prefix becomes the subfolder, which is created. The counter is one
    more than the highest existing "<filename>_<N>" file. A prefix that would leave `output_dir` raises
    ValueError.
    """
    if "%" in filename_prefix:
        filename_prefix = _substitute_prefix_variables(filename_prefix, image_width, image_height)
    normalised = os.path.normpath(filename_prefix)
    subfolder = os.path.dirname(normalised)
    filename = os.path.basename(normalised)
    full_output_folder = os.path.join(output_dir, subfolder)
    output_root = os.path.abspath(output_dir)
    absolute_folder = os.path.abspath(full_output_folder)
    if os.path.commonpath((output_root, absolute_folder)) != output_root:
        message = (
            "Saving image outside the output folder is not allowed. "
            f"filename_prefix {filename_prefix!r} resolves to {absolute_folder}, which is not inside {output_root}; "
            "use a prefix without '..' or an absolute path."
        )
        logging.error(message)
        raise ValueError(message)
    try:
        counter = _next_counter(full_output_folder, filename)
    except FileNotFoundError:
        os.makedirs(full_output_folder, exist_ok=True)
        counter = 1
    return full_output_folder, filename, counter, subfolder, filename_prefix


# --- configuration ------------------------------------------------------------------------------------------


def _section_paths(value: Any) -> list[str]:
    """The non-empty lines of one yaml entry: a path, a `|` block of paths, or a list of paths."""
    items = value if isinstance(value, list) else str(value).split("\n")
    return [str(item).strip() for item in items if str(item).strip()]


def load_extra_path_config(yaml_path: str) -> None:
    """Add the search folders of an extra_model_paths.yaml file.

    Each top-level section (any name) is a mapping with an optional `base_path` (`~` and environment variables
    expanded; relative to the yaml file's folder), an optional `is_default: true` (put the folders first), and
    `folder_name: path` entries whose value may be a multi-line `|` block of paths. Paths are relative to
    base_path, else to the yaml file's folder. Folder names may be new (e.g. `custom_nodes`).
    """
    import yaml  # deferred: only start-up with a config file needs it

    with open(yaml_path, encoding="utf-8") as stream:
        config = yaml.safe_load(stream)
    if config is None:
        return
    if not isinstance(config, dict):
        raise ValueError(f"{yaml_path}: expected sections of 'folder_name: path' entries at the top level, "
                         f"got {type(config).__name__}")
    yaml_dir = os.path.dirname(os.path.abspath(yaml_path))
    for section_name, section in config.items():
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ValueError(f"{yaml_path}: section '{section_name}' must be a mapping of folder names to paths, "
                             f"got {type(section).__name__}")
        section = dict(section)
        section_base = section.pop("base_path", None)
        if section_base is not None:
            section_base = os.path.expandvars(os.path.expanduser(str(section_base)))
            if not os.path.isabs(section_base):
                section_base = os.path.abspath(os.path.join(yaml_dir, section_base))
        is_default = bool(section.pop("is_default", False))
        for folder_name, value in section.items():
            if value is None:
                continue
            for path in _section_paths(value):
                if section_base:
                    full_path = os.path.join(section_base, path)
                else:
                    full_path = path if os.path.isabs(path) else os.path.join(yaml_dir, path)
                full_path = os.path.normpath(os.path.abspath(full_path))
                logging.info("Adding extra search path %s %s", folder_name, full_path)
                add_model_folder_path(str(folder_name), full_path, is_default)


def apply_cli_args(args: Any) -> None:
    """Apply the folder flags in main.py's order.

    `--base-directory`, then extra_model_paths.yaml next to this file (if present) and each
    `--extra-model-paths-config` file, `--output-directory`, the `<output>/checkpoints|clip|vae|diffusion_models|
    loras` model folders, `--input-directory`, `--user-directory` and `--temp-directory` (which becomes `<dir>/temp`).
    Creates the input and output directories if missing.
    """
    base_directory = getattr(args, "base_directory", None)
    if base_directory:
        set_base_path(base_directory)

    default_config = os.path.join(os.path.dirname(os.path.realpath(__file__)), "extra_model_paths.yaml")
    if os.path.isfile(default_config):
        load_extra_path_config(default_config)
    for config_path in itertools.chain.from_iterable(getattr(args, "extra_model_paths_config", None) or []):
        load_extra_path_config(config_path)

    if getattr(args, "output_directory", None):
        path = os.path.abspath(args.output_directory)
        logging.info("Setting output directory to: %s", path)
        set_output_directory(path)
    for folder_name in _OUTPUT_MODEL_FOLDERS:
        add_model_folder_path(folder_name, os.path.join(get_output_directory(), folder_name))

    if getattr(args, "input_directory", None):
        path = os.path.abspath(args.input_directory)
        logging.info("Setting input directory to: %s", path)
        set_input_directory(path)
    if getattr(args, "user_directory", None):
        path = os.path.abspath(args.user_directory)
        logging.info("Setting user directory to: %s", path)
        set_user_directory(path)
    if getattr(args, "temp_directory", None):
        path = os.path.join(os.path.abspath(args.temp_directory), "temp")
        logging.info("Setting temp directory to: %s", path)
        set_temp_directory(path)

    os.makedirs(get_input_directory(), exist_ok=True)
    os.makedirs(get_output_directory(), exist_ok=True)


set_base_path(os.path.dirname(os.path.realpath(__file__)))


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "an internal of ComfyUI's file-list cache, which Kiln's folder_paths keeps differently"

cached_filename_list_ = unsupported_function(__name__, 'cached_filename_list_', 'folder_name', _REASON)
get_filename_list_ = unsupported_function(__name__, 'get_filename_list_', 'folder_name', _REASON)
get_input_subfolders = unsupported_function(__name__, 'get_input_subfolders', '', _REASON)
