"""Kiln's model library, under the package name ComfyUI custom nodes import (`comfy`)."""

from comfy import torchvision_compat as _torchvision_compat

_torchvision_compat.install()
