"""Upscale models (ESRGAN / RealESRGAN, SwinIR, HAT, DAT, OmniSR, ... — whatever spandrel recognises) from
models/upscale_models, and upscaling images with them in 512-pixel tiles (halved down to 128 when the device runs
out of memory).

UPSCALE_MODEL is spandrel's `ImageModelDescriptor` (callable on [B, C, H, W] in 0..1; `.scale`, `.model`).
"""

from __future__ import annotations

import logging
from typing import Any

import torch

import comfy.utils
import folder_paths
from comfy import model_management
from comfy_api.latest import ComfyExtension, io

_TILE = 512
_SMALLEST_TILE = 128
_OVERLAP = 32


def _spandrel() -> Any:
    """spandrel, imported on first use (it imports every architecture it knows, and torchvision), with
    spandrel_extra_arches' architectures added when that package is installed."""
    import spandrel

    try:
        from spandrel_extra_arches import EXTRA_REGISTRY
    except ImportError:
        return spandrel
    if not getattr(spandrel, "_kiln_extra_arches", False):
        spandrel.MAIN_REGISTRY.add(*EXTRA_REGISTRY)
        spandrel._kiln_extra_arches = True
        logging.info("Successfully imported spandrel_extra_arches: support for non commercial upscale models.")
    return spandrel


def load_upscale_model(state_dict: dict[str, torch.Tensor], name: str) -> Any:
    """A single-image model descriptor from a state dict (SwinIR files saved from DataParallel lose "module.")."""
    spandrel = _spandrel()
    if "module.layers.0.residual_group.blocks.0.norm1.weight" in state_dict:
        state_dict = comfy.utils.state_dict_prefix_replace(state_dict, {"module.": ""})
    try:
        model = spandrel.ModelLoader().load_from_state_dict(state_dict).eval()
    except spandrel.UnsupportedModelError as error:
        raise ValueError(f"UpscaleModelLoader: {name} is not an upscale model that spandrel recognises "
                         f"({error}). Put ESRGAN, SwinIR, HAT, DAT, ... files in models/upscale_models.") from error
    if not isinstance(model, spandrel.ImageModelDescriptor):
        raise ValueError(f"UpscaleModelLoader: {name} is a {model.architecture.name} model, which is not a "
                         "single-image model; Upscale model must be a single-image model.")
    return model


class UpscaleModelLoader(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="UpscaleModelLoader", display_name="Load Upscale Model", category="loaders",
                         inputs=[io.Combo.Input("model_name", options=folder_paths.get_filename_list("upscale_models"))],
                         outputs=[io.UpscaleModel.Output()])

    @classmethod
    def execute(cls, model_name: str) -> io.NodeOutput:
        path = folder_paths.get_full_path_or_raise("upscale_models", model_name)
        try:
            state_dict = comfy.utils.load_torch_file(path, safe_load=True)
        except Exception as error:  # safetensors and torch raise many kinds for foreign or truncated files
            raise ValueError(f"UpscaleModelLoader: cannot read {model_name}: {type(error).__name__}: {error}") \
                from error
        return io.NodeOutput(load_upscale_model(state_dict, model_name))

    load_model = execute  # ComfyUI's classic method name


def _module_size(module: torch.nn.Module) -> int:
    return sum(tensor.numel() * tensor.element_size() for tensor in module.state_dict().values())


class ImageUpscaleWithModel(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ImageUpscaleWithModel", display_name="Upscale Image (using Model)",
                         category="image/upscaling",
                         inputs=[io.UpscaleModel.Input("upscale_model"), io.Image.Input("image")],
                         outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, upscale_model: Any, image: torch.Tensor) -> io.NodeOutput:
        device = model_management.get_torch_device()
        # ComfyUI's estimate: the weights, about 384 bytes per pixel of a 512² tile per unit of scale, the input.
        memory_required = _module_size(upscale_model.model)
        memory_required += (512 * 512 * 3) * image.element_size() * max(upscale_model.scale, 1.0) * 384.0
        memory_required += image.nelement() * image.element_size()
        model_management.free_memory(int(memory_required), device)

        upscale_model.to(device)
        pixels = image.movedim(-1, -3).to(device)
        try:
            upscaled = cls.upscale_tiled(upscale_model, pixels)
        finally:
            upscale_model.to("cpu")
        return io.NodeOutput(torch.clamp(upscaled.movedim(-3, -1), min=0, max=1.0))

    @staticmethod
    def upscale_tiled(upscale_model: Any, pixels: torch.Tensor) -> torch.Tensor:
        """Upscale [B, C, H, W] in tiles of 512, halving the tile on out-of-memory until it would go below 128."""
        tile = _TILE
        while True:
            try:
                steps = pixels.shape[0] * comfy.utils.get_tiled_scale_steps(
                    pixels.shape[3], pixels.shape[2], tile_x=tile, tile_y=tile, overlap=_OVERLAP)
                progress = comfy.utils.ProgressBar(steps)
                return comfy.utils.tiled_scale(pixels, lambda tile_pixels: upscale_model(tile_pixels), tile_x=tile,
                                               tile_y=tile, overlap=_OVERLAP, upscale_amount=upscale_model.scale,
                                               pbar=progress)
            except model_management.OOM_EXCEPTION:
                tile //= 2
                if tile < _SMALLEST_TILE:
                    raise
                logging.warning("ImageUpscaleWithModel: out of memory, trying %dx%d tiles", tile, tile)

    upscale = execute  # ComfyUI's classic method name


class UpscaleModelExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [UpscaleModelLoader, ImageUpscaleWithModel]


async def comfy_entrypoint() -> UpscaleModelExtension:
    return UpscaleModelExtension()
