"""Per-family facts for the Stable Diffusion UNet families and the flow transformers (FLUX.1, SD3), as data
(one `FamilyConfig` per family).

Shapes are not here: a UNet's sizes come from its weights (`comfy.model_detection.detect_unet_config`) so
reduced-size checkpoints load through the same path. What is here is what the weights cannot say: the
latent format and its scale, the prediction type, the attention-head convention, the text encoders and
where a single-file checkpoint keeps them, the default CLIP layer, and SDXL's size-embedding width.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TextEncoderSlot:
    """One text encoder a family uses: its kind ("clip_l", "clip_h", "clip_g") and its checkpoint key prefix."""

    kind: str
    checkpoint_prefix: str


@dataclass(frozen=True)
class FamilyConfig:
    """What Kiln needs to know about one family besides its tensor shapes.

    latent_format: ComfyUI's latent format name ("SD15" or "SDXL"); latent_scale_factor: the VAE latent
    scaling (0.18215 / 0.13025). prediction_type: "eps" or "v_prediction". num_heads / num_head_channels:
    ComfyUI's head convention (-1 = derived from the other). text_encoders: in ComfyUI's order ("g" before "l").
    clip_skip_default: the CLIP hidden layer used by default (-1 last, -2 penultimate).
    addition_time_embed_dim: SDXL's per-number sinusoid width (None for families without `label_emb`).
    sample_size: the diffusers default latent size (image size / 8). upcast_attention: ComfyUI/diffusers
    upcast attention to fp32 for SD2.1-v. latent_shift_factor: subtracted before scaling (SD3 0.0609, Flux
    0.1159). sampling_settings: ComfyUI's `sampling_settings` of the family's model sampling (flow models:
    shift and multiplier), read by `comfy.model_sampling` through `model_config.sampling_settings`.
    """

    name: str
    comfy_class: str
    latent_format: str
    latent_scale_factor: float
    prediction_type: str
    num_heads: int
    num_head_channels: int
    text_encoders: tuple[TextEncoderSlot, ...]
    clip_skip_default: int
    sample_size: int
    addition_time_embed_dim: int | None = None
    upcast_attention: bool = False
    latent_shift_factor: float = 0.0
    sampling_settings: dict[str, float] = field(default_factory=dict)


SD15_TEXT_ENCODERS = (TextEncoderSlot("clip_l", "cond_stage_model.transformer."),)
SD2_TEXT_ENCODERS = (TextEncoderSlot("clip_h", "cond_stage_model.model."),)
SDXL_TEXT_ENCODERS = (
    TextEncoderSlot("clip_g", "conditioner.embedders.1.model."),
    TextEncoderSlot("clip_l", "conditioner.embedders.0.transformer."),
)
SDXL_REFINER_TEXT_ENCODERS = (TextEncoderSlot("clip_g", "conditioner.embedders.0.model."),)
# ComfyUI's single-file SD3 / Flux checkpoints keep their text encoders under `text_encoders.<kind>.transformer.`.
SD3_TEXT_ENCODERS = (
    TextEncoderSlot("clip_l", "text_encoders.clip_l.transformer."),
    TextEncoderSlot("clip_g", "text_encoders.clip_g.transformer."),
    TextEncoderSlot("t5xxl", "text_encoders.t5xxl.transformer."),
)
FLUX_TEXT_ENCODERS = (
    TextEncoderSlot("clip_l", "text_encoders.clip_l.transformer."),
    TextEncoderSlot("t5xxl", "text_encoders.t5xxl.transformer."),
)

FAMILY_CONFIGS: dict[str, FamilyConfig] = {
    "SD15": FamilyConfig(
        name="SD15", comfy_class="SD15", latent_format="SD15", latent_scale_factor=0.18215, prediction_type="eps",
        num_heads=8, num_head_channels=-1, text_encoders=SD15_TEXT_ENCODERS, clip_skip_default=-1, sample_size=64,
    ),
    "SD15_inpaint": FamilyConfig(
        name="SD15_inpaint", comfy_class="SD15", latent_format="SD15", latent_scale_factor=0.18215,
        prediction_type="eps", num_heads=8, num_head_channels=-1, text_encoders=SD15_TEXT_ENCODERS,
        clip_skip_default=-1, sample_size=64,
    ),
    "SD20": FamilyConfig(
        name="SD20", comfy_class="SD20", latent_format="SD15", latent_scale_factor=0.18215, prediction_type="eps",
        num_heads=-1, num_head_channels=64, text_encoders=SD2_TEXT_ENCODERS, clip_skip_default=-2, sample_size=64,
    ),
    "SD21": FamilyConfig(
        name="SD21", comfy_class="SD20", latent_format="SD15", latent_scale_factor=0.18215,
        prediction_type="v_prediction", num_heads=-1, num_head_channels=64, text_encoders=SD2_TEXT_ENCODERS,
        clip_skip_default=-2, sample_size=96, upcast_attention=True,
    ),
    "SDXL": FamilyConfig(
        name="SDXL", comfy_class="SDXL", latent_format="SDXL", latent_scale_factor=0.13025, prediction_type="eps",
        num_heads=-1, num_head_channels=64, text_encoders=SDXL_TEXT_ENCODERS, clip_skip_default=-2,
        sample_size=128, addition_time_embed_dim=256,
    ),
    "SDXLRefiner": FamilyConfig(
        name="SDXLRefiner", comfy_class="SDXLRefiner", latent_format="SDXL", latent_scale_factor=0.13025,
        prediction_type="eps", num_heads=-1, num_head_channels=64, text_encoders=SDXL_REFINER_TEXT_ENCODERS,
        clip_skip_default=-2, sample_size=128, addition_time_embed_dim=256,
    ),
    # Flow transformers: no UNet heads (num_heads / num_head_channels are the transformers' own, from shapes).
    "Flux": FamilyConfig(
        name="Flux", comfy_class="Flux", latent_format="Flux", latent_scale_factor=0.3611,
        latent_shift_factor=0.1159, prediction_type="flux", num_heads=-1, num_head_channels=128,
        text_encoders=FLUX_TEXT_ENCODERS, clip_skip_default=-1, sample_size=128,
        sampling_settings={"shift": 1.15},
    ),
    "FluxSchnell": FamilyConfig(
        name="FluxSchnell", comfy_class="FluxSchnell", latent_format="Flux", latent_scale_factor=0.3611,
        latent_shift_factor=0.1159, prediction_type="flow", num_heads=-1, num_head_channels=128,
        text_encoders=FLUX_TEXT_ENCODERS, clip_skip_default=-1, sample_size=128,
        sampling_settings={"shift": 1.0, "multiplier": 1.0},
    ),
    "SD3": FamilyConfig(
        name="SD3", comfy_class="SD3", latent_format="SD3", latent_scale_factor=1.5305, latent_shift_factor=0.0609,
        prediction_type="flow", num_heads=-1, num_head_channels=64, text_encoders=SD3_TEXT_ENCODERS,
        clip_skip_default=-1, sample_size=128, sampling_settings={"shift": 3.0, "multiplier": 1000.0},
    ),
}
