"""ComfyUI's `comfy.supported_models`: the families Kiln loads and the functions that build their networks, as a
face over `comfy.families` (one description module per family; see comfy/families/README.md).

`load_diffusion_model` builds a family's diffusers network (UNet, FLUX.1 or SD3 transformer) from a state dict,
`load_vae` the autoencoder; both check every key and shape (`WeightLoadError` names the file and the first bad
keys). Configs are always built from the file's shapes, never fetched from a hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from comfy import families
from comfy.families import flux, sd3, unet, vae
from comfy.families.base import Family, FamilyMatch, WeightLoadError
from comfy.model_detection import TextEncoderInfo, model_family, text_encoders_in

__all__ = ["FAMILY_CONFIGS", "FamilyConfig", "WeightLoadError", "family_config", "flux_diffusers_config",
           "load_diffusion_model", "load_flux", "load_sd3", "load_unet", "load_vae", "models", "sd3_diffusers_config",
           "text_encoder_slots", "unet_diffusers_config", "vae_diffusers_config"]

FamilyConfig = Family
FAMILY_CONFIGS: Mapping[str, Family] = families.FAMILIES

# ComfyUI's match order (`supported_models.models`) restricted to the families Kiln loads.
models = ["SD15", "SD20", "SDXLRefiner", "SDXL", "SD3", "Flux", "FluxSchnell"]

flux_diffusers_config = flux.diffusers_config
sd3_diffusers_config = sd3.diffusers_config


def family_config(family: FamilyMatch | str) -> Family:
    """The `Family` description for a family name ("SD15", "SD21", ...) or a `FamilyMatch`."""
    return families.get(family)


def unet_diffusers_config(unet_config: dict[str, Any], family: FamilyMatch | str | None = None) -> dict[str, Any]:
    """A `UNet2DConditionModel` config dict for a detected LDM UNet config. `family` None uses SD1's heads for a
    conv `proj_in` UNet and SDXL's / SD2's 64-channel heads otherwise."""
    if family is None:
        family = "SD15" if not unet_config["use_linear_in_transformer"] else (
            "SDXL" if unet_config["adm_in_channels"] is not None else "SD20")
    return unet.unet_diffusers_config(unet_config, families.get(family))


def _bare_vae(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The VAE's keys without their prefix (a bare file: its encoder, decoder and quant convs)."""
    prefix = families.vae_prefix_of(state_dict)
    if prefix:
        return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
    return vae.vae_part(state_dict)


def vae_diffusers_config(vae_state_dict: Mapping[str, Any], scaling_factor: float = 0.18215) -> dict[str, Any]:
    """An `AutoencoderKL` config dict derived from LDM VAE weight shapes (a VAE file or a checkpoint)."""
    return vae.vae_diffusers_config(_bare_vae(vae_state_dict), scaling_factor)


def load_vae(state_dict: Mapping[str, torch.Tensor], source_name: str, scaling_factor: float = 0.18215,
             dtype: torch.dtype | None = torch.float32) -> Any:
    """The diffusers `AutoencoderKL` for LDM VAE weights (a VAE file, or a checkpoint's VAE part)."""
    families.import_network_libraries()
    return vae.load_vae(_bare_vae(state_dict), source_name, scaling_factor, dtype)


def load_diffusion_model(state_dict: Mapping[str, torch.Tensor], family: FamilyMatch, source_name: str,
                         dtype: torch.dtype | None = torch.float32, operations: Any = None) -> torch.nn.Module:
    """The diffusers network of a detected family: a UNet, a FLUX.1 or an SD3 transformer (with its layers
    built from `operations`, a `comfy.ops` set, when given)."""
    families.import_network_libraries()
    module = families.architecture_module(family.architecture)
    return module.load(state_dict, family, families.get(family), source_name, dtype, operations=operations)


def load_unet(state_dict: Mapping[str, torch.Tensor], family: FamilyMatch | str | None, source_name: str,
              dtype: torch.dtype | None = torch.float32) -> Any:
    """The diffusers UNet for the LDM/SGM UNet weights in `state_dict` (a checkpoint or a UNet alone).

    family: the `model_family` result, a family name (checked against the detected one), or None to detect it.
    """
    if not isinstance(family, FamilyMatch):
        detected = model_family(state_dict, source_name=source_name)
        if family is not None and family != detected.name:
            raise WeightLoadError(f"{source_name}: the UNet is {detected.name}, not {family}")
        family = detected
    families.import_network_libraries()
    return unet.load(state_dict, family, families.get(family), source_name, dtype)


def load_flux(state_dict: Mapping[str, torch.Tensor], family: FamilyMatch, source_name: str,
              dtype: torch.dtype | None = torch.float32) -> Any:
    """The diffusers FLUX.1 transformer (see `comfy.families.flux.load`)."""
    families.import_network_libraries()
    return flux.load(state_dict, family, families.get(family), source_name, dtype)


def load_sd3(state_dict: Mapping[str, torch.Tensor], family: FamilyMatch, source_name: str,
             dtype: torch.dtype | None = torch.float32) -> Any:
    """The diffusers SD3 MMDiT (see `comfy.families.sd3.load`)."""
    families.import_network_libraries()
    return sd3.load(state_dict, family, families.get(family), source_name, dtype)


def text_encoder_slots(state_dict: Mapping[str, Any]) -> tuple[TextEncoderInfo, ...]:
    """The text encoders in a checkpoint or text-encoder file: kind ("clip_l"/"clip_h"/"clip_g"/"t5xxl"), key
    prefix, layout ("hf_clip"/"open_clip"/"t5"), hidden size, layer count and projection width."""
    return text_encoders_in(state_dict)
