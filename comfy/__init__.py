"""Kiln's model library, under the package name ComfyUI custom nodes import (`comfy`)."""
