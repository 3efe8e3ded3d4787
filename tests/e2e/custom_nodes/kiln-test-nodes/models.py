"""A node that makes a model run out of memory when it samples (to test how the server handles OOM)."""

import torch

from .common import CATEGORY


class _OutOfMemoryNetwork(torch.nn.Module):
    def __init__(self, original: torch.nn.Module):
        super().__init__()
        self.original = original
        self.config = original.config

    def forward(self, *args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (simulated by a test)")


class OutOfMemoryModel:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",)}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "run"
    CATEGORY = CATEGORY

    def run(self, model):
        patched = model.clone()
        patched.add_object_patch("diffusion_model", _OutOfMemoryNetwork(model.model.diffusion_model))
        return (patched,)


NODE_CLASS_MAPPINGS = {"KilnTestOutOfMemoryModel": OutOfMemoryModel}
