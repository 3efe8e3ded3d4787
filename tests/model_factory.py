"""Tiny random Stable Diffusion checkpoints in the original single-file (ldm/sgm) layouts, for tests.

Every file is made the way a real one came to be, backwards: build small diffusers / transformers models
from a seed, then reverse-convert their weights into LDM key names (the inverse of diffusers'
`convert_ldm_unet_checkpoint` / `convert_ldm_vae_checkpoint` / the CLIP converters). Float tensors are stored
in float16 like real checkpoints; the diffusers models returned alongside hold the same fp16-rounded values
in float32, so a loader that reads the file back must reproduce their outputs exactly.

Family sizes (`TINY_SPECS`): UNets of 32/64 channels; a VAE of four 32-channel levels (8x downscale, like SD)
and 4 latent channels;
CLIP text encoders with the real 49408-token vocabulary and 77 positions, 3 layers, 2 heads, and hidden
sizes CLIP-L 32 (SD1) / OpenCLIP-H 32 (SD2) / CLIP-L 16 + OpenCLIP-G 32 (SDXL: different on purpose) /
OpenCLIP-G 32 (refiner).

`meta_device_checkpoint_keys(family)` gives the full-size key -> shape layout on the `meta` device (no memory).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from comfy import ldm_export
from comfy.ldm_export import UNET_PREFIX, VAE_PREFIX, unet_diffusers_to_ldm, vae_diffusers_to_ldm

CLIP_VOCAB_SIZE = 49408
CLIP_POSITIONS = 77


@dataclass(frozen=True)
class TextEncoderSpec:
    """A text encoder of a tiny family: kind, checkpoint prefix, layout ("hf_clip" / "open_clip"), sizes."""

    kind: str
    prefix: str
    layout: str
    hidden_size: int
    num_layers: int = 3
    num_heads: int = 2
    vocab_size: int = CLIP_VOCAB_SIZE


@dataclass(frozen=True)
class TinySpec:
    """A tiny family: the diffusers UNet config and its text encoders (VAE is the same for every family)."""

    unet: dict[str, Any]
    text_encoders: tuple[TextEncoderSpec, ...]


def _unet(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "sample_size": 8,
        "in_channels": 4,
        "out_channels": 4,
        "layers_per_block": 1,
        "norm_num_groups": 32,
    }
    config.update(overrides)
    return config


SD1_UNET = _unet(
    block_out_channels=(32, 64),
    down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32,
    attention_head_dim=8,
)
# Four levels of two res blocks so that `output_blocks.11.1` (ComfyUI's SD2 v-prediction probe) exists.
SD2_UNET = _unet(
    block_out_channels=(32, 32, 32, 32),
    layers_per_block=2,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=32,
    attention_head_dim=[1, 1, 1, 1],
    use_linear_projection=True,
)
SDXL_CLIP_L = TextEncoderSpec("clip_l", "conditioner.embedders.0.transformer.", "hf_clip", 16)
SDXL_CLIP_G = TextEncoderSpec("clip_g", "conditioner.embedders.1.model.", "open_clip", 32)
SDXL_UNET = _unet(
    block_out_channels=(32, 64),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=[1, 2],
    cross_attention_dim=SDXL_CLIP_L.hidden_size + SDXL_CLIP_G.hidden_size,
    attention_head_dim=[1, 1],
    use_linear_projection=True,
    addition_embed_type="text_time",
    addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=SDXL_CLIP_G.hidden_size + 6 * 256,
)
SDXL_REFINER_CLIP_G = TextEncoderSpec("clip_g", "conditioner.embedders.0.model.", "open_clip", 32)
SDXL_REFINER_UNET = dict(
    SDXL_UNET,
    cross_attention_dim=SDXL_REFINER_CLIP_G.hidden_size,
    projection_class_embeddings_input_dim=SDXL_REFINER_CLIP_G.hidden_size + 5 * 256,
)
SD1_CLIP_L = TextEncoderSpec("clip_l", "cond_stage_model.transformer.", "hf_clip", 32)
SD2_CLIP_H = TextEncoderSpec("clip_h", "cond_stage_model.model.", "open_clip", 32)

TINY_SPECS: dict[str, TinySpec] = {
    "SD15": TinySpec(SD1_UNET, (SD1_CLIP_L,)),
    "SD15_inpaint": TinySpec(dict(SD1_UNET, in_channels=9), (SD1_CLIP_L,)),
    "SD20": TinySpec(SD2_UNET, (SD2_CLIP_H,)),
    "SD21": TinySpec(SD2_UNET, (SD2_CLIP_H,)),
    "SDXL": TinySpec(SDXL_UNET, (SDXL_CLIP_L, SDXL_CLIP_G)),
    "SDXLRefiner": TinySpec(SDXL_REFINER_UNET, (SDXL_REFINER_CLIP_G,)),
}
# Four levels like every SD VAE, so images are 8x the latent size as in ComfyUI's EmptyLatentImage / VAEDecode.
TINY_VAE = {
    "block_out_channels": (32, 32, 32, 32),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "latent_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 32,
    "sample_size": 32,
}
# The SD2 v-prediction mark ComfyUI reads: std of this bias above 0.09 (a trained 768-v model has ~0.2).
SD2_V_PREDICTION_KEY = "output_blocks.11.1.transformer_blocks.0.norm1.bias"


@dataclass
class TinyModels:
    """The diffusers / transformers models a tiny file was made from (float32, holding fp16-rounded values)."""

    family: str
    unet: UNet2DConditionModel
    vae: AutoencoderKL
    text_encoders: dict[str, torch.nn.Module] = field(default_factory=dict)
    text_encoder_specs: tuple[TextEncoderSpec, ...] = ()


# --- reverse converters: diffusers / transformers names -> LDM names (production code in comfy.ldm_export) ---


def text_encoder_to_ldm(spec: TextEncoderSpec, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Reverse-convert one text encoder by its layout (keys without the checkpoint prefix)."""
    return ldm_export.text_encoder_to_ldm(spec.layout, state_dict)


