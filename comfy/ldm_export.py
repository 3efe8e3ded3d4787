"""Exporting loaded models back to the original single-file checkpoint layouts (LDM / SGM / OpenCLIP).

Kiln runs diffusers and transformers modules; ComfyUI's checkpoints name the same weights as the original
Stability code did. These are the inverses of the loaders' conversions:

- UNet: `UNet2DConditionModel` keys → LDM `UNetModel` keys (`input_blocks.*`, `middle_block.*`, ...).
- VAE: `AutoencoderKL` keys → LDM keys (`encoder.down.*`, `decoder.up.*`, mid attention as 1×1 convs).
- Text encoders: transformers CLIP keys → the HF `text_model.*` layout SD1/SDXL keep for CLIP-L, or the
  OpenCLIP layout (fused `in_proj_*`, transposed `text_projection`) SD2 and SDXL use for OpenCLIP H / bigG.

`checkpoint_state_dict(model, clip, vae)` puts the three together under each family's checkpoint prefixes.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."

# Where each text encoder of a family lives in its checkpoint, and in which layout.
TEXT_ENCODER_PREFIXES: dict[str, dict[str, tuple[str, str]]] = {
    "SD1": {"clip_l": ("cond_stage_model.transformer.", "hf_clip")},
    "SD2": {"clip_h": ("cond_stage_model.model.", "open_clip")},
    "SDXL": {"clip_l": ("conditioner.embedders.0.transformer.", "hf_clip"),
             "clip_g": ("conditioner.embedders.1.model.", "open_clip")},
    "SDXLRefiner": {"clip_g": ("conditioner.embedders.0.model.", "open_clip")},
}
_FAMILY_TEXT_LAYOUT = {"SD15": "SD1", "SD15_inpaint": "SD1", "SD20": "SD2", "SD21": "SD2", "SDXL": "SDXL",
                       "SDXLRefiner": "SDXLRefiner"}

# --------------------------------------------------------------------------------------------------- UNet

_UNET_RESNET_RENAMES = (
    ("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("time_emb_proj", "emb_layers.1"),
    ("norm2", "out_layers.0"), ("conv2", "out_layers.3"), ("conv_shortcut", "skip_connection"),
)


def _rename_resnet(rest: str) -> str:
    name, _, tail = rest.partition(".")
    for diffusers_name, ldm_name in _UNET_RESNET_RENAMES:
        if name == diffusers_name:
            return f"{ldm_name}.{tail}"
    raise KeyError(f"unknown resnet parameter {rest!r}")


def unet_diffusers_to_ldm(state_dict: dict[str, torch.Tensor], config: dict[str, Any]) -> dict[str, torch.Tensor]:
    """Rename a `UNet2DConditionModel` state dict (with its `config`) to LDM `UNetModel` keys (no prefix).

    Down block b, res block j → input_blocks.{1 + b*(lpb+1) + j}.0 (attention .1), downsampler →
    input_blocks.{(b+1)*(lpb+1)}.0.op; up block b, res block j → output_blocks.{b*(lpb+1) + j}.0 (attention
    .1), upsampler → output_blocks.{b*(lpb+1) + lpb}.{2 with attention else 1}.conv; mid → middle_block.0/1/2.
    """
    per_level = config["layers_per_block"] + 1
    top_level = {**DIFFUSERS_TO_LDM_MAPPING["unet"]["layers"],
                 **DIFFUSERS_TO_LDM_MAPPING["unet"]["addition_embed_type"]}
    up_has_attention = [block_type.startswith("CrossAttn") for block_type in config["up_block_types"]]
    ldm: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key in top_level:
            ldm[top_level[key]] = value
            continue
        parts = key.split(".")
        if parts[0] in ("down_blocks", "up_blocks"):
            block, kind, index, rest = int(parts[1]), parts[2], int(parts[3]), ".".join(parts[4:])
            if parts[0] == "down_blocks":
                if kind == "resnets":
                    new = f"input_blocks.{1 + block * per_level + index}.0.{_rename_resnet(rest)}"
                elif kind == "attentions":
                    new = f"input_blocks.{1 + block * per_level + index}.1.{rest}"
                else:  # downsamplers.0.conv.*
                    new = f"input_blocks.{(block + 1) * per_level}.0.op.{rest.split('.', 1)[1]}"
            else:
                if kind == "resnets":
                    new = f"output_blocks.{block * per_level + index}.0.{_rename_resnet(rest)}"
                elif kind == "attentions":
                    new = f"output_blocks.{block * per_level + index}.1.{rest}"
                else:  # upsamplers.0.conv.*
                    slot = 2 if up_has_attention[block] else 1
                    new = f"output_blocks.{block * per_level + per_level - 1}.{slot}.{rest}"
        elif parts[0] == "mid_block":
            kind, index, rest = parts[1], int(parts[2]), ".".join(parts[3:])
            if kind == "resnets":
                new = f"middle_block.{2 * index}.{_rename_resnet(rest)}"
            else:
                new = f"middle_block.1.{rest}"
        else:
            raise KeyError(f"no LDM name for UNet key {key!r}")
        ldm[new] = value
    return ldm


# --------------------------------------------------------------------------------------------------- VAE

_VAE_ATTENTION_RENAMES = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def vae_diffusers_to_ldm(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an `AutoencoderKL` state dict to LDM VAE keys (bare `encoder.*` / `decoder.*`, plus the
    `quant_conv` / `post_quant_conv` pair).

    decoder.up_blocks.i → decoder.up.{n-1-i}; the mid attention's linear to_q/k/v/to_out.0 become the
    1×1 convolutions q/k/v/proj_out.
    """
    top_level = DIFFUSERS_TO_LDM_MAPPING["vae"]
    num_up = 1 + max(int(key.split(".")[2]) for key in state_dict if key.startswith("decoder.up_blocks."))
    ldm: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key in top_level:
            ldm[top_level[key]] = value
            continue
        side, rest = key.split(".", 1)
        match = re.match(r"(down|up)_blocks\.(\d+)\.(resnets|downsamplers|upsamplers)\.(\d+)\.(.*)", rest)
        if match:
            direction, block, kind, index, tail = match.groups()
            level = int(block) if direction == "down" else num_up - 1 - int(block)
            if kind == "resnets":
                new = f"{direction}.{level}.block.{index}.{tail.replace('conv_shortcut', 'nin_shortcut')}"
            else:
                new = f"{direction}.{level}.{'downsample' if direction == 'down' else 'upsample'}.{tail}"
        elif rest.startswith("mid_block.resnets."):
            index, tail = rest[len("mid_block.resnets."):].split(".", 1)
            new = f"mid.block_{int(index) + 1}.{tail.replace('conv_shortcut', 'nin_shortcut')}"
        elif rest.startswith("mid_block.attentions.0."):
            tail = rest[len("mid_block.attentions.0."):]
            module, _, parameter = tail.rpartition(".")
            new = f"mid.attn_1.{_VAE_ATTENTION_RENAMES[module]}.{parameter}"
            if value.ndim == 2:
                value = value.reshape(*value.shape, 1, 1)
        else:
            raise KeyError(f"no LDM name for VAE key {key!r}")
        ldm[f"{side}.{new}"] = value
    return ldm


