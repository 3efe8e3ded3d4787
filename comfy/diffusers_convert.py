"""diffusers-layout weights in the original (LDM) layout (ComfyUI's `comfy.diffusers_convert`), for the VAE.

The conversion is Kiln's one table per layout (`comfy.families.vae.vae_diffusers_to_ldm`, also used by
DiffusersLoader and CheckpointSave). ComfyUI's text-encoder conversions, which rename the module names of its own
CLIP classes, are not here: Kiln's text encoders are transformers modules (see public_names_gaps.json).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch


def reshape_weight_for_sd(w: torch.Tensor, conv3d: bool = False) -> torch.Tensor:
    """A linear layer's weight `[out, in]` as the equal 1x1 (or 1x1x1) convolution weight."""
    return w.reshape(*w.shape, 1, 1, 1) if conv3d else w.reshape(*w.shape, 1, 1)


def convert_vae_state_dict(vae_state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A diffusers `AutoencoderKL` state dict in LDM VAE names (`encoder.down.0.block.0...`), the mid-block
    attention's linear weights as 1x1 convolutions."""
    from comfy.families.vae import vae_diffusers_to_ldm

    return vae_diffusers_to_ldm(vae_state_dict)


def cat_tensors(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """The tensors stacked along their first dimension (one new tensor)."""
    return torch.cat(list(tensors), dim=0)


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_function  # noqa: E402

_REASON = "Kiln converts diffusers layouts with its own per-family tables (comfy/families)"

code2idx = UnsupportedValue(__name__, 'code2idx', _REASON)
convert_text_enc_state_dict = unsupported_function(__name__, 'convert_text_enc_state_dict', 'text_enc_dict', _REASON)
convert_text_enc_state_dict_v20 = unsupported_function(__name__, 'convert_text_enc_state_dict_v20', 'text_enc_dict, prefix=', _REASON)
protected = UnsupportedValue(__name__, 'protected', _REASON)
textenc_conversion_lst = UnsupportedValue(__name__, 'textenc_conversion_lst', _REASON)
textenc_pattern = UnsupportedValue(__name__, 'textenc_pattern', _REASON)
vae_conversion_map = UnsupportedValue(__name__, 'vae_conversion_map', _REASON)
vae_conversion_map_attn = UnsupportedValue(__name__, 'vae_conversion_map_attn', _REASON)
