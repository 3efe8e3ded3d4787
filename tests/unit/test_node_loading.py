"""comfy_execution.node_loading: custom node packs, comfy_extras files and prestartup scripts."""

from __future__ import annotations

import logging
import os
import sys
import textwrap
import types

import pytest

import folder_paths
from comfy.cli_args import args
from comfy_execution import node_loading


class CoreNode:
    RETURN_TYPES = ("INT",)
    FUNCTION = "run"
    CATEGORY = "core"


@pytest.fixture
def registry(monkeypatch, tmp_path):
    """A stand-in `nodes` module holding one core node; modules imported from tmp_path are dropped afterwards."""
    fake = types.ModuleType("nodes")
    fake.NODE_CLASS_MAPPINGS = {"CoreNode": CoreNode}
    fake.NODE_DISPLAY_NAME_MAPPINGS = {"CoreNode": "Core Node"}
    fake.EXTENSION_WEB_DIRS = {}
    fake.LOADED_MODULE_DIRS = {}
    monkeypatch.setitem(sys.modules, "nodes", fake)
    monkeypatch.setattr(args, "disable_all_custom_nodes", False)
    monkeypatch.setattr(args, "whitelist_custom_nodes", [])
    yield fake
    for key in [key for key in sys.modules if key.startswith(str(tmp_path).replace(".", "_x_"))]:
        del sys.modules[key]


@pytest.fixture
def custom_nodes(base):
    folder = base / "custom_nodes"
    folder.mkdir()
    return folder


def write(path, text: str) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(textwrap.dedent(text))
    return str(path)


def node_pack(folder, name: str, class_name: str, extra: str = "") -> str:
    """A package dir defining one node class `class_name`."""
    write(folder / name / "__init__.py", f"""
        class {class_name}:
            RETURN_TYPES = ("IMAGE",)
            FUNCTION = "run"
            PACK = {name!r}
        NODE_CLASS_MAPPINGS = {{{class_name!r}: {class_name}}}
        NODE_DISPLAY_NAME_MAPPINGS = {{{class_name!r}: {class_name + " from " + name!r}}}
        {extra}
    """)
    return str(folder / name)


def test_hyphenated_package_with_relative_import_loads_and_is_tagged_with_its_module(registry, custom_nodes):
    write(custom_nodes / "my-pack.v2" / "helpers.py", "SUFFIX = '!'\n")
    write(custom_nodes / "my-pack.v2" / "__init__.py", """
        from .helpers import SUFFIX
        class Shout:
            RETURN_TYPES = ("STRING",)
            FUNCTION = "run"
            MARK = SUFFIX
        NODE_CLASS_MAPPINGS = {"Shout": Shout}
        NODE_DISPLAY_NAME_MAPPINGS = {"Shout": "Shout It"}
    """)
    assert node_loading.load_custom_node(str(custom_nodes / "my-pack.v2")) is True
    shout = registry.NODE_CLASS_MAPPINGS["Shout"]
    assert shout.MARK == "!"
    assert shout.RELATIVE_PYTHON_MODULE == "custom_nodes.my-pack.v2"
    assert registry.NODE_DISPLAY_NAME_MAPPINGS["Shout"] == "Shout It"
    assert registry.LOADED_MODULE_DIRS["my-pack.v2"] == str(custom_nodes / "my-pack.v2")


def test_single_file_module_loads_under_its_stem(registry, custom_nodes):
    write(custom_nodes / "single_node.py", """
        class Single:
            RETURN_TYPES = ()
            FUNCTION = "run"
        NODE_CLASS_MAPPINGS = {"Single": Single}
    """)
    assert node_loading.load_custom_node(str(custom_nodes / "single_node.py")) is True
    assert registry.NODE_CLASS_MAPPINGS["Single"].RELATIVE_PYTHON_MODULE == "custom_nodes.single_node"