# --------------------------------------------------------------------------------------------------- text encoders


def _strip_text_model(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key.removeprefix("text_model."): value for key, value in state_dict.items()}


def clip_l_to_ldm(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """transformers CLIP text model keys → the `text_model.*` layout checkpoints keep under their CLIP-L prefix.

    The text projection (unused by SD1 / SDXL, absent from their checkpoints) is dropped; the int64 `[1, 77]`
    `text_model.embeddings.position_ids` that real SD1/SDXL checkpoints carry is added.
    """
    source = {key: value for key, value in _strip_text_model(state_dict).items()
              if key not in ("text_projection.weight", "logit_scale")}
    ldm = {f"text_model.{key}": value for key, value in source.items()}
    positions = ldm["text_model.embeddings.position_embedding.weight"].shape[0]
    ldm["text_model.embeddings.position_ids"] = torch.arange(positions, dtype=torch.int64).reshape(1, positions)
    return ldm


_OPEN_CLIP_RENAMES = (("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"), ("mlp.fc1", "mlp.c_fc"),
                      ("mlp.fc2", "mlp.c_proj"), ("self_attn.out_proj", "attn.out_proj"))


def open_clip_to_ldm(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """transformers CLIP text model (with projection) keys → OpenCLIP keys: q/k/v fused into `in_proj_*`,
    `text_projection` transposed to [hidden, projection]."""
    source = _strip_text_model(state_dict)
    ldm: dict[str, torch.Tensor] = {}
    for key, value in source.items():
        if key == "embeddings.token_embedding.weight":
            ldm["token_embedding.weight"] = value
        elif key == "embeddings.position_embedding.weight":
            ldm["positional_embedding"] = value
        elif key.startswith("final_layer_norm."):
            ldm["ln_final." + key.split(".")[-1]] = value
        elif key == "text_projection.weight":
            ldm["text_projection"] = value.T.contiguous()
        elif key.startswith("encoder.layers."):
            layer, tail = key[len("encoder.layers."):].split(".", 1)
            block = f"transformer.resblocks.{layer}."
            projection = re.match(r"self_attn\.(q|k|v)_proj\.(weight|bias)", tail)
            if projection:
                letter, parameter = projection.groups()
                if letter == "q":
                    parts = [source[f"encoder.layers.{layer}.self_attn.{x}_proj.{parameter}"] for x in "qkv"]
                    ldm[f"{block}attn.in_proj_{parameter}"] = torch.cat(parts, dim=0)
                continue
            for hf_name, open_clip_name in _OPEN_CLIP_RENAMES:
                tail = tail.replace(hf_name, open_clip_name)
            ldm[block + tail] = value
        elif key in ("embeddings.position_ids", "logit_scale"):
            continue
        else:
            raise KeyError(f"no OpenCLIP name for text encoder key {key!r}")
    return ldm


def text_encoder_to_ldm(layout: str, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """One text encoder's transformers keys in checkpoint layout: "hf_clip" (CLIP-L) or "open_clip"."""
    if layout == "hf_clip":
        return clip_l_to_ldm(state_dict)
    if layout == "open_clip":
        return open_clip_to_ldm(state_dict)
    raise ValueError(f"unknown text encoder layout {layout!r}; expected 'hf_clip' or 'open_clip'")


# --------------------------------------------------------------------------------------------------- checkpoints


def _submodule_state(state_dict: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}


def unet_checkpoint_state_dict(model: Any) -> dict[str, torch.Tensor]:
    """A Kiln `BaseModel`'s UNet weights under `model.diffusion_model.` in LDM names."""
    unet = model.diffusion_model
    return {UNET_PREFIX + key: value
            for key, value in unet_diffusers_to_ldm(unet.state_dict(), dict(unet.config)).items()}


def vae_checkpoint_state_dict(autoencoder: torch.nn.Module) -> dict[str, torch.Tensor]:
    """An `AutoencoderKL`'s weights under `first_stage_model.` in LDM names."""
    return {VAE_PREFIX + key: value for key, value in vae_diffusers_to_ldm(autoencoder.state_dict()).items()}


def text_encoders_checkpoint_state_dict(family: str, clip_state: dict[str, torch.Tensor]
                                        ) -> dict[str, torch.Tensor]:
    """The text encoders of a CLIP's state dict (`<name>.transformer.*` keys, as `CLIP.get_sd()` gives them)
    under `family`'s checkpoint prefixes."""
    layout_name = _FAMILY_TEXT_LAYOUT.get(family)
    if layout_name is None:
        raise ValueError(f"no checkpoint layout for model family {family!r}; expected one of "
                         f"{sorted(_FAMILY_TEXT_LAYOUT)}")
    out: dict[str, torch.Tensor] = {}
    for name, (prefix, layout) in TEXT_ENCODER_PREFIXES[layout_name].items():
        encoder_state = _submodule_state(clip_state, f"{name}.transformer.")
        if not encoder_state:
            raise ValueError(f"the CLIP has no {name} text encoder, which a {family} checkpoint needs "
                             f"(it has: {sorted({key.split('.')[0] for key in clip_state})})")
        out.update({prefix + key: value for key, value in text_encoder_to_ldm(layout, encoder_state).items()})
    return out


def checkpoint_state_dict(model: Any, clip_state: dict[str, torch.Tensor] | None,
                          vae: torch.nn.Module | None) -> dict[str, torch.Tensor]:
    """A full single-file checkpoint: `model` (a Kiln BaseModel with `.family`), the CLIP's state dict and the
    VAE's `AutoencoderKL`, each in its original layout and prefix. Tensors are shared, not copied."""
    state = unet_checkpoint_state_dict(model)
    if clip_state is not None:
        state.update(text_encoders_checkpoint_state_dict(model.family, clip_state))
    if vae is not None:
        state.update(vae_checkpoint_state_dict(vae))
    return state