# --- building tiny models ------------------------------------------------------------------------------


def _clip_config(spec: TextEncoderSpec) -> CLIPTextConfig:
    return CLIPTextConfig(
        vocab_size=spec.vocab_size,
        hidden_size=spec.hidden_size,
        intermediate_size=4 * spec.hidden_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        max_position_embeddings=CLIP_POSITIONS,
        projection_dim=spec.hidden_size,
        # OpenAI CLIP-L uses quick_gelu; OpenCLIP H and bigG use exact gelu.
        hidden_act="quick_gelu" if spec.layout == "hf_clip" else "gelu",
        # SD pads with token 49407 (end); eos id matters for HF's pooled-token lookup.
        bos_token_id=49406,
        eos_token_id=49407,
        pad_token_id=49407,
    )


def _text_encoder_class(spec: TextEncoderSpec) -> type:
    return CLIPTextModel if spec.layout == "hf_clip" else CLIPTextModelWithProjection


def _perturb_and_round(module: torch.nn.Module, generator: torch.Generator) -> None:
    """Add 0.02-std noise to every float parameter (so zero-initialised biases are not zero), then round the
    values through float16 so the fp16 file holds exactly what the module computes with."""
    with torch.no_grad():
        for parameter in module.parameters():
            noise = torch.randn(parameter.shape, generator=generator, dtype=torch.float32)
            parameter.add_(0.02 * noise)
            parameter.copy_(parameter.half().float())


def build_tiny_models(family: str, seed: int = 0) -> TinyModels:
    """The tiny diffusers UNet, VAE and transformers text encoders of `family` (a `TINY_SPECS` key), from `seed`.

    For "SD21" the v-prediction mark is set: the output_blocks.11.1 norm1 bias gets std 0.2 (SD20 keeps ~0.02).
    """
    spec = TINY_SPECS[family]
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(**spec.unet)
        vae = AutoencoderKL(**TINY_VAE)
        text_encoders = {te.kind: _text_encoder_class(te)(_clip_config(te)) for te in spec.text_encoders}
    for module in (unet, vae, *text_encoders.values()):
        _perturb_and_round(module, generator)
        module.eval()
    if family == "SD21":
        # output_blocks.11 = up block 3, layer 2 (layers_per_block 2).
        bias = unet.up_blocks[3].attentions[2].transformer_blocks[0].norm1.bias
        with torch.no_grad():
            bias.copy_((0.2 * torch.randn(bias.shape, generator=generator)).half().float())
    return TinyModels(family, unet, vae, text_encoders, spec.text_encoders)


def _fp16(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key: value.half() if value.is_floating_point() else value for key, value in state_dict.items()}


def unet_ldm_state_dict(models: TinyModels) -> dict[str, torch.Tensor]:
    """The tiny UNet's weights in LDM names without prefix, float16."""
    return _fp16(unet_diffusers_to_ldm(models.unet.state_dict(), dict(models.unet.config)))


def vae_ldm_state_dict(models: TinyModels) -> dict[str, torch.Tensor]:
    """The tiny VAE's weights in LDM names without prefix (`encoder.*` / `decoder.*`), float16."""
    return _fp16(vae_diffusers_to_ldm(models.vae.state_dict()))