def test_package_that_raises_on_import_is_reported_and_returns_false(registry, custom_nodes, caplog):
    write(custom_nodes / "broken" / "__init__.py", "raise RuntimeError('boom at import')\n")
    with caplog.at_level(logging.WARNING):
        assert node_loading.load_custom_node(str(custom_nodes / "broken")) is False
    assert f"Cannot import {custom_nodes / 'broken'} module for custom nodes: boom at import" in caplog.text
    assert "Traceback" in caplog.text


@pytest.mark.parametrize("crash", ["raise SystemExit(3)", "import sys; sys.exit('bye')",
                                   "import no_such_dependency_kiln", "1 / 0", "def broken(:\n"])
def test_pack_that_exits_or_crashes_at_import_is_skipped_with_its_traceback(registry, custom_nodes, caplog, crash):
    write(custom_nodes / "crasher" / "__init__.py", crash + "\n")
    with caplog.at_level(logging.WARNING):
        assert node_loading.load_custom_node(str(custom_nodes / "crasher")) is False
    assert "Traceback" in caplog.text
    assert f"Cannot import {custom_nodes / 'crasher'} module for custom nodes" in caplog.text


def test_external_loading_continues_past_a_broken_pack_and_lists_it_as_failed(registry, custom_nodes, caplog):
    write(custom_nodes / "a_broken" / "__init__.py", "raise RuntimeError('boom')\n")
    node_pack(custom_nodes, "b_good", "GoodNode")
    with caplog.at_level(logging.INFO):
        node_loading.init_external_custom_nodes()
    assert "GoodNode" in registry.NODE_CLASS_MAPPINGS
    assert f"(IMPORT FAILED): {custom_nodes / 'a_broken'}" in caplog.text
    assert f"seconds: {custom_nodes / 'b_good'}" in caplog.text


def test_web_directory_registers_the_pack_web_folder(registry, custom_nodes):
    write(custom_nodes / "web-pack" / "js" / "main.js", "// js\n")
    node_pack(custom_nodes, "web-pack", "WebNode", extra='WEB_DIRECTORY = "./js"')
    assert node_loading.load_custom_node(str(custom_nodes / "web-pack")) is True
    assert registry.EXTENSION_WEB_DIRS == {"web-pack": str(custom_nodes / "web-pack" / "js")}


def test_pyproject_tool_comfy_web_registers_under_the_project_name(registry, custom_nodes):
    write(custom_nodes / "proj" / "dist" / "x.js", "// js\n")
    write(custom_nodes / "proj" / "pyproject.toml", '[project]\nname = "comfyui-proj"\n[tool.comfy]\nweb = "dist"\n')
    node_pack(custom_nodes, "proj", "ProjNode")
    assert node_loading.load_custom_node(str(custom_nodes / "proj")) is True
    assert registry.EXTENSION_WEB_DIRS == {"comfyui-proj": str(custom_nodes / "proj" / "dist")}


def test_custom_pack_cannot_override_a_core_node_but_later_packs_override_earlier_ones(registry, custom_nodes):
    node_pack(custom_nodes, "a_pack", "CoreNode")
    node_pack(custom_nodes, "b_pack", "Shared")
    node_pack(custom_nodes, "c_pack", "Shared")
    node_loading.init_external_custom_nodes()
    assert registry.NODE_CLASS_MAPPINGS["CoreNode"] is CoreNode
    assert not hasattr(CoreNode, "RELATIVE_PYTHON_MODULE")
    assert registry.NODE_DISPLAY_NAME_MAPPINGS["CoreNode"] == "Core Node"
    assert registry.NODE_CLASS_MAPPINGS["Shared"].PACK == "c_pack"


def test_module_without_node_class_mappings_is_skipped_with_a_warning(registry, custom_nodes, caplog):
    write(custom_nodes / "empty" / "__init__.py", "VALUE = 1\n")
    with caplog.at_level(logging.WARNING):
        assert node_loading.load_custom_node(str(custom_nodes / "empty")) is False
    assert "due to the lack of NODE_CLASS_MAPPINGS or NODES_LIST" in caplog.text


