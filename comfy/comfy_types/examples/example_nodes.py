"""ComfyUI's `comfy.comfy_types.examples.example_nodes`, as faces: an example module of ComfyUI's.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "an example module of ComfyUI's"

ExampleNode = unsupported_class(__name__, 'ExampleNode', None, _REASON)
