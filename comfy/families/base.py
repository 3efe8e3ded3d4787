"""What a model-family description holds: the data types every module in `comfy.families` fills in.

A family is one `Family` value (one per ComfyUI model class Kiln loads, SD1.5 inpainting and SD2.1-v as variants
of their base) plus the family module's detection function. Everything Kiln needs to know about a family's files
is here or in that module: where each part lives in a single-file checkpoint, how its diffusion model is
recognised, how its keys map to the network Kiln builds and back, its text encoders and the names LoRA files
give their layers, its latent format and sampling defaults, and which loader-node options build its CLIP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Where single-file checkpoints keep the diffusion model (every family so far) and the VAE (LDM / SGM files and
# ComfyUI's SD3; ComfyUI's own newer files, FLUX.1 on, use `COMFY_VAE_PREFIX`).
DIFFUSION_MODEL_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
COMFY_VAE_PREFIX = "vae."


# Where ComfyUI's own single-file checkpoints (SD3, FLUX.1 and later families) keep each text encoder.
COMFY_TEXT_ENCODER_PREFIXES = {
    "clip_l": "text_encoders.clip_l.transformer.",
    "clip_g": "text_encoders.clip_g.transformer.",
    "t5xxl": "text_encoders.t5xxl.transformer.",
    "umt5xxl": "text_encoders.umt5xxl.transformer.",
}


def comfy_text_encoder_prefix(kind: str) -> str:
    """Where ComfyUI's own single-file checkpoints keep the text encoder of `kind`."""
    return COMFY_TEXT_ENCODER_PREFIXES[kind]


# The kinds of text encoder: OpenAI CLIP ViT-L/14 (SD1, SDXL, SD3, Flux), OpenCLIP ViT-H/14 (SD2), OpenCLIP
# ViT-bigG/14 (SDXL, SD3), T5 v1.1 XXL (SD3, Flux), UMT5-XXL (Wan).
TEXT_ENCODER_KINDS = ("clip_l", "clip_h", "clip_g", "t5xxl", "umt5xxl")


