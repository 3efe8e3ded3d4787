"""Kiln's built-in model nodes (loaders, text encoding, sampling, VAE, conditioning). `nodes.py` registers them
under ComfyUI's names; they report `python_module: "nodes"` like ComfyUI's core nodes."""

# The largest width or height a node accepts (ComfyUI's `nodes.MAX_RESOLUTION`).
MAX_RESOLUTION = 16384
