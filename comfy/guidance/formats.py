"""Recognising guidance files from their keys and shapes: which format a ControlNet / T2I-Adapter / CLIP-vision /
style-model / GLIGEN / PhotoMaker file is in, and which model family it was made for.

This module is the one place that spells these files' marker keys and prefixes; the loaders ask it. Detection
follows ComfyUI 0.3.64's order (`comfy.controlnet.load_controlnet_state_dict`, `comfy.clip_vision.load`,
`comfy.sd.load_style_model`), never file names.

| format | marker |
| --- | --- |
| `control_lora` | `lora_controlnet` (Stability's Control-LoRA: deltas over the model's own UNet) |
| `sd_diffusers` / `sd_union` | `controlnet_cond_embedding.conv_in.weight` (diffusers' `ControlNetModel`; with `control_add_embedding.*` xinsir's union) |
| `flux_xlabs` | `controlnet_blocks.0.weight` with BFL `double_blocks.*` (XLabs); `flux_mistoline`: `controlnet_blocks.0.linear.weight` |
| `sd35` | `controlnet_blocks.0.weight`, `pos_embed_input.proj.weight` and DiT `transformer_blocks.0.adaLN_modulation.1.bias` (Stability's SD3.5 nets) |
| `sd3_diffusers` | `controlnet_blocks.0.weight` with `pos_embed_input.proj.weight` (diffusers' `SD3ControlNetModel`) |
| `flux_instantx` | `controlnet_blocks.0.weight` with `controlnet_x_embedder.weight` (InstantX / union / Alimama) |
| `sd_original` | `control_model.zero_convs.0.0.weight` or bare `zero_convs.0.0.weight` (lllyasviel's layout) |
| `t2i_full` / `t2i_light` / `t2i_xl` | `conv_in.weight` + `body.*` / `body.0.in_conv.weight` (TencentARC's layout; diffusers' `adapter.body.N.resnets.M.*` is renamed to it) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# --- ControlNets -------------------------------------------------------------------------------------------

SD_ORIGINAL_PREFIX = "control_model."  # lllyasviel's .pth / .safetensors keep the ControlNet under this prefix
SD_ORIGINAL_MARKER = "zero_convs.0.0.weight"
SD_DIFFUSERS_MARKER = "controlnet_cond_embedding.conv_in.weight"
SD_UNION_MARKER = "control_add_embedding.linear_1.bias"
CONTROL_LORA_MARKER = "lora_controlnet"
TRANSFORMER_CONTROL_MARKER = "controlnet_blocks.0.weight"
FLUX_XLABS_MARKER = "double_blocks.0.img_attn.norm.key_norm.scale"
FLUX_MISTOLINE_MARKER = "controlnet_blocks.0.linear.weight"
FLUX_INSTANTX_MARKER = "controlnet_x_embedder.weight"
SD3_HINT_EMBEDDER = "pos_embed_input.proj.weight"
SD35_MARKER = "transformer_blocks.0.adaLN_modulation.1.bias"
QWEN_INSTANTX_MARKER = "transformer_blocks.0.img_mlp.net.0.proj.weight"
HUNYUAN_DIT_MARKER = "after_proj_list.18.bias"

# --- T2I-Adapters ---------------------------------------------------------------------------------------------

T2I_NESTED_KEY = "adapter"  # some .pth files hold the adapter's state dict under this key
T2I_DIFFUSERS_MARKER = "adapter.body.0.resnets.0.block1.weight"
T2I_DIFFUSERS_PREFIX = "adapter."
T2I_LIGHT_MARKER = "body.0.in_conv.weight"
T2I_FULL_MARKER = "conv_in.weight"
STABLE_CASCADE_CONTROL_MARKERS = ("backbone.0.0.weight", "backbone.10.blocks.0.weight")

# --- CLIP vision, style models, GLIGEN, PhotoMaker -----------------------------------------------------------

CLIP_VISION_PREFIX = "vision_model."  # transformers' CLIP / SigLIP vision layout (ComfyUI's clip_vision files)
OPEN_CLIP_VISUAL_PREFIX = "visual."  # OpenCLIP's layout (`visual.transformer.resblocks.N.*`)
OPEN_CLIP_VISUAL_MARKER = "visual.transformer.resblocks.0.attn.in_proj_weight"
LLAVA_PROJECTOR_MARKER = "multi_modal_projector.linear_1.bias"  # LLaVA's ViT-L/14-336 with its projector
DINO_MARKER = ".layer_scale2.lambda1"  # DINOv2 image encoders
UNCLIP_CLIP_VISION_PREFIX = "embedder.model.visual."  # where SD2.1 unCLIP checkpoints keep their image encoder
UNCLIP_NOISE_AUGMENTOR_PREFIX = "noise_augmentor."
STYLE_T2I_MARKER = "style_embedding"
STYLE_REDUX_MARKER = "redux_down.weight"
GLIGEN_POSITION_NET_PREFIX = "position_net."
GLIGEN_FUSER_INFIX = ".fuser."
PHOTOMAKER_PREFIX = "id_encoder."
PHOTOMAKER_NESTED_KEY = "id_encoder"


class GuidanceFormatError(ValueError):
    """A file that is none of the guidance formats Kiln (or ComfyUI) loads; the message says what was seen."""


@dataclass(frozen=True)
class ControlFormat:
    """What a control file is: `kind` (one of the table's names above), the state dict with any wrapper
    prefix removed (`state_dict`), and the prefix that was removed."""

    kind: str
    state_dict: dict[str, Any]
    prefix: str = ""


def detect_control(state_dict: Mapping[str, Any]) -> ControlFormat:
    """The format of a ControlNet / T2I-Adapter / Control-LoRA file. Raises GuidanceFormatError for files that
    are none of them (or a format ComfyUI reads for model families Kiln does not load)."""
    keys = state_dict.keys()
    sd = dict(state_dict)
    if HUNYUAN_DIT_MARKER in keys:
        raise GuidanceFormatError("This is a HunyuanDiT ControlNet; Kiln does not load the HunyuanDiT family.")
    if CONTROL_LORA_MARKER in keys:
        return ControlFormat("control_lora", sd)
    if SD_DIFFUSERS_MARKER in keys:
        return ControlFormat("sd_union" if SD_UNION_MARKER in keys else "sd_diffusers", sd)
    if TRANSFORMER_CONTROL_MARKER in keys:
        if FLUX_XLABS_MARKER in keys:
            return ControlFormat("flux_xlabs", sd)
        if SD3_HINT_EMBEDDER in keys:
            return ControlFormat("sd35" if SD35_MARKER in keys else "sd3_diffusers", sd)
        if QWEN_INSTANTX_MARKER in keys:
            raise GuidanceFormatError("This is a Qwen-Image InstantX ControlNet; Kiln does not load the Qwen-Image "
                                      "family yet.")
        if FLUX_INSTANTX_MARKER in keys:
            return ControlFormat("flux_instantx", sd)
    elif FLUX_MISTOLINE_MARKER in keys:
        return ControlFormat("flux_mistoline", sd)
    if SD_ORIGINAL_PREFIX + SD_ORIGINAL_MARKER in keys:
        return ControlFormat("sd_original", {key[len(SD_ORIGINAL_PREFIX):]: value for key, value in sd.items()
                                             if key.startswith(SD_ORIGINAL_PREFIX)}, SD_ORIGINAL_PREFIX)
    if SD_ORIGINAL_MARKER in keys:
        return ControlFormat("sd_original", sd)
    return detect_t2i_adapter(sd)


def detect_t2i_adapter(state_dict: dict[str, Any]) -> ControlFormat:
    """A T2I-Adapter's format (`t2i_full`, `t2i_xl`, `t2i_light`), its diffusers naming turned into
    TencentARC's. Raises GuidanceFormatError when the file is no control file at all."""
    from comfy.guidance import t2i_adapter

    if T2I_NESTED_KEY in state_dict and isinstance(state_dict[T2I_NESTED_KEY], Mapping):
        state_dict = dict(state_dict[T2I_NESTED_KEY])
    if T2I_DIFFUSERS_MARKER in state_dict:
        state_dict = t2i_adapter.from_diffusers_names(state_dict, T2I_DIFFUSERS_PREFIX)
    if T2I_LIGHT_MARKER in state_dict:
        return ControlFormat("t2i_light", state_dict)
    if T2I_FULL_MARKER in state_dict:
        xl = t2i_adapter.is_xl(state_dict)
        return ControlFormat("t2i_xl" if xl else "t2i_full", state_dict)
    if any(marker in state_dict for marker in STABLE_CASCADE_CONTROL_MARKERS):
        raise GuidanceFormatError("This is a Stable Cascade ControlNet; Kiln does not load Stable Cascade.")
    shown = ", ".join(repr(key) for key in list(state_dict)[:6])
    raise GuidanceFormatError(
        "Not a ControlNet, T2I-Adapter or Control-LoRA file: none of their marker keys is there "
        f"(first keys: {shown}).")


# --- families ----------------------------------------------------------------------------------------------

# Kiln's family names -> the family group a control network must match (its base model).
_FAMILY_GROUPS = {
    "SD15": "SD1.x", "SD15_inpaint": "SD1.x", "SD15_instructpix2pix": "SD1.x",
    "SD20": "SD2.x", "SD21": "SD2.x", "SD2_inpaint": "SD2.x", "SD21UnclipL": "SD2.x", "SD21UnclipH": "SD2.x",
    "SDXL": "SDXL", "SDXL_instructpix2pix": "SDXL", "SDXLRefiner": "SDXL refiner",
    "SD3": "SD3", "SD35": "SD3",
    "Flux": "FLUX.1", "FluxSchnell": "FLUX.1", "FluxInpaint": "FLUX.1", "FluxControl": "FLUX.1",
}


# A Control-LoRA holds no UNet of its own; the width of its cross-attention inputs (the text encoder's) tells the
# family it was made for.
_CONTROL_LORA_CONTEXT_GROUPS = {768: "SD1.x", 1024: "SD2.x", 2048: "SDXL", 1280: "SDXL refiner"}
_CROSS_ATTENTION_KEY_SUFFIXES = (".attn2.to_k.down", ".attn2.to_k.weight")


def control_lora_family_group(state_dict: Mapping[str, Any]) -> str | None:
    """The family group a Control-LoRA was made for, from its cross-attention input width; None when no
    cross-attention key is there."""
    for key, value in state_dict.items():
        if key.endswith(_CROSS_ATTENTION_KEY_SUFFIXES):
            return _CONTROL_LORA_CONTEXT_GROUPS.get(int(value.shape[-1]))
    return None


def family_group(family_name: str | None) -> str | None:
    """The family group of a Kiln family name ("SD15_inpaint" -> "SD1.x", "FluxInpaint" -> "FLUX.1"); None for
    a name Kiln does not group."""
    if family_name is None:
        return None
    return _FAMILY_GROUPS.get(family_name)


def detect_clip_vision(sd: Mapping[str, Any]) -> str:
    """The configuration name (`comfy.guidance.clip_vision_models.CONFIGS`) of a transformers-layout image encoder,
    by ComfyUI's rules: layer count, width, position count; `GuidanceFormatError` for others."""
    def has_layer(index: int) -> bool:
        return f"{CLIP_VISION_PREFIX}encoder.layers.{index}.layer_norm1.weight" in sd

    if has_layer(47):
        return "vit_g"
    if has_layer(30):
        return "vit_h"
    if has_layer(22):
        positions = sd[f"{CLIP_VISION_PREFIX}embeddings.position_embedding.weight"].shape[0]
        if sd[f"{CLIP_VISION_PREFIX}encoder.layers.0.layer_norm1.weight"].shape[0] == 1152:
            by_positions = {729: "siglip_384", 1024: "siglip_512"}
            if positions in by_positions:
                return by_positions[positions]
        elif positions == 577:
            if LLAVA_PROJECTOR_MARKER in sd:
                raise GuidanceFormatError("LLaVA's ViT-L/14-336 projector is not supported yet")
            return "vit_l_336"
        else:
            return "vit_l"
    if any(DINO_MARKER in key for key in sd):
        raise GuidanceFormatError("DINOv2 image encoders are not supported yet")
    raise GuidanceFormatError("not a CLIP vision model Kiln knows (ViT-L/14, ViT-H/14, ViT-bigG/14, SigLIP 384/512)")