def tiny_checkpoint_state_dict(family: str, seed: int = 0, v_pred_key: bool = False) -> tuple[dict[str, torch.Tensor], TinyModels]:
    """A full single-file checkpoint of `family`: UNet, VAE and text encoders under their LDM/SGM prefixes.

    v_pred_key: add SDXL's top-level `v_pred` marker (an empty tensor) that ComfyUI reads for SDXL v-prediction.
    """
    models = build_tiny_models(family, seed)
    state_dict = {UNET_PREFIX + key: value for key, value in unet_ldm_state_dict(models).items()}
    state_dict.update({VAE_PREFIX + key: value for key, value in vae_ldm_state_dict(models).items()})
    for spec in models.text_encoder_specs:
        encoder_state = text_encoder_to_ldm(spec, models.text_encoders[spec.kind].state_dict())
        state_dict.update({spec.prefix + key: value for key, value in _fp16(encoder_state).items()})
    if v_pred_key:
        state_dict["v_pred"] = torch.zeros(0)
    return state_dict, models


def tiny_unet_only_state_dict(family: str, seed: int = 0, prefixed: bool = False) -> tuple[dict[str, torch.Tensor], TinyModels]:
    """A UNet-only file (`diffusion_models/`): bare `input_blocks.*` keys, or `model.diffusion_model.*` if prefixed."""
    models = build_tiny_models(family, seed)
    prefix = UNET_PREFIX if prefixed else ""
    return {prefix + key: value for key, value in unet_ldm_state_dict(models).items()}, models


def tiny_vae_state_dict(seed: int = 0, prefixed: bool = False) -> tuple[dict[str, torch.Tensor], AutoencoderKL]:
    """A VAE-only file: bare `encoder.*`/`decoder.*` keys, or `first_stage_model.*` if prefixed."""
    models = build_tiny_models("SD15", seed)
    prefix = VAE_PREFIX if prefixed else ""
    return {prefix + key: value for key, value in vae_ldm_state_dict(models).items()}, models.vae


def tiny_text_encoder_state_dict(kind: str, seed: int = 0) -> tuple[dict[str, torch.Tensor], torch.nn.Module]:
    """A text-encoder-only file (`text_encoders/`): "clip_l" in HF layout (`text_model.*`), "clip_h" / "clip_g"
    in OpenCLIP layout (`transformer.resblocks.*`, `token_embedding.weight`, `text_projection`)."""
    spec = {"clip_l": SD1_CLIP_L, "clip_h": SD2_CLIP_H, "clip_g": SDXL_CLIP_G}[kind]
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _text_encoder_class(spec)(_clip_config(spec))
    _perturb_and_round(model, generator)
    return _fp16(text_encoder_to_ldm(spec, model.eval().state_dict())), model


def tiny_lora_sd1_state_dict(seed: int = 0, rank: int = 4, alpha: float = 2.0) -> dict[str, torch.Tensor]:
    """A kohya-format LoRA for the tiny SD15 family: every UNet attention projection and proj_in/proj_out
    (`lora_unet_<diffusers module path with _>`) and every CLIP-L attention / MLP linear (`lora_te_text_model_...`),
    each with `.lora_down.weight` [rank, in(, 1, 1)], `.lora_up.weight` [out, rank(, 1, 1)] and `.alpha`."""
    models = build_tiny_models("SD15", seed)
    generator = torch.Generator().manual_seed(seed + 1)
    lora: dict[str, torch.Tensor] = {}

    def add(name: str, module: torch.nn.Module) -> None:
        weight = module.weight
        out_features, in_features = weight.shape[:2]
        conv_tail = (1, 1) if weight.ndim == 4 else ()
        lora[f"{name}.lora_down.weight"] = (0.1 * torch.randn((rank, in_features, *conv_tail), generator=generator)).half()
        lora[f"{name}.lora_up.weight"] = (0.1 * torch.randn((out_features, rank, *conv_tail), generator=generator)).half()
        lora[f"{name}.alpha"] = torch.tensor(alpha, dtype=torch.float16)

    for module_name, module in models.unet.named_modules():
        if re.search(r"attentions\.\d+\.(proj_in|proj_out|transformer_blocks\.\d+\.attn\d\.(to_q|to_k|to_v|to_out\.0))$",
                     module_name):
            add("lora_unet_" + module_name.replace(".", "_"), module)
    for module_name, module in models.text_encoders["clip_l"].named_modules():
        if re.search(r"layers\.\d+\.(self_attn\.(q|k|v|out)_proj|mlp\.fc[12])$", module_name):
            add("lora_te_text_model_" + module_name.removeprefix("text_model.").replace(".", "_"), module)
    return lora


