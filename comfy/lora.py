"""LoRA files (kohya / A1111 `lora_unet_*`, `lora_te*_*` keys) as weight patches for a `ModelPatcher`.

kohya names each adapted layer by its diffusers (UNet) or transformers (text encoder) module path with dots
turned into underscores. A key map from those names to the model's parameter names turns a LoRA file into
`{parameter: (up, down, alpha)}` patches; the patcher adds `strength * up @ down * alpha / rank` on load.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

LORA_SUFFIXES = (".lora_up.weight", ".lora_down.weight", ".alpha", ".lora_mid.weight", ".dora_scale")


def _kohya_name(module_path: str) -> str:
    return module_path.replace(".", "_")


def parameter_shapes(model: torch.nn.Module) -> dict[str, torch.Size]:
    return {name: parameter.shape for name, parameter in model.named_parameters()}


def unet_key_map(unet: torch.nn.Module, parameter_prefix: str = "diffusion_model.") -> dict[str, str]:
    """kohya layer name → parameter name, for every Linear/Conv2d of a diffusers UNet, under both names kohya
    uses: the diffusers module path (SD1/SD2 LoRAs, `lora_unet_down_blocks_0_...`) and the original LDM one
    (SDXL LoRAs, `lora_unet_input_blocks_4_1_...`). `parameter_prefix` is where the UNet sits in the model."""
    from comfy.ldm_export import unet_diffusers_to_ldm

    key_map = {}
    adaptable = set()
    for module_path, module in unet.named_modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
            key_map[f"lora_unet_{_kohya_name(module_path)}"] = f"{parameter_prefix}{module_path}.weight"
            adaptable.add(f"{module_path}.weight")
    state = unet.state_dict()
    diffusers_name_of = {id(tensor): name for name, tensor in state.items()}
    for ldm_name, tensor in unet_diffusers_to_ldm(state, dict(unet.config)).items():
        diffusers_name = diffusers_name_of.get(id(tensor))
        if diffusers_name in adaptable and ldm_name.endswith(".weight"):
            key_map.setdefault(f"lora_unet_{_kohya_name(ldm_name.removesuffix('.weight'))}",
                               f"{parameter_prefix}{diffusers_name}")
    return key_map


def text_encoder_key_map(encoder: torch.nn.Module, kohya_prefix: str, parameter_prefix: str) -> dict[str, str]:
    """kohya layer name (`<kohya_prefix>text_model_<module_path>`) → parameter name, for every Linear of a
    transformers CLIP text model (flattened or not)."""
    key_map = {}
    for module_path, module in encoder.named_modules():
        if isinstance(module, torch.nn.Linear):
            path = module_path.removeprefix("text_model.")
            key_map[f"{kohya_prefix}text_model_{_kohya_name(path)}"] = f"{parameter_prefix}{module_path}.weight"
    return key_map


def lora_layer_names(lora: dict[str, torch.Tensor]) -> set[str]:
    """The adapted layers named in a LoRA file (keys without their `.lora_up.weight`-style suffixes)."""
    names = set()
    for key in lora:
        for suffix in LORA_SUFFIXES:
            if key.endswith(suffix):
                names.add(key[: -len(suffix)])
                break
    return names


def load_lora(lora: dict[str, torch.Tensor], key_map: dict[str, str],
              shapes: dict[str, torch.Size] | None = None) -> tuple[dict[str, Any], set[str]]:
    """Patches `{parameter: (up, down, alpha)}` for the layers of `lora` that `key_map` knows (and, with
    `shapes`, whose low-rank product has the parameter's size), and the set of layer names it used."""
    patches: dict[str, Any] = {}
    used = set()
    for name in lora_layer_names(lora):
        parameter = key_map.get(name)
        up = lora.get(f"{name}.lora_up.weight")
        down = lora.get(f"{name}.lora_down.weight")
        if parameter is None or up is None or down is None:
            continue
        if shapes is not None and up.shape[0] * down[0].numel() != shapes[parameter].numel():
            continue
        alpha = lora.get(f"{name}.alpha")
        patches[parameter] = (up, down, float(alpha) if alpha is not None else None)
        used.add(name)
    return patches, used


def check_lora_fits(lora_name: str, lora: dict[str, torch.Tensor], used: set[str]) -> None:
    """Refuse a LoRA most of whose layers do not exist in the model with the right shape (one made for another
    family); warn when only a few are missing."""
    names = lora_layer_names(lora)
    if not names:
        raise ValueError(f"{lora_name} is not a LoRA file: it has no lora_up/lora_down weights.")
    if len(used) * 2 < len(names):
        example = sorted(names - used)[0]
        raise ValueError(f"LoRA {lora_name} does not fit this model: only {len(used)} of its {len(names)} layers "
                         f"exist here with matching shapes (first missing: {example}). It was probably made for "
                         "another model family.")
    missing = sorted(names - used)
    if missing:
        logging.warning("LoRA %s: %d of %d layers not found in the model, e.g. %s", lora_name, len(missing),
                        len(names), missing[0])
