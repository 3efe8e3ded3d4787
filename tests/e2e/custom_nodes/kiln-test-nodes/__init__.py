"""Test-only custom nodes for Kiln's end-to-end suite, loaded through `--extra-model-paths-config`.

The package name has a hyphen on purpose (ComfyUI loads packages by path, so it must work), and the modules reach
each other through relative imports, as real custom-node packs do. A module that fails to import (because a
ComfyUI name it needs is missing) is logged and skipped, so only the tests that need its nodes fail.
"""

import importlib
import logging

from . import basic

NODE_CLASS_MAPPINGS = dict(basic.NODE_CLASS_MAPPINGS)

for _module_name in ("progress", "flow", "lists", "expansion", "server_api", "models", "hold", "block_patches",
                     "dit_block_patches", "patcher_contract", "conditioning"):
    try:
        _module = importlib.import_module(f".{_module_name}", __name__)
    except Exception:
        logging.exception("kiln-test-nodes: cannot import the %s module; its nodes are missing", _module_name)
        continue
    NODE_CLASS_MAPPINGS.update(_module.NODE_CLASS_MAPPINGS)

NODE_DISPLAY_NAME_MAPPINGS = {name: "Kiln Test " + name.removeprefix("KilnTest") for name in NODE_CLASS_MAPPINGS}