def write_safetensors(path: str | Path, state_dict: dict[str, torch.Tensor]) -> Path:
    """Save `state_dict` with safetensors (contiguous tensors, no metadata); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({key: value.contiguous() for key, value in state_dict.items()}, str(path))
    return path


def write_tiny_checkpoint(path: str | Path, family: str, seed: int = 0, v_pred_key: bool = False) -> TinyModels:
    """Write `tiny_checkpoint_state_dict(family, seed)` to `path`; returns the models it was made from."""
    state_dict, models = tiny_checkpoint_state_dict(family, seed, v_pred_key)
    write_safetensors(path, state_dict)
    return models


# --- full-size layouts on the meta device --------------------------------------------------------------

SD15_FULL_UNET = {
    "in_channels": 4, "out_channels": 4, "layers_per_block": 2, "block_out_channels": (320, 640, 1280, 1280),
    "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    "cross_attention_dim": 768, "attention_head_dim": 8,
}
SD20_FULL_UNET = dict(SD15_FULL_UNET, cross_attention_dim=1024, attention_head_dim=[5, 10, 20, 20],
                      use_linear_projection=True)
SDXL_FULL_UNET = {
    "in_channels": 4, "out_channels": 4, "layers_per_block": 2, "block_out_channels": (320, 640, 1280),
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "transformer_layers_per_block": [1, 2, 10], "cross_attention_dim": 2048, "attention_head_dim": [5, 10, 20],
    "use_linear_projection": True, "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
SDXL_REFINER_FULL_UNET = {
    "in_channels": 4, "out_channels": 4, "layers_per_block": 2, "block_out_channels": (384, 768, 1536, 1536),
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "transformer_layers_per_block": 4, "cross_attention_dim": 1280, "attention_head_dim": [6, 12, 24, 24],
    "use_linear_projection": True, "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2560,
}
FULL_VAE = {
    "block_out_channels": (128, 256, 512, 512), "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4, "latent_channels": 4, "layers_per_block": 2,
}
FULL_CLIP_L = TextEncoderSpec("clip_l", "", "hf_clip", 768, num_layers=12, num_heads=12)
FULL_CLIP_H = TextEncoderSpec("clip_h", "", "open_clip", 1024, num_layers=24, num_heads=16)
FULL_CLIP_G = TextEncoderSpec("clip_g", "", "open_clip", 1280, num_layers=32, num_heads=20)
FULL_LAYOUTS: dict[str, tuple[dict[str, Any], tuple[tuple[TextEncoderSpec, str], ...]]] = {
    "SD15": (SD15_FULL_UNET, ((FULL_CLIP_L, "cond_stage_model.transformer."),)),
    "SD20": (SD20_FULL_UNET, ((FULL_CLIP_H, "cond_stage_model.model."),)),
    "SDXL": (SDXL_FULL_UNET, ((FULL_CLIP_L, "conditioner.embedders.0.transformer."),
                              (FULL_CLIP_G, "conditioner.embedders.1.model."))),
    "SDXLRefiner": (SDXL_REFINER_FULL_UNET, ((FULL_CLIP_G, "conditioner.embedders.0.model."),)),
}


def meta_device_checkpoint_keys(family: str) -> dict[str, torch.Tensor]:
    """The full-size single-file layout of `family` as meta tensors (key -> shape, no memory).

    family: "SD15", "SD20", "SDXL", "SDXLRefiner" (UNet + VAE + text encoders at their checkpoint prefixes),
    or the same name + "_unet" for a bare UNet-only file (`input_blocks.*`, as in `diffusion_models/`).
    The SD1.5 layout equals the 1131-key reference list except that the meta tensors are float32.
    Returns a fresh dict each call (the layouts are built once per process).
    """
    return dict(_meta_layout(family))


@functools.lru_cache(maxsize=None)
def _meta_layout(family: str) -> dict[str, torch.Tensor]:
    unet_only = family.endswith("_unet")
    unet_config, encoders = FULL_LAYOUTS[family.removesuffix("_unet")]
    with torch.device("meta"):
        unet = UNet2DConditionModel(**unet_config)
        unet_keys = unet_diffusers_to_ldm(unet.state_dict(), dict(unet.config))
        if unet_only:
            return unet_keys
        layout = {UNET_PREFIX + key: value for key, value in unet_keys.items()}
        vae = AutoencoderKL(**FULL_VAE)
        layout.update({VAE_PREFIX + key: value for key, value in vae_diffusers_to_ldm(vae.state_dict()).items()})
        for spec, prefix in encoders:
            model = _text_encoder_class(spec)(_clip_config(spec))
            encoder_keys = text_encoder_to_ldm(spec, model.state_dict())
            layout.update({prefix + key: value for key, value in encoder_keys.items()})
    return layout
