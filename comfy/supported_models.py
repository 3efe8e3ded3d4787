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


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = 'Kiln does not support this model family'

ACEStep = unsupported_class(__name__, 'ACEStep', None, _REASON)
AuraFlow = unsupported_class(__name__, 'AuraFlow', None, _REASON)
Chroma = unsupported_class(__name__, 'Chroma', None, _REASON)
ChromaRadiance = unsupported_class(__name__, 'ChromaRadiance', None, _REASON)
CosmosI2V = unsupported_class(__name__, 'CosmosI2V', None, _REASON)
CosmosI2VPredict2 = unsupported_class(__name__, 'CosmosI2VPredict2', None, _REASON)
CosmosT2IPredict2 = unsupported_class(__name__, 'CosmosT2IPredict2', 'unet_config', _REASON)
CosmosT2V = unsupported_class(__name__, 'CosmosT2V', None, _REASON)
Flux = unsupported_class(__name__, 'Flux', None, _REASON)
FluxInpaint = unsupported_class(__name__, 'FluxInpaint', None, _REASON)
FluxSchnell = unsupported_class(__name__, 'FluxSchnell', None, _REASON)
GenmoMochi = unsupported_class(__name__, 'GenmoMochi', None, _REASON)
HiDream = unsupported_class(__name__, 'HiDream', None, _REASON)
Hunyuan3Dv2 = unsupported_class(__name__, 'Hunyuan3Dv2', None, _REASON)
Hunyuan3Dv2_1 = unsupported_class(__name__, 'Hunyuan3Dv2_1', None, _REASON)
Hunyuan3Dv2mini = unsupported_class(__name__, 'Hunyuan3Dv2mini', None, _REASON)
HunyuanDiT = unsupported_class(__name__, 'HunyuanDiT', None, _REASON)
HunyuanDiT1 = unsupported_class(__name__, 'HunyuanDiT1', None, _REASON)
HunyuanImage21 = unsupported_class(__name__, 'HunyuanImage21', None, _REASON)
HunyuanImage21Refiner = unsupported_class(__name__, 'HunyuanImage21Refiner', None, _REASON)
HunyuanVideo = unsupported_class(__name__, 'HunyuanVideo', None, _REASON)
HunyuanVideoI2V = unsupported_class(__name__, 'HunyuanVideoI2V', None, _REASON)
HunyuanVideoSkyreelsI2V = unsupported_class(__name__, 'HunyuanVideoSkyreelsI2V', None, _REASON)
KOALA_1B = unsupported_class(__name__, 'KOALA_1B', None, _REASON)
KOALA_700M = unsupported_class(__name__, 'KOALA_700M', None, _REASON)
LTXV = unsupported_class(__name__, 'LTXV', 'unet_config', _REASON)
LotusD = unsupported_class(__name__, 'LotusD', None, _REASON)
Lumina2 = unsupported_class(__name__, 'Lumina2', None, _REASON)
Omnigen2 = unsupported_class(__name__, 'Omnigen2', 'unet_config', _REASON)
PixArtAlpha = unsupported_class(__name__, 'PixArtAlpha', None, _REASON)
PixArtSigma = unsupported_class(__name__, 'PixArtSigma', None, _REASON)
QwenImage = unsupported_class(__name__, 'QwenImage', None, _REASON)
SD15 = unsupported_class(__name__, 'SD15', None, _REASON)
SD15_instructpix2pix = unsupported_class(__name__, 'SD15_instructpix2pix', None, _REASON)
SD20 = unsupported_class(__name__, 'SD20', None, _REASON)
SD21UnclipH = unsupported_class(__name__, 'SD21UnclipH', None, _REASON)
SD21UnclipL = unsupported_class(__name__, 'SD21UnclipL', None, _REASON)
SD3 = unsupported_class(__name__, 'SD3', None, _REASON)
SDXL = unsupported_class(__name__, 'SDXL', None, _REASON)
SDXLRefiner = unsupported_class(__name__, 'SDXLRefiner', None, _REASON)
SDXL_instructpix2pix = unsupported_class(__name__, 'SDXL_instructpix2pix', None, _REASON)
SD_X4Upscaler = unsupported_class(__name__, 'SD_X4Upscaler', None, _REASON)
SSD1B = unsupported_class(__name__, 'SSD1B', None, _REASON)
SV3D_p = unsupported_class(__name__, 'SV3D_p', None, _REASON)
SV3D_u = unsupported_class(__name__, 'SV3D_u', None, _REASON)
SVD_img2vid = unsupported_class(__name__, 'SVD_img2vid', None, _REASON)
Segmind_Vega = unsupported_class(__name__, 'Segmind_Vega', None, _REASON)
StableAudio = unsupported_class(__name__, 'StableAudio', None, _REASON)
Stable_Cascade_B = unsupported_class(__name__, 'Stable_Cascade_B', None, _REASON)
Stable_Cascade_C = unsupported_class(__name__, 'Stable_Cascade_C', None, _REASON)
Stable_Zero123 = unsupported_class(__name__, 'Stable_Zero123', None, _REASON)
WAN21_Camera = unsupported_class(__name__, 'WAN21_Camera', None, _REASON)
WAN21_FunControl2V = unsupported_class(__name__, 'WAN21_FunControl2V', None, _REASON)
WAN21_HuMo = unsupported_class(__name__, 'WAN21_HuMo', None, _REASON)
WAN21_I2V = unsupported_class(__name__, 'WAN21_I2V', None, _REASON)
WAN21_T2V = unsupported_class(__name__, 'WAN21_T2V', 'unet_config', _REASON)
WAN21_Vace = unsupported_class(__name__, 'WAN21_Vace', 'unet_config', _REASON)
WAN22_Animate = unsupported_class(__name__, 'WAN22_Animate', 'unet_config', _REASON)
WAN22_Camera = unsupported_class(__name__, 'WAN22_Camera', None, _REASON)
WAN22_S2V = unsupported_class(__name__, 'WAN22_S2V', 'unet_config', _REASON)
WAN22_T2V = unsupported_class(__name__, 'WAN22_T2V', None, _REASON)
