"""LoraSave ("Extract and Save Lora"): a LoRA file from the difference of two models (ModelMergeSubtract) or two
text encoders (CLIPMergeSubtract), which LoraLoader reads back.

Every 2-D or 4-D weight of the difference becomes, in "standard" mode, a rank-`rank` pair from its singular value
decomposition (up = U·S, down = Vh, a 3x3 convolution flattened to a matrix first; both clamped at the 99th
percentile of their joined values; a matrix wider or taller than 8192 gets the reduced decomposition, whose
leading vectors are the same up to sign), or in "full_diff" mode the difference itself (`.diff`). 1-D weights and, with
`bias_diff`, biases are stored whole (`.diff`, `.diff_b`). Keys carry ComfyUI's names (`diffusion_model.` + the
original checkpoint key; `text_encoders.` + the text encoder's key), tensors are float16.
"""

from __future__ import annotations

import enum
import logging
import os
from typing import Any

import torch

import comfy.model_management
import comfy.utils
import folder_paths
from comfy_api.latest import ComfyExtension, io

__all__ = ["CLAMP_QUANTILE", "LORAType", "LORA_TYPES", "LoraSave", "LoraSaveExtension", "calc_lora_model",
           "comfy_entrypoint", "extract_lora"]

CLAMP_QUANTILE = 0.99
FULL_SVD_LIMIT = 8192  # rows or columns above which only the leading singular vectors are computed


class LORAType(enum.Enum):
    STANDARD = 0
    FULL_DIFF = 1


LORA_TYPES = {"standard": LORAType.STANDARD, "full_diff": LORAType.FULL_DIFF}


def extract_lora(diff: torch.Tensor, rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(up, down) of rank min(rank, rows, columns) whose product approximates `diff` (a Linear or Conv2d
    weight); up is U·S, down Vh, clamped to the 99th percentile of their values."""
    out_features, in_features = diff.shape[:2]
    rank = min(rank, in_features, out_features)
    kernel = tuple(diff.shape[2:4]) if diff.ndim == 4 else None
    matrix = diff
    if kernel is not None:
        matrix = diff.flatten(start_dim=1) if kernel != (1, 1) else diff.squeeze()
    # ComfyUI decomposes in full; Kiln too (the same numbers, signs included, which the clamp depends on) unless
    # a full factor would be huge: a text encoder's token embedding (49408 rows) would need a 49408² U (10 GB)
    u, s, vh = torch.linalg.svd(matrix.float(), full_matrices=max(matrix.shape) <= FULL_SVD_LIMIT)
    up = u[:, :rank] @ torch.diag(s[:rank])
    down = vh[:rank, :]
    limit = torch.quantile(torch.cat([up.flatten(), down.flatten()]), CLAMP_QUANTILE)
    up, down = up.clamp(-limit, limit), down.clamp(-limit, limit)
    if kernel is not None:
        up = up.reshape(out_features, rank, 1, 1)
        down = down.reshape(rank, in_features, *kernel)
    return up, down


def _comfy_named_weights(patcher: Any, prefix_model: str) -> dict[str, torch.Tensor]:
    """The patcher's weights with its patches applied, by ComfyUI's names: a diffusion model's under
    `diffusion_model.` in its family's original layout, a text encoder's as its state dict names them."""
    comfy.model_management.load_models_gpu([patcher], force_patch_weights=True)
    if prefix_model == "diffusion_model.":
        from comfy.families import export  # diffusers' tables: only needed when saving

        return {prefix_model + key: value for key, value in export.diffusion_model_state_dict(patcher.model).items()}
    return {key: value for key, value in patcher.model.state_dict().items() if key.startswith(prefix_model)}


def calc_lora_model(model_diff: Any, rank: int, prefix_model: str, prefix_lora: str, output_sd: dict,
                    lora_type: LORAType, bias_diff: bool = False) -> dict:
    """Add the LoRA tensors of `model_diff`'s weights under `prefix_model` to `output_sd`, named `prefix_lora` +
    the weight's name after `prefix_model`; returns `output_sd`."""
    for key, weight in _comfy_named_weights(model_diff, prefix_model).items():
        if key.endswith(".weight"):
            name = prefix_lora + key[len(prefix_model):-len(".weight")]
            if lora_type == LORAType.FULL_DIFF:
                output_sd[f"{name}.diff"] = weight.contiguous().half().cpu()
            elif weight.ndim < 2:
                if bias_diff:
                    output_sd[f"{name}.diff"] = weight.contiguous().half().cpu()
            else:
                try:
                    up, down = extract_lora(weight, rank)
                except Exception:  # noqa: BLE001 - one weight the decomposition fails on is left out, as ComfyUI does
                    logging.warning("Could not generate lora weights for key %s, is the weight difference a zero?", key)
                    continue
                output_sd[f"{name}.lora_up.weight"] = up.contiguous().half().cpu()
                output_sd[f"{name}.lora_down.weight"] = down.contiguous().half().cpu()
        elif bias_diff and key.endswith(".bias"):
            output_sd[f"{prefix_lora}{key[len(prefix_model):-len('.bias')]}.diff_b"] = weight.contiguous().half().cpu()
    return output_sd


class LoraSave(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LoraSave", display_name="Extract and Save Lora", category="_for_testing", is_experimental=True,
            is_output_node=True,
            inputs=[io.String.Input("filename_prefix", default="loras/ComfyUI_extracted_lora"),
                    io.Int.Input("rank", default=8, min=1, max=4096, step=1),
                    io.Combo.Input("lora_type", options=tuple(LORA_TYPES)),
                    io.Boolean.Input("bias_diff", default=True),
                    io.Model.Input("model_diff", tooltip="The ModelSubtract output to be converted to a lora.",
                                   optional=True),
                    io.Clip.Input("text_encoder_diff", tooltip="The CLIPSubtract output to be converted to a lora.",
                                  optional=True)])

    @classmethod
    def execute(cls, filename_prefix: str, rank: int, lora_type: str, bias_diff: bool, model_diff: Any = None,
                text_encoder_diff: Any = None) -> io.NodeOutput:
        if model_diff is None and text_encoder_diff is None:
            return io.NodeOutput()
        kind = LORA_TYPES[lora_type]
        folder, filename, counter, _, _ = folder_paths.get_save_image_path(filename_prefix,
                                                                           folder_paths.get_output_directory())
        tensors: dict[str, torch.Tensor] = {}
        if model_diff is not None:
            calc_lora_model(model_diff, rank, "diffusion_model.", "diffusion_model.", tensors, kind, bias_diff)
        if text_encoder_diff is not None:
            calc_lora_model(text_encoder_diff.patcher, rank, "", "text_encoders.", tensors, kind, bias_diff)
        comfy.utils.save_torch_file(tensors, os.path.join(folder, f"{filename}_{counter:05}_.safetensors"))
        return io.NodeOutput()


class LoraSaveExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [LoraSave]


async def comfy_entrypoint() -> LoraSaveExtension:
    return LoraSaveExtension()