@dataclass(frozen=True)
class TextEncoderPart:
    """One text encoder of a family.

    kind: one of `TEXT_ENCODER_KINDS`. checkpoint_prefix: where the family's single-file checkpoints keep its
    weights. layout: the key layout under that prefix ("hf_clip": transformers' `text_model.*` as LDM / SGM
    checkpoints keep it; "comfy_clip": the same as ComfyUI's own files keep it; "open_clip":
    `transformer.resblocks.*` with fused `in_proj`; "t5": transformers' T5EncoderModel). lora_prefixes: the names
    LoRA files give this encoder's layers, most common first (kohya / A1111 `lora_te1_`, diffusers'
    `text_encoder.`, the checkpoint prefix of ComfyUI's own files, ...); a kohya prefix (ending in "_") is
    followed by the layer path with dots turned into underscores, the others by the dotted path. optional: the
    family's checkpoints may lack it (SD3's encoders are each optional).
    """

    kind: str
    checkpoint_prefix: str
    layout: str
    lora_prefixes: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Family:
    """One model family, described as data.

    name: Kiln's family name ("SD15", "SD21", "Flux", ...). comfy_class: ComfyUI's `supported_models` class it
    stands for (SD20 and SD21 are both ComfyUI's `SD20`). architecture: the diffusion network ("unet", "flux",
    "mmdit"); model_class: the `comfy.model_base` class that wraps it for sampling.
    diffusion_model_prefix / vae_prefix: where a single-file checkpoint keeps those parts. text_encoders: in
    ComfyUI's order ("g" before "l"). diffusion_model_lora_prefixes: how LoRA files name the diffusion model's
    layers in the file's own (original) key names: ComfyUI's `diffusion_model.`, kohya's `lora_unet_`, ...;
    diffusers_lora_prefixes: how they name them in diffusers' module names (`unet.`, `transformer.`, ...).
    clip_type: the CLIP object its text encoders make (a `comfy.clip_object` type: "stable_diffusion",
    "sdxl", "flux", "sd3"). clip_loader_options: the (node, `type` option) pairs that build that CLIP from
    separate files, e.g. ("DualCLIPLoader", "flux").
    latent_format: the `comfy.latent_formats` class name; latent_scale_factor / latent_shift_factor: its VAE
    scaling. prediction_type: "eps", "v_prediction", "flow" (SD3, Flux schnell) or "flux" (Flux dev's schedule).
    num_heads / num_head_channels: ComfyUI's attention-head convention (-1: derived from the other).
    clip_skip_default: the CLIP layer used by default (-1 last, -2 penultimate). sample_size: diffusers' default
    latent size. addition_time_embed_dim: SDXL's per-number sinusoid width (None without `label_emb`).
    upcast_attention: SD2.1-v's fp32 attention. sampling_settings: ComfyUI's `sampling_settings` (flow models:
    shift and multiplier), read by `comfy.model_sampling`. modelspec_architecture: what CheckpointSave writes as
    `modelspec.architecture` (None: nothing). exact_unet_match: the UNet config values a full-size model of the
    family has (ComfyUI's `unet_config`), for UNet families.
    """

    name: str
    comfy_class: str
    architecture: str
    model_class: str
    latent_format: str
    latent_scale_factor: float
    prediction_type: str
    text_encoders: tuple[TextEncoderPart, ...]
    clip_type: str
    clip_skip_default: int
    sample_size: int
    num_heads: int = -1
    num_head_channels: int = -1
    latent_shift_factor: float = 0.0
    addition_time_embed_dim: int | None = None
    upcast_attention: bool = False
    sampling_settings: dict[str, float] = field(default_factory=dict)
    diffusion_model_prefix: str = DIFFUSION_MODEL_PREFIX
    vae_prefix: str = VAE_PREFIX
    diffusion_model_lora_prefixes: tuple[str, ...] = ()
    diffusers_lora_prefixes: tuple[str, ...] = ()
    clip_loader_options: tuple[tuple[str, str], ...] = ()
    modelspec_architecture: str | None = None
    exact_unet_match: dict[str, Any] | None = None

    def text_encoder(self, kind: str) -> TextEncoderPart | None:
        """The family's text encoder of `kind`, or None."""
        return next((part for part in self.text_encoders if part.kind == kind), None)


@dataclass(frozen=True)
class FamilyMatch:
    """The family a diffusion model (UNet or flow transformer) in a state dict belongs to.

    name: the `Family` name. comfy_class: ComfyUI's class (SD3 files with RMS q/k norms are ComfyUI's `SD35`).
    prediction_type: as the family's, or v-prediction for an SDXL file with a `v_pred` key; zero_terminal_snr
    from SDXL's `ztsnr` key. exact: True when the full-size ComfyUI values matched, False for a reduced-size
    model matched on structure. unet_config: the hyper-parameters read from the shapes; unet_prefix: where the
    diffusion model's keys live. architecture: "unet", "flux" or "mmdit".
    """

    name: str
    comfy_class: str
    prediction_type: str
    exact: bool
    unet_prefix: str
    unet_config: dict[str, Any] = field(default_factory=dict)
    zero_terminal_snr: bool = False
    architecture: str = "unet"


class ModelDetectionError(RuntimeError):
    """A state dict whose layout Kiln does not recognise; the message names the first keys seen."""


class WeightLoadError(RuntimeError):
    """Weights that do not fit the model built for them; the message names the file and the first bad keys."""


def first_keys(state_dict: Any, count: int = 8) -> str:
    """The first `count` keys of a state dict, for error messages."""
    keys = list(state_dict.keys())[:count]
    more = "" if len(state_dict) <= count else f", ... ({len(state_dict)} keys in all)"
    return ", ".join(repr(key) for key in keys) + more if keys else "(no keys: the state dict is empty)"


def without_prefix(state_dict: Any, prefix: str) -> dict[str, Any]:
    """The entries of `state_dict` under `prefix`, with the prefix removed."""
    return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