def test_pycache_non_python_files_and_disabled_entries_are_not_loaded(registry, custom_nodes, monkeypatch):
    node_pack(custom_nodes, "__pycache__", "FromCache")
    node_pack(custom_nodes, "old.disabled", "FromDisabled")
    write(custom_nodes / "legacy.py.disabled", "raise SystemExit\n")
    write(custom_nodes / "README.md", "# hello\n")
    node_pack(custom_nodes, "live", "LiveNode")
    attempted = []
    real_load = node_loading.load_custom_node
    monkeypatch.setattr(node_loading, "load_custom_node", lambda path, *a, **k: attempted.append(path) or real_load(
        path, *a, **k))
    node_loading.init_external_custom_nodes()
    assert attempted == [str(custom_nodes / "live")]
    assert set(registry.NODE_CLASS_MAPPINGS) == {"CoreNode", "LiveNode"}


def test_custom_nodes_folders_from_extra_paths_are_loaded_too(registry, custom_nodes, tmp_path):
    extra = tmp_path / "more_nodes"
    node_pack(extra, "far_pack", "FarNode")
    folder_paths.add_model_folder_path("custom_nodes", str(extra))
    node_loading.init_external_custom_nodes()
    assert "FarNode" in registry.NODE_CLASS_MAPPINGS


def test_disable_all_custom_nodes_loads_only_whitelisted_packs(registry, custom_nodes, monkeypatch):
    node_pack(custom_nodes, "allowed", "AllowedNode")
    node_pack(custom_nodes, "blocked", "BlockedNode")
    monkeypatch.setattr(args, "disable_all_custom_nodes", True)
    monkeypatch.setattr(args, "whitelist_custom_nodes", ["allowed"])
    node_loading.init_external_custom_nodes()
    assert "AllowedNode" in registry.NODE_CLASS_MAPPINGS
    assert "BlockedNode" not in registry.NODE_CLASS_MAPPINGS


def test_prestartup_scripts_run_and_failures_are_listed(registry, custom_nodes, tmp_path, caplog):
    marker = tmp_path / "ran.txt"
    write(custom_nodes / "starter" / "prestartup_script.py", f"open({str(marker)!r}, 'w').write('yes')\n")
    write(custom_nodes / "bad_starter" / "prestartup_script.py", "raise ValueError('nope')\n")
    write(custom_nodes / "off.disabled" / "prestartup_script.py", f"open({str(marker)!r}, 'w').write('disabled')\n")
    with caplog.at_level(logging.INFO):
        node_loading.execute_prestartup_scripts()
    assert marker.read_text() == "yes"
    assert f"(PRESTARTUP FAILED): {custom_nodes / 'bad_starter'}" in caplog.text
    assert "Failed to execute startup-script" in caplog.text


def test_prestartup_scripts_are_skipped_when_all_custom_nodes_are_disabled(registry, custom_nodes, tmp_path,
                                                                         monkeypatch):
    marker = tmp_path / "ran.txt"
    write(custom_nodes / "starter" / "prestartup_script.py", f"open({str(marker)!r}, 'w').write('yes')\n")
    monkeypatch.setattr(args, "disable_all_custom_nodes", True)
    node_loading.execute_prestartup_scripts()
    assert not marker.exists()


def test_builtin_extras_load_sorted_nodes_files_as_comfy_extras_modules(registry, tmp_path, caplog):
    extras = tmp_path / "extras"
    write(extras / "nodes_b.py", """
        class Order:
            RETURN_TYPES = ()
            FUNCTION = "run"
            FROM = "b"
        NODE_CLASS_MAPPINGS = {"Order": Order}
    """)
    write(extras / "nodes_a.py", """
        class Order:
            RETURN_TYPES = ()
            FUNCTION = "run"
            FROM = "a"
        NODE_CLASS_MAPPINGS = {"Order": Order, "CoreNode": Order}
    """)
    write(extras / "nodes_c.py", "import module_that_does_not_exist_anywhere\n")
    write(extras / "helpers.py", "raise SystemExit('must not be imported')\n")
    failed = node_loading.init_builtin_extra_nodes(str(extras))
    assert failed == ["nodes_c.py"]
    assert registry.NODE_CLASS_MAPPINGS["Order"].FROM == "b"
    assert registry.NODE_CLASS_MAPPINGS["Order"].RELATIVE_PYTHON_MODULE == "comfy_extras.nodes_b"
    assert registry.NODE_CLASS_MAPPINGS["CoreNode"].RELATIVE_PYTHON_MODULE == "comfy_extras.nodes_a"


