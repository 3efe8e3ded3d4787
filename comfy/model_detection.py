"""What a state dict is, from its key names and tensor shapes only (never from a file name): ComfyUI's
`comfy.model_detection`, a face over the family descriptions in `comfy.families`.

Three questions, answered in this order by the loaders:

1. `checkpoint_contents(state_dict)`: is it a full checkpoint, a diffusion model alone, a VAE alone or a
   text encoder alone, and under which key prefixes do its parts live?
2. `detect_unet_config(state_dict, key_prefix)`: the LDM `UNetModel` hyper-parameters the UNet weights imply
   (`detect_flux_config` / `detect_mmdit_config` for the flow transformers).
3. `model_family(state_dict)`: which family that is (`SD15`, `SD15_inpaint`, `SD20`, `SD21`, `SDXL`,
   `SDXLRefiner`, `Flux` (FLUX.1 dev), `FluxSchnell`, `SD3`), with its prediction type.

How each family is recognised is written in its module (`comfy/families/<family>.py`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from comfy import families
from comfy.families import flux, sd2, sd3, unet
from comfy.families.base import FamilyMatch, ModelDetectionError, first_keys
from comfy.families.shapes import count_indices, shape

__all__ = ["CheckpointContents", "FamilyMatch", "ModelDetectionError", "SD2_V_PREDICTION_STD_KEY", "TextEncoderInfo",
           "checkpoint_contents", "detect_flux_config", "detect_flux_diffusers_config", "detect_mmdit_config",
           "detect_mmdit_diffusers_config", "detect_unet_config", "flux_rope_axes", "model_family",
           "text_encoders_in", "unet_prefix_from_state_dict"]

detect_unet_config = unet.detect_unet_config
detect_flux_config = flux.detect_config
detect_flux_diffusers_config = flux.detect_diffusers_config
detect_mmdit_config = sd3.detect_config
detect_mmdit_diffusers_config = sd3.detect_diffusers_config
flux_rope_axes = flux.rope_axes
unet_prefix_from_state_dict = families.diffusion_model_prefix
SD2_V_PREDICTION_STD_KEY = sd2.V_PREDICTION_STD_KEY


@dataclass(frozen=True)
class TextEncoderInfo:
    """One text encoder found in a state dict.

    kind: "clip_l" (OpenAI CLIP ViT-L text model, HF layout), "clip_h" (OpenCLIP ViT-H, SD2), "clip_g"
    (OpenCLIP ViT-bigG, SDXL / SD3), "t5xxl" (T5 encoder, SD3 / Flux), "umt5xxl" (UMT5 encoder, Wan); `layout` is
    "hf_clip" (`text_model.*` / flattened `embeddings.*`), "open_clip" (`transformer.resblocks.*`, fused `in_proj`),
    "t5" (HF T5EncoderModel: `shared.weight`, `encoder.block.*`) or "umt5" (the same keys, a relative-position
    table in every block); `prefix` is the key prefix in front of that layout; hidden_size /
    num_layers / projection_dim come from the weights (projection_dim None without a `text_projection`).
    """

    kind: str
    prefix: str
    layout: str
    hidden_size: int
    num_layers: int
    projection_dim: int | None = None


@dataclass(frozen=True)
class CheckpointContents:
    """What parts a state dict holds and under which prefixes.

    kind: "checkpoint" (UNet plus VAE and/or text encoders), "unet", "vae" or "text_encoder".
    unet_prefix / vae_prefix: the key prefix of that part, None when absent ("" for bare keys).
    """

    kind: str
    unet_prefix: str | None
    vae_prefix: str | None
    text_encoders: tuple[TextEncoderInfo, ...] = ()


def model_family(state_dict: Mapping[str, Any], unet_prefix: str | None = None,
                 source_name: str | None = None) -> FamilyMatch:
    """The family of the diffusion model in `state_dict` (a checkpoint or a diffusion model alone).

    unet_prefix: where its keys live (None: found from the marker keys). source_name: the file, for the error
    message. Raises ModelDetectionError ("Could not detect model type of: <file>. ...", naming the first keys
    seen) when the layout is not one of the families.
    """
    try:
        return families.detect(state_dict, unet_prefix)
    except ModelDetectionError as error:
        where = f" of: {source_name}" if source_name else ""
        raise ModelDetectionError(f"Could not detect model type{where}. {error}") from None


# --- text encoders -------------------------------------------------------------------------------------


def _hf_clip_info(state_dict: Mapping[str, Any], prefix: str, kind: str | None) -> TextEncoderInfo | None:
    for inner in ("text_model.", ""):
        token_key = f"{prefix}{inner}embeddings.token_embedding.weight"
        if token_key in state_dict:
            hidden = shape(state_dict, token_key)[1]
            layers = count_indices(
                {k: None for k in state_dict if k.startswith(prefix)},
                re.escape(f"{prefix}{inner}encoder.layers.") + r"(\d+)\.",
            )
            projection = state_dict.get(prefix + "text_projection.weight")
            projection_dim = tuple(projection.shape)[0] if projection is not None else None
            if kind is None:
                kind = {768: "clip_l", 1024: "clip_h", 1280: "clip_g"}.get(hidden, "clip_l")
            return TextEncoderInfo(kind, prefix, "hf_clip", hidden, layers, projection_dim)
    return None


def _open_clip_info(state_dict: Mapping[str, Any], prefix: str, kind: str | None) -> TextEncoderInfo | None:
    token_key = prefix + "token_embedding.weight"
    if token_key not in state_dict or prefix + "transformer.resblocks.0.attn.in_proj_weight" not in state_dict:
        return None
    hidden = shape(state_dict, token_key)[1]
    layers = count_indices(
        {k: None for k in state_dict if k.startswith(prefix)}, re.escape(prefix + "transformer.resblocks.") + r"(\d+)\."
    )
    projection = state_dict.get(prefix + "text_projection")
    projection_dim = tuple(projection.shape)[1] if projection is not None else None
    if kind is None:
        # OpenCLIP ViT-H is 1024 wide; bigG is 1280. A reduced-size file alone cannot say, bigG is assumed.
        kind = "clip_h" if hidden == 1024 else "clip_g"
    return TextEncoderInfo(kind, prefix, "open_clip", hidden, layers, projection_dim)


def _t5_info(state_dict: Mapping[str, Any], prefix: str) -> TextEncoderInfo | None:
    query_key = prefix + "encoder.block.0.layer.0.SelfAttention.q.weight"
    if query_key not in state_dict:
        return None
    hidden = shape(state_dict, query_key)[1]
    layers = count_indices({k: None for k in state_dict if k.startswith(prefix)},
                           re.escape(prefix + "encoder.block.") + r"(\d+)\.")
    # UMT5 (Wan) keeps a relative-position table in every block, T5 v1.1 in the first only.
    if prefix + "encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight" in state_dict:
        return TextEncoderInfo("umt5xxl", prefix, "umt5", hidden, layers)
    return TextEncoderInfo("t5xxl", prefix, "t5", hidden, layers)


def text_encoders_in(state_dict: Mapping[str, Any]) -> tuple[TextEncoderInfo, ...]:
    """The text encoders in a checkpoint (at the prefixes the families declare) or a text-encoder-only file
    (bare keys)."""
    found: list[TextEncoderInfo] = []
    for prefix, kind, layout in families.text_encoder_locations():
        if layout in ("t5", "umt5"):
            info = _t5_info(state_dict, prefix)
        else:
            info = _hf_clip_info(state_dict, prefix, kind) or _open_clip_info(state_dict, prefix, kind)
        if info is not None:
            found.append(info)
    if not found:
        info = _hf_clip_info(state_dict, "", None) or _open_clip_info(state_dict, "", None) or _t5_info(state_dict, "")
        if info is not None:
            found.append(info)
    return tuple(found)


# --- what a file is ------------------------------------------------------------------------------------


def checkpoint_contents(state_dict: Mapping[str, Any], source_name: str | None = None) -> CheckpointContents:
    """Classify a state dict: full checkpoint, UNet only, VAE only or text encoder only.

    Raises ModelDetectionError (naming `source_name` if given, and the first keys seen) when none of these
    layouts is present.
    """
    where = f"{source_name}: " if source_name else ""
    if not state_dict:
        raise ModelDetectionError(f"{where}Not a model file: the state dict is empty.")
    unet_prefix: str | None
    try:
        unet_prefix = families.diffusion_model_prefix(state_dict)
    except ModelDetectionError:
        unet_prefix = None
    vae_prefix = families.vae_prefix_of(state_dict)
    text_encoders = text_encoders_in(state_dict)
    if unet_prefix is not None:
        kind = "checkpoint" if (vae_prefix is not None or text_encoders) else "unet"
    elif vae_prefix is not None:
        kind = "vae"
    elif text_encoders:
        kind = "text_encoder"
    else:
        raise ModelDetectionError(
            f"{where}Could not tell what this file is: no diffusion model ({unet.MARKER!r}, {flux.MARKER!r}, "
            f"{sd3.MARKER!r}), VAE ('decoder.conv_in.weight') or text encoder ('token_embedding.weight', "
            f"'encoder.block.0.*') keys. First keys seen: {first_keys(state_dict)}"
        )
    return CheckpointContents(kind, unet_prefix, vae_prefix, text_encoders)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "Kiln detects models with comfy/families, not ComfyUI's UNet config tables"

calculate_transformer_depth = unsupported_function(__name__, 'calculate_transformer_depth', 'prefix, state_dict_keys, state_dict', _REASON)
convert_config = unsupported_function(__name__, 'convert_config', 'unet_config', _REASON)
convert_diffusers_mmdit = unsupported_function(__name__, 'convert_diffusers_mmdit', 'state_dict, output_prefix=', _REASON)
count_blocks = unsupported_function(__name__, 'count_blocks', 'state_dict_keys, prefix_string', _REASON)
model_config_from_diffusers_unet = unsupported_function(__name__, 'model_config_from_diffusers_unet', 'state_dict', _REASON)
model_config_from_unet = unsupported_function(__name__, 'model_config_from_unet', 'state_dict, unet_key_prefix, use_base_if_no_match=, metadata=', _REASON)
model_config_from_unet_config = unsupported_function(__name__, 'model_config_from_unet_config', 'unet_config, state_dict=', _REASON)
unet_config_from_diffusers_unet = unsupported_function(__name__, 'unet_config_from_diffusers_unet', 'state_dict, dtype=', _REASON)
