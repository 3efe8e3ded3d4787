import pytest

import folder_paths
import nodes
from tests.unit import engine_nodes


@pytest.fixture
def engine_nodes_registered(monkeypatch):
    """Register the engine test nodes in NODE_CLASS_MAPPINGS for one test; reset their call log."""
    for name, node_class in engine_nodes.ENGINE_NODES.items():
        monkeypatch.setitem(nodes.NODE_CLASS_MAPPINGS, name, node_class)
    engine_nodes.CALLS.clear()
    return engine_nodes


_STATE_NAMES = ("base_path", "models_dir", "output_directory", "temp_directory", "input_directory", "user_directory")


@pytest.fixture
def base(tmp_path):
    """folder_paths re-based on tmp_path for one test; every global is restored afterwards."""
    saved = {name: getattr(folder_paths, name) for name in _STATE_NAMES}
    saved_folders = {name: (list(paths), set(exts)) for name, (paths, exts) in folder_paths.folder_names_and_paths.items()}
    saved_cache = dict(folder_paths.filename_list_cache)
    folder_paths.set_base_path(str(tmp_path))
    yield tmp_path
    for name, value in saved.items():
        setattr(folder_paths, name, value)
    folder_paths.folder_names_and_paths.clear()
    folder_paths.folder_names_and_paths.update(saved_folders)
    folder_paths.filename_list_cache.clear()
    folder_paths.filename_list_cache.update(saved_cache)


@pytest.fixture
def folders(tmp_path):
    """Point folder_paths' input/output/temp directories at fresh folders under tmp_path; restore them after."""
    saved = (folder_paths.get_input_directory(), folder_paths.get_output_directory(),
             folder_paths.get_temp_directory())
    paths = {name: tmp_path / name for name in ("input", "output", "temp")}
    for path in paths.values():
        path.mkdir()
    folder_paths.set_input_directory(str(paths["input"]))
    folder_paths.set_output_directory(str(paths["output"]))
    folder_paths.set_temp_directory(str(paths["temp"]))
    yield paths
    folder_paths.set_input_directory(saved[0])
    folder_paths.set_output_directory(saved[1])
    folder_paths.set_temp_directory(saved[2])


@pytest.fixture(scope="module")
def registry():
    """The core nodes plus every comfy_extras module, loaded as the server loads them; restored afterwards.
    (Modules that need another registry define their own `registry`.)"""
    from comfy_execution import node_loading

    saved_classes = dict(nodes.NODE_CLASS_MAPPINGS)
    saved_names = dict(nodes.NODE_DISPLAY_NAME_MAPPINGS)
    assert node_loading.init_builtin_extra_nodes() == []
    yield nodes.NODE_CLASS_MAPPINGS
    nodes.NODE_CLASS_MAPPINGS.clear()
    nodes.NODE_CLASS_MAPPINGS.update(saved_classes)
    nodes.NODE_DISPLAY_NAME_MAPPINGS.clear()
    nodes.NODE_DISPLAY_NAME_MAPPINGS.update(saved_names)