def test_init_extra_nodes_loads_extras_first_protects_them_and_reports_failed_extras(registry, custom_nodes, tmp_path,
                                                                                  monkeypatch, caplog):
    extras = tmp_path / "extras"
    write(extras / "nodes_broken.py", "raise ImportError('missing dependency')\n")
    write(extras / "nodes_ok.py", """
        class Extra:
            RETURN_TYPES = ()
            FUNCTION = "run"
        NODE_CLASS_MAPPINGS = {"Extra": Extra}
    """)
    node_pack(custom_nodes, "pack", "Extra")
    monkeypatch.setattr(node_loading, "COMFY_EXTRAS_DIR", str(extras))
    monkeypatch.setattr(node_loading, "COMFY_API_NODES_DIR", str(tmp_path / "no_api_nodes"))
    with caplog.at_level(logging.WARNING):
        failed = node_loading.init_extra_nodes()
    assert failed == ["nodes_broken.py"]
    assert "IMPORT FAILED: nodes_broken.py" in caplog.text
    # Extras load before custom nodes and count as built-in, so a pack cannot override them.
    assert registry.NODE_CLASS_MAPPINGS["Extra"].RELATIVE_PYTHON_MODULE == "comfy_extras.nodes_ok"


def test_init_extra_nodes_can_skip_custom_nodes(registry, custom_nodes, tmp_path, monkeypatch, caplog):
    node_pack(custom_nodes, "pack", "PackNode")
    monkeypatch.setattr(node_loading, "COMFY_EXTRAS_DIR", str(tmp_path / "no_extras"))
    with caplog.at_level(logging.INFO):
        node_loading.init_extra_nodes(init_custom_nodes=False, init_api_nodes=False)
    assert "PackNode" not in registry.NODE_CLASS_MAPPINGS
    assert "Skipping loading of custom nodes" in caplog.text


# --- V3 modules (comfy_entrypoint) ---------------------------------------------------------------------------

V3_NODE = """
    from comfy_api.latest import ComfyExtension, io

    class Doubler(io.ComfyNode):
        @classmethod
        def define_schema(cls):
            return io.Schema(node_id="{node_id}", display_name={display!r}, category="tests",
                             inputs=[io.Int.Input("value")], outputs=[io.Int.Output()])

        @classmethod
        def execute(cls, value):
            return io.NodeOutput(value * 2)
"""


def v3_pack(folder, name: str, node_id: str = "Doubler", display: str | None = "Double It", entrypoint: str = """
    class Extension(ComfyExtension):
        async def get_node_list(self):
            return [Doubler]

    async def comfy_entrypoint():
        return Extension()
""") -> str:
    write(folder / name / "__init__.py", textwrap.dedent(V3_NODE.format(node_id=node_id, display=display))
          + textwrap.dedent(entrypoint))
    return str(folder / name)


def test_v3_pack_registers_its_nodes_under_their_schema_ids(registry, custom_nodes):
    assert node_loading.load_custom_node(v3_pack(custom_nodes, "v3-pack", node_id="KilnDoubler")) is True

    doubler = registry.NODE_CLASS_MAPPINGS["KilnDoubler"]
    assert doubler.__name__ == "Doubler"
    assert doubler.RELATIVE_PYTHON_MODULE == "custom_nodes.v3-pack"
    assert registry.NODE_DISPLAY_NAME_MAPPINGS["KilnDoubler"] == "Double It"
    assert doubler.GET_NODE_INFO_V1()["python_module"] == "custom_nodes.v3-pack"


