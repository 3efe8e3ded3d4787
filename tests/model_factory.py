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

Flow models (FLUX.1 dev / schnell, SD3's MMDiT, the 16-channel VAE) are written straight in their original
layouts from the loaders' own key tables (`comfy.families.flux` / `sd3` `original_layout`): `tiny_flow_model_state_dict`,
`tiny_vae16_state_dict`, `tiny_flux_schnell_checkpoint_state_dict`, and `meta_device_flow_keys` for full size.
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

from comfy.families import flux, sd3, text_encoders
from comfy.families.base import DIFFUSION_MODEL_PREFIX as UNET_PREFIX
from comfy.families.base import VAE_PREFIX
from comfy.families.unet import unet_diffusers_to_ldm
from comfy.families.vae import vae_diffusers_to_ldm

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
    "SD2_inpaint": TinySpec(dict(SD2_UNET, in_channels=9), (SD2_CLIP_H,)),
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


# --- reverse converters: diffusers / transformers names -> LDM names (production code in comfy.families) ---


def text_encoder_to_ldm(spec: TextEncoderSpec, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Reverse-convert one text encoder by its layout (keys without the checkpoint prefix)."""
    return text_encoders.from_transformers(spec.layout, state_dict)


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


def tiny_controlnet_sd15_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """An SD1.5 ControlNet for the tiny SD15 family in lllyasviel's layout (`control_model.*`, fp16): diffusers'
    `ControlNetModel.from_unet` of the tiny UNet, every tensor perturbed (its zero convolutions too, so it acts)."""
    from diffusers import ControlNetModel

    from comfy.guidance import formats, sd_controlnet

    models = build_tiny_models("SD15", seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        network = ControlNetModel.from_unet(models.unet, conditioning_embedding_out_channels=(16, 32, 96, 256))
    _perturb_and_round(network, torch.Generator().manual_seed(seed + 2))
    state = network.state_dict()
    names = sd_controlnet.ldm_names(list(state), int(network.config.layers_per_block))
    return {formats.SD_ORIGINAL_PREFIX + names[key]: value.half() for key, value in state.items()}


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


# --- flow models: FLUX.1 (dev, schnell), SD3's MMDiT and the 16-channel VAE ----------------------------
#
# Written straight in their original key layouts (BFL for Flux, Stability for the MMDiT) from the loaders' own
# key -> shape tables (`original_layout` of comfy.families.flux / sd3), with random values drawn per key: norm scales 1 + 0.02·t, other
# matrices t / sqrt(fan_in) so the outputs react to every input, vectors 0.02·t. The same tables on the `meta`
# device give the full-size layouts.


@dataclass(frozen=True)
class FluxSpec:
    """A FLUX.1 layout: hidden width, head width, double / single block counts, text and pooled widths."""

    hidden_size: int
    head_dim: int
    depth: int
    depth_single_blocks: int
    context_dim: int
    pooled_dim: int
    guidance: bool
    latent_channels: int = 16

    def config(self) -> dict[str, Any]:
        """The config `comfy.model_detection.detect_flux_config` reads back from such a file."""
        return {"hidden_size": self.hidden_size, "head_dim": self.head_dim, "mlp_ratio": 4.0, "depth": self.depth,
                "depth_single_blocks": self.depth_single_blocks, "context_in_dim": self.context_dim,
                "vec_in_dim": self.pooled_dim, "in_channels": self.latent_channels,
                "out_channels": self.latent_channels, "patch_size": 2, "guidance_embed": self.guidance}


@dataclass(frozen=True)
class MMDiTSpec:
    """An SD3 MMDiT layout: hidden = 64 * heads, joint blocks, positional grid, pooled and context widths,
    SD3.5's q/k norms and MMDiT-X's second-attention blocks."""

    hidden_size: int
    num_layers: int
    pos_embed_max_size: int
    pooled_dim: int
    context_dim: int
    qk_norm: bool = False
    second_attention_layers: tuple[int, ...] = ()
    latent_channels: int = 16

    def config(self) -> dict[str, Any]:
        """The config `comfy.model_detection.detect_mmdit_config` reads back from such a file."""
        return {"hidden_size": self.hidden_size, "num_layers": self.num_layers, "patch_size": 2,
                "in_channels": self.latent_channels, "out_channels": self.latent_channels,
                "pos_embed_max_size": self.pos_embed_max_size, "adm_in_channels": self.pooled_dim,
                "context_in_dim": self.context_dim, "mlp_ratio": 4.0, "qk_norm": "rms_norm" if self.qk_norm else None,
                "x_block_self_attn_layers": list(self.second_attention_layers)}


FLUX_DEV_FULL = FluxSpec(3072, 128, 19, 38, 4096, 768, guidance=True)
FLUX_SCHNELL_FULL = FluxSpec(3072, 128, 19, 38, 4096, 768, guidance=False)
SD3_MEDIUM_FULL = MMDiTSpec(1536, 24, 192, 2048, 4096)
SD35_LARGE_FULL = MMDiTSpec(2432, 38, 192, 2048, 4096, qk_norm=True)
SD35_MEDIUM_FULL = MMDiTSpec(1536, 24, 384, 2048, 4096, qk_norm=True, second_attention_layers=tuple(range(13)))
# Reduced far below what ComfyUI accepts: Kiln reads every size from the shapes.
# Text width 32 and pooled width 32: the tiny T5 (`TINY_T5_SIZES`) and the tiny CLIP-L (`SD1_CLIP_L`).
TINY_FLUX_DEV = FluxSpec(64, 32, 1, 1, 32, 32, guidance=True)
TINY_FLUX_SCHNELL = FluxSpec(64, 32, 1, 1, 32, 32, guidance=False)
TINY_SD3 = MMDiTSpec(64, 2, 16, 32, 48)
TINY_FLOW_SPECS: dict[str, FluxSpec | MMDiTSpec] = {"Flux": TINY_FLUX_DEV, "FluxSchnell": TINY_FLUX_SCHNELL,
                                                   "SD3": TINY_SD3}
FULL_FLOW_SPECS: dict[str, FluxSpec | MMDiTSpec] = {"flux-dev": FLUX_DEV_FULL, "flux-schnell": FLUX_SCHNELL_FULL,
                                                    "sd3-medium": SD3_MEDIUM_FULL, "sd35-large": SD35_LARGE_FULL,
                                                    "sd35-medium": SD35_MEDIUM_FULL}
# The 16-channel VAE of FLUX.1 and SD3 (ae.safetensors: ch 128, ch_mult 1,2,4,4, no quant convs) and a tiny one.
VAE16_FULL = dict(FULL_VAE, latent_channels=16, use_quant_conv=False, use_post_quant_conv=False)
TINY_VAE16 = dict(TINY_VAE, latent_channels=16, use_quant_conv=False, use_post_quant_conv=False)


def flow_layout(spec: FluxSpec | MMDiTSpec) -> dict[str, tuple[int, ...]]:
    """The bare key -> shape table of a Flux or MMDiT spec."""
    if isinstance(spec, FluxSpec):
        return flux.original_layout(spec.config())
    return sd3.original_layout(spec.config())


def _random_tensors(layout: dict[str, tuple[int, ...]], seed: int, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for index, (key, shape) in enumerate(sorted(layout.items())):
        values = torch.randn(shape, generator=torch.Generator().manual_seed(seed * 100_003 + index))
        if len(shape) == 1 and key.endswith((".weight", ".scale")):
            values = 1.0 + 0.02 * values
        elif len(shape) >= 2 and not key.endswith("pos_embed"):
            values = values / float(torch.tensor(shape[1:]).prod()) ** 0.5
        else:
            values = 0.02 * values
        tensors[key] = values.to(dtype)
    return tensors


def tiny_flow_model_state_dict(family: str, seed: int = 0, prefixed: bool = False,
                               dtype: torch.dtype = torch.bfloat16) -> dict[str, torch.Tensor]:
    """A reduced Flux dev ("Flux"), Flux schnell ("FluxSchnell") or SD3 ("SD3") model-only file's tensors, bare
    keys (`diffusion_models/`) or under `model.diffusion_model.` if `prefixed`."""
    prefix = UNET_PREFIX if prefixed else ""
    tensors = _random_tensors(flow_layout(TINY_FLOW_SPECS[family]), seed, dtype)
    return {prefix + key: value for key, value in tensors.items()}


def tiny_vae16_state_dict(seed: int = 0, prefix: str = "") -> dict[str, torch.Tensor]:
    """A small 16-channel VAE in the BFL / SD3 layout (`encoder.*`, `decoder.*`, no quant convs), bfloat16,
    under `prefix` ("" for `vae/` files, "first_stage_model." in SD3 checkpoints, "vae." in Flux ones)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        vae = AutoencoderKL(**TINY_VAE16)
    _perturb_and_round(vae, torch.Generator().manual_seed(seed))
    return {prefix + key: value.to(torch.bfloat16) for key, value in vae_diffusers_to_ldm(vae.state_dict()).items()}


def meta_device_flow_keys(name: str) -> dict[str, torch.Tensor]:
    """Full-size flow layouts as meta tensors: a `FULL_FLOW_SPECS` name ("flux-dev", "flux-schnell",
    "sd3-medium", "sd35-large", "sd35-medium"; bare model-only keys) or "vae16" (the 16-channel VAE, bare
    `encoder.*` / `decoder.*`)."""
    if name == "vae16":
        with torch.device("meta"):
            vae = AutoencoderKL(**VAE16_FULL)
        return vae_diffusers_to_ldm(vae.state_dict())
    layout = flow_layout(FULL_FLOW_SPECS[name])
    return {key: torch.empty(shape, device="meta") for key, shape in layout.items()}


# --- flow text encoders: T5 (XXL layout, reduced) and scaled_fp8 files --------------------------------------
#
# A T5 v1.1 encoder (gated-GELU MLP, relative positions) built with transformers at reduced width and depth but
# with T5's real 32128-id vocabulary, written in ComfyUI's t5xxl key layout (`shared.weight`, `encoder.*`, no
# tied `encoder.embed_tokens.weight`).

TINY_T5_SIZES = {"d_model": 32, "num_layers": 2, "num_heads": 4, "d_kv": 8, "d_ff": 48, "vocab_size": 32128}


def tiny_t5_state_dict(seed: int = 0, dtype: torch.dtype = torch.float16,
                       **sizes: int) -> tuple[dict[str, torch.Tensor], torch.nn.Module]:
    """A reduced T5-XXL text-encoder file's tensors in `dtype` (fp32, fp16, bf16, float8_e4m3fn, float8_e5m2) and a
    transformers `T5EncoderModel` holding exactly those values in float32. `sizes` override `TINY_T5_SIZES`."""
    from transformers import T5EncoderModel

    from comfy.text_encoders import t5

    config = t5.t5_config(**{**TINY_T5_SIZES, **sizes})
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = T5EncoderModel(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            # Norm scales near 1, matrices near 1/sqrt(fan_in): activations stay O(1) and react to every weight.
            scale = 1.0 / parameter.shape[-1] ** 0.5 if parameter.dim() == 2 and "relative" not in name else 0.3
            base = 1.0 if parameter.dim() == 1 else 0.0
            parameter.copy_((base + scale * noise).to(dtype).float())
    state_dict = {key: value.to(dtype) for key, value in model.state_dict().items()
                  if key != "encoder.embed_tokens.weight"}
    return state_dict, model


def to_scaled_fp8(state_dict: dict[str, torch.Tensor], dtype: torch.dtype = torch.float8_e4m3fn,
                  with_input_scales: bool = True) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """ComfyUI's `scaled_fp8` form of a T5 file: each 2-D Linear weight `w` stored as `(w / s).to(fp8)` with
    `<layer>.scale_weight` = s (max|w| / 448, float32), a `scaled_fp8` marker (an empty fp8 tensor), optional
    `<layer>.scale_input` (1.0) and the embedding and norms left in their dtype. Returns the file's tensors and
    the dequantised float32 weights (`fp8.float() * s`) the encoder must compute with."""
    scaled: dict[str, torch.Tensor] = {"scaled_fp8": torch.empty(0, dtype=dtype)}
    effective: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        is_linear = value.dim() == 2 and key.startswith("encoder.block.") and "relative_attention_bias" not in key
        if not is_linear:
            scaled[key] = value
            effective[key] = value.float()
            continue
        layer = key[: -len(".weight")]
        scale = (value.float().abs().max() / 448.0).reshape(())
        stored = (value.float() / scale).to(dtype)
        scaled[key] = stored
        scaled[f"{layer}.scale_weight"] = scale
        if with_input_scales:
            scaled[f"{layer}.scale_input"] = torch.ones(())
        effective[key] = stored.float() * scale
    return scaled, effective


def tiny_flow_text_encoder_state_dicts(family: str, seed: int = 0,
                                       with_t5: bool = True) -> dict[str, dict[str, torch.Tensor]]:
    """Text-encoder files sized for a tiny flow model of `TINY_FLOW_SPECS[family]`, `{kind: tensors}`:
    Flux: CLIP-L as wide as the pooled vector and a T5 as wide as the context; SD3: CLIP-L and CLIP-G (projected
    to pooled - CLIP-L width) side by side filling the context, and a T5 as wide as the context if `with_t5`.
    CLIPs in transformers layout (`text_model.*`, fp16), the T5 in float8_e4m3fn."""
    spec = TINY_FLOW_SPECS[family]
    if isinstance(spec, FluxSpec):
        widths = {"clip_l": (spec.pooled_dim, spec.pooled_dim)}
    else:
        l_width = spec.context_dim // 3
        widths = {"clip_l": (l_width, l_width), "clip_g": (spec.context_dim - l_width, spec.pooled_dim - l_width)}
    files: dict[str, dict[str, torch.Tensor]] = {}
    for index, (kind, (width, projection)) in enumerate(widths.items()):
        config = _clip_config(TextEncoderSpec(kind, "", "hf_clip", width))
        config.projection_dim = projection
        config.hidden_act = "quick_gelu" if kind == "clip_l" else "gelu"
        generator = torch.Generator().manual_seed(seed + index)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + index)
            model = CLIPTextModelWithProjection(config).eval()
        _perturb_and_round(model, generator)
        files[kind] = _fp16(model.state_dict())
    if isinstance(spec, FluxSpec) or with_t5:
        files["t5xxl"] = tiny_t5_state_dict(seed, torch.float8_e4m3fn, d_model=spec.context_dim)[0]
    return files


def tiny_flux_schnell_checkpoint_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """An all-in-one Flux schnell file with ComfyUI's prefixes, like `flux1-schnell-fp8.safetensors`: the model
    (`model.diffusion_model.`), the 16-channel VAE (`vae.`), CLIP-L and a fp8 T5 (`text_encoders.clip_l.transformer.`,
    `text_encoders.t5xxl.transformer.`), all reduced."""
    state_dict = tiny_flow_model_state_dict("FluxSchnell", seed, prefixed=True)
    state_dict.update(tiny_vae16_state_dict(seed, prefix="vae."))
    clip_l, _ = tiny_text_encoder_state_dict("clip_l", seed)
    state_dict.update({"text_encoders.clip_l.transformer." + key: value for key, value in clip_l.items()})
    t5, _ = tiny_t5_state_dict(seed, dtype=torch.float8_e4m3fn)
    state_dict.update({"text_encoders.t5xxl.transformer." + key: value for key, value in t5.items()})
    return state_dict