def test_v3_pack_with_a_sync_entrypoint_and_sync_node_list_loads(registry, custom_nodes):
    path = v3_pack(custom_nodes, "sync-pack", display=None, entrypoint="""
        class Extension(ComfyExtension):
            def get_node_list(self):
                return [Doubler]

        def comfy_entrypoint():
            return Extension()
    """)

    assert node_loading.load_custom_node(path) is True
    assert "Doubler" in registry.NODE_CLASS_MAPPINGS and "Doubler" not in registry.NODE_DISPLAY_NAME_MAPPINGS


@pytest.mark.asyncio
async def test_v3_pack_loads_from_inside_a_running_event_loop(registry, custom_nodes):
    assert node_loading.load_custom_node(v3_pack(custom_nodes, "in-loop")) is True
    assert "Doubler" in registry.NODE_CLASS_MAPPINGS


def test_v3_pack_cannot_override_a_core_node(registry, custom_nodes, caplog):
    path = v3_pack(custom_nodes, "impostor", node_id="CoreNode")

    assert node_loading.load_custom_node(path, ignore=frozenset({"CoreNode"})) is True
    assert registry.NODE_CLASS_MAPPINGS["CoreNode"] is CoreNode
    assert "has the name of a core node" in caplog.text


def test_v3_entrypoint_that_raises_fails_the_pack_with_comfyuis_line_and_its_traceback(registry, custom_nodes,
                                                                                       caplog):
    path = v3_pack(custom_nodes, "raises", entrypoint="""
        async def comfy_entrypoint():
            raise RuntimeError("no extension today")
    """)

    assert node_loading.load_custom_node(path) is False
    assert f"Error while calling comfy_entrypoint in {path}: no extension today" in caplog.messages
    assert "Traceback (most recent call last)" in caplog.text and "During handling" not in caplog.text
    assert "Doubler" not in registry.NODE_CLASS_MAPPINGS


def test_v3_node_with_an_invalid_schema_fails_the_pack_after_the_nodes_before_it(registry, custom_nodes, caplog):
    path = v3_pack(custom_nodes, "bad-schema", entrypoint="""
        class Broken(io.ComfyNode):
            @classmethod
            def define_schema(cls):
                return io.Schema(node_id="Broken", inputs=[io.Int.Input("x"), io.Int.Input("x")])

            @classmethod
            def execute(cls, x):
                return io.NodeOutput()

        class Extension(ComfyExtension):
            async def get_node_list(self):
                return [Doubler, Broken]

        def comfy_entrypoint():
            return Extension()
    """)

    assert node_loading.load_custom_node(path) is False
    assert "Doubler" in registry.NODE_CLASS_MAPPINGS and "Broken" not in registry.NODE_CLASS_MAPPINGS
    assert (f"Error while calling comfy_entrypoint in {path}: Input ids must be unique, but ['x'] are not."
            in caplog.messages)


@pytest.mark.parametrize("entrypoint, complaint", [
    ("comfy_entrypoint = 42", "is not callable, skipping."),
    ("def comfy_entrypoint():\n    return object()", "did not return a ComfyExtension, skipping."),
    ("class Extension(ComfyExtension):\n    async def get_node_list(self):\n        return (Doubler,)\n"
     "def comfy_entrypoint():\n    return Extension()", "did not return a list of nodes, skipping."),
])
def test_v3_entrypoint_giving_no_extension_or_no_list_is_skipped_with_comfyuis_warning(registry, custom_nodes, caplog,
                                                                                       entrypoint, complaint):
    path = v3_pack(custom_nodes, "odd", entrypoint=entrypoint)

    assert node_loading.load_custom_node(path) is False
    assert f"comfy_entrypoint in {path} {complaint}" in caplog.messages


def test_module_node_classes_reads_classic_and_v3_modules(registry, custom_nodes):
    node_loading.load_custom_node(v3_pack(custom_nodes, "v3-listing", node_id="Listed"))
    v3_module = next(module for key, module in sys.modules.items() if key.endswith("v3-listing"))
    classic = types.ModuleType("classic")
    classic.NODE_CLASS_MAPPINGS = {"CoreNode": CoreNode}

    assert list(node_loading.module_node_classes(v3_module)) == ["Listed"]
    assert node_loading.module_node_classes(classic) == {"CoreNode": CoreNode}
