"""Chroma (ComfyUI's `Chroma`): a FLUX.1-schnell-derived transformer conditioned on T5-XXL alone.

Files: the transformer in Black Forest Labs' layout, bare in `diffusion_models/` or under the usual
diffusion-model prefix (Chroma1-HD, Chroma1-Base, the v-numbered releases; bf16, fp8, or ComfyUI's
`scaled_fp8` files such as Chroma1-HD-fp8_scaled_rev2, whose fp8 weights carry a `scale_weight` each). It has
FLUX.1's double and single blocks without their modulation layers (`*_mod.lin`, `modulation.lin`,
`final_layer.adaLN_modulation`) and without the `time_in` / `vector_in` / `guidance_in` embedders: one
"distilled guidance layer" (an MLP of `distilled_guidance_layer.layers.N` with RMS norms) turns the timestep,
the guidance value and a per-row index into every block's shift / scale / gate rows at once.

Detection: FLUX.1's marker `double_blocks.0.img_attn.norm.key_norm.scale` with `img_in.weight` and
`distilled_guidance_layer.norms.0.scale`. Chroma Radiance (pixel space, `nerf_blocks.*`, no `img_in`) is refused
by name. Model type FLUX (ComfyUI's `ModelSamplingFlux`, multiplier 1, its default shift 1.15; the templates
patch it with ModelSamplingAuraFlow); latent format Flux; the guidance value is 0 unless the conditioning has one.

ComfyUI hardcodes hidden 3072, 24 heads, context 4096, MLP ratio 4, RoPE axes [16, 56, 56] and an approximator
of 5 layers of width 5120 producing 344 modulation rows (the count for 19 double and 38 single blocks); only the
block counts come from the keys. Kiln reads every size from the shapes (so reduced models load) and always
computes at least ComfyUI's 344 rows: the final layer reads the last two rows, so a model with fewer blocks
gives ComfyUI's numbers too.

Keys: loading uses diffusers' `convert_chroma_transformer_checkpoint_to_diffusers` into its
`ChromaTransformer2DModel`; `key_table` is that converter traced (`comfy.families.key_tables`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch

from comfy.families import flux
from comfy.families.base import (
    COMFY_VAE_PREFIX,
    Family,
    FamilyMatch,
    ModelDetectionError,
    TextEncoderPart,
    WeightLoadError,
    comfy_text_encoder_prefix,
    without_prefix,
)
from comfy.families.key_tables import KeyTable, trace_converter
from comfy.families.shapes import count_indices, first_match_shape, shape
from comfy.families.weights import check_original_layout, load_checked

_TEXT_ENCODERS = (
    TextEncoderPart("t5xxl", comfy_text_encoder_prefix("t5xxl"), "t5", (comfy_text_encoder_prefix("t5xxl"),)),
)
CHROMA = Family(
    name="Chroma", comfy_class="Chroma", architecture="chroma", model_class="Chroma", latent_format="Flux",
    latent_scale_factor=0.3611, latent_shift_factor=0.1159, prediction_type="flux", num_heads=-1,
    num_head_channels=128, text_encoders=_TEXT_ENCODERS, clip_type="chroma", clip_skip_default=-1, sample_size=128,
    sampling_settings={"multiplier": 1.0}, diffusion_model_lora_prefixes=("diffusion_model.", "lora_unet_"),
    diffusers_lora_prefixes=("transformer.", "lora_transformer_", "lycoris_"), vae_prefix=COMFY_VAE_PREFIX,
    clip_loader_options=(("CLIPLoader", "chroma"),),
)
FAMILIES = (CHROMA,)

MARKER = "distilled_guidance_layer.norms.0.scale"
FLUX_MARKER = "double_blocks.0.img_attn.norm.key_norm.scale"
INPUT_KEY = "img_in.weight"
RADIANCE_MARKER = "nerf_blocks.0.norm.scale"
SCALED_FP8_MARKER = "scaled_fp8"  # ComfyUI's scaled-fp8 files: an empty fp8 tensor, and `*.scale_weight` per layer

# ComfyUI's Chroma constants (full size; `exact` is True when a file has them).
HIDDEN_SIZE = 3072
NUM_HEADS = 24
CONTEXT_DIM = 4096
APPROXIMATOR_HIDDEN = 5120
APPROXIMATOR_LAYERS = 5
APPROXIMATOR_INPUT = 64  # 16 sinusoids of the timestep, 16 of the guidance, 32 of the row index
MODULATION_ROWS = 344  # ComfyUI's `mod_index_length`: 3 * 38 single + 12 * 19 double + 2 final
AXES_DIM = (16, 56, 56)
PATCH_SIZE = 2


# --- detection -----------------------------------------------------------------------------------------------


def is_chroma(state_dict: Mapping[str, Any], prefix: str) -> bool:
    """Whether a Chroma (or Chroma Radiance) transformer is under `prefix`."""
    return prefix + MARKER in state_dict and prefix + FLUX_MARKER in state_dict


def rope_axes(head_dim: int) -> tuple[int, int, int]:
    """FLUX.1's RoPE widths [16, 56, 56] at head width 128, the same proportions for a reduced multiple of 32."""
    if head_dim == sum(AXES_DIM):
        return AXES_DIM
    if head_dim % 32:
        raise ModelDetectionError(f"Unsupported Chroma head width {head_dim}: Kiln needs 128 or a multiple of 32")
    return (head_dim // 8, head_dim * 7 // 16, head_dim * 7 // 16)


def detect_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """A Chroma transformer's hyper-parameters from its weights under `key_prefix`: in_channels / out_channels
    (latent channels, 16), patch_size, hidden_size, num_heads, head_dim, mlp_ratio, depth, depth_single_blocks,
    context_in_dim, in_dim / hidden_dim / n_layers (the approximator's), axes_dim, theta. Raises
    ModelDetectionError naming a missing key."""
    chroma = without_prefix(state_dict, key_prefix)
    hidden_size, packed_channels = shape(chroma, INPUT_KEY)
    head_dim = first_match_shape(chroma, r"(double|single)_blocks\.\d+\..*query_norm\.scale$")[0]
    if hidden_size % head_dim:
        raise ModelDetectionError(f"Chroma hidden size {hidden_size} is not a multiple of its head width {head_dim}")
    approximator_hidden, approximator_input = shape(chroma, "distilled_guidance_layer.in_proj.weight")
    patch_area = PATCH_SIZE * PATCH_SIZE
    return {
        "image_model": "chroma",
        "in_channels": packed_channels // patch_area,
        "out_channels": shape(chroma, "final_layer.linear.weight")[0] // patch_area,
        "patch_size": PATCH_SIZE,
        "hidden_size": hidden_size,
        "num_heads": hidden_size // head_dim,
        "head_dim": head_dim,
        "mlp_ratio": first_match_shape(chroma, r"double_blocks\.\d+\.img_mlp\.0\.weight$")[0] / hidden_size,
        "depth": count_indices(chroma, r"double_blocks\.(\d+)\."),
        "depth_single_blocks": count_indices(chroma, r"single_blocks\.(\d+)\."),
        "context_in_dim": shape(chroma, "txt_in.weight")[1],
        "in_dim": approximator_input,
        "hidden_dim": approximator_hidden,
        "out_dim": shape(chroma, "distilled_guidance_layer.out_proj.weight")[0],
        "n_layers": count_indices(chroma, r"distilled_guidance_layer\.layers\.(\d+)\."),
        "axes_dim": list(rope_axes(head_dim)),
        "theta": 10000,
        "qkv_bias": True,
        "scaled_fp8": SCALED_FP8_MARKER in chroma,
    }


def match(state_dict: Mapping[str, Any], prefix: str) -> FamilyMatch | None:
    """The Chroma family of the transformer under `prefix`, or None when there is none. Raises
    ModelDetectionError for Chroma Radiance, which Kiln does not run."""
    if not is_chroma(state_dict, prefix):
        return None
    if prefix + RADIANCE_MARKER in state_dict or prefix + INPUT_KEY not in state_dict:
        raise ModelDetectionError("This is a Chroma Radiance model (pixel-space Chroma, `nerf_blocks`), which Kiln "
                                  "does not support; Chroma (Chroma1-HD, Chroma1-Base) loads")
    config = detect_config(state_dict, prefix)
    exact = (config["hidden_size"] == HIDDEN_SIZE and config["num_heads"] == NUM_HEADS
             and config["context_in_dim"] == CONTEXT_DIM and config["hidden_dim"] == APPROXIMATOR_HIDDEN
             and config["n_layers"] == APPROXIMATOR_LAYERS)
    return FamilyMatch(CHROMA.name, CHROMA.comfy_class, CHROMA.prediction_type, exact, prefix, config,
                       architecture="chroma")


# --- the original layout -------------------------------------------------------------------------------------


def _linear(layout: dict[str, tuple[int, ...]], name: str, out_features: int, in_features: int,
            bias: bool = True) -> None:
    layout[f"{name}.weight"] = (out_features, in_features)
    if bias:
        layout[f"{name}.bias"] = (out_features,)


def original_layout(config: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
    """Chroma's keys and shapes in BFL's layout for `config` (`detect_config`'s names)."""
    hidden = config["hidden_size"]
    mlp = int(hidden * config["mlp_ratio"])
    head = config["head_dim"]
    patch_area = config["patch_size"] ** 2
    approximator = config["hidden_dim"]
    layout: dict[str, tuple[int, ...]] = {}
    _linear(layout, "img_in", hidden, config["in_channels"] * patch_area)
    _linear(layout, "txt_in", hidden, config["context_in_dim"])
    _linear(layout, "distilled_guidance_layer.in_proj", approximator, config["in_dim"])
    _linear(layout, "distilled_guidance_layer.out_proj", config["out_dim"], approximator)
    for index in range(config["n_layers"]):
        _linear(layout, f"distilled_guidance_layer.layers.{index}.in_layer", approximator, approximator)
        _linear(layout, f"distilled_guidance_layer.layers.{index}.out_layer", approximator, approximator)
        layout[f"distilled_guidance_layer.norms.{index}.scale"] = (approximator,)
    for index in range(config["depth"]):
        for stream in ("img", "txt"):
            block = f"double_blocks.{index}.{stream}"
            layout[f"{block}_attn.norm.key_norm.scale"] = (head,)
            layout[f"{block}_attn.norm.query_norm.scale"] = (head,)
            _linear(layout, f"{block}_attn.proj", hidden, hidden)
            _linear(layout, f"{block}_attn.qkv", 3 * hidden, hidden)
            _linear(layout, f"{block}_mlp.0", mlp, hidden)
            _linear(layout, f"{block}_mlp.2", hidden, mlp)
    for index in range(config["depth_single_blocks"]):
        block = f"single_blocks.{index}"
        _linear(layout, f"{block}.linear1", 3 * hidden + mlp, hidden)
        _linear(layout, f"{block}.linear2", hidden, hidden + mlp)
        layout[f"{block}.norm.key_norm.scale"] = (head,)
        layout[f"{block}.norm.query_norm.scale"] = (head,)
    _linear(layout, "final_layer.linear", config["out_channels"] * patch_area, hidden)
    return layout


# --- the diffusers network -------------------------------------------------------------------------------------


def diffusers_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A `ChromaTransformer2DModel` config for a detected Chroma config (packed 2x2 latent, patch_size 1).
    Raises ValueError for what diffusers' Chroma cannot express."""
    if config["mlp_ratio"] != 4.0:
        raise ValueError(f"Unsupported Chroma: MLP ratio {config['mlp_ratio']} (diffusers' Chroma has 4)")
    if config["depth"] < 1 or config["depth_single_blocks"] < 1 or config["n_layers"] < 1:
        raise ValueError(f"Unsupported Chroma: {config['depth']} double, {config['depth_single_blocks']} single "
                         f"blocks and {config['n_layers']} approximator layers (at least one of each)")
    if config["out_dim"] != config["hidden_size"] or config["in_dim"] % 4:
        raise ValueError(f"Unsupported Chroma: approximator {config['in_dim']} -> {config['out_dim']} for hidden "
                         f"size {config['hidden_size']}")
    patch_area = config["patch_size"] ** 2
    return {
        "patch_size": 1,
        "in_channels": config["in_channels"] * patch_area,
        "out_channels": config["out_channels"] * patch_area,
        "num_layers": config["depth"],
        "num_single_layers": config["depth_single_blocks"],
        "attention_head_dim": config["head_dim"],
        "num_attention_heads": config["num_heads"],
        "joint_attention_dim": config["context_in_dim"],
        "axes_dims_rope": tuple(config["axes_dim"]),
        "approximator_num_channels": config["in_dim"],
        "approximator_hidden_dim": config["hidden_dim"],
        "approximator_layers": config["n_layers"],
    }


def convert(source: Mapping[str, torch.Tensor], config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(diffusers state dict, source keys the converter left unused) for BFL-layout Chroma weights (bare keys),
    through diffusers' `convert_chroma_transformer_checkpoint_to_diffusers`, its single blocks' fused `linear1`
    split at the file's own widths as FLUX.1's are (`flux.convert_with`), so reduced models convert too."""
    from diffusers.loaders.single_file_utils import convert_chroma_transformer_checkpoint_to_diffusers

    return flux.convert_with(convert_chroma_transformer_checkpoint_to_diffusers, source, config)


def dequantize_scaled_fp8(source: Mapping[str, torch.Tensor], dtype: torch.dtype | None) -> dict[str, torch.Tensor]:
    """ComfyUI's `scaled_fp8` weights as plain ones: each fp8 `X.weight` times its `X.scale_weight`, in `dtype`
    (bfloat16 when None); the marker and the `scale_input` values (for fp8 matrix products) dropped."""
    dtype = dtype or torch.bfloat16
    plain: dict[str, torch.Tensor] = {}
    for key, value in source.items():
        if key == SCALED_FP8_MARKER or key.endswith((".scale_weight", ".scale_input")):
            continue
        scale = source.get(key[:-len("weight")] + "scale_weight") if key.endswith(".weight") else None
        if scale is not None:
            value = (value.to(torch.float32) * scale.to(torch.float32)).to(dtype)
        plain[key] = value
    return plain


def modulation_inputs(rows: int) -> torch.Tensor:
    """The row-index half of the approximator's input: 32 sinusoids (cos, then sin) of 1000 * row for each of
    `rows` rows, float32 [rows, 32]."""
    half = 16
    frequencies = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    arguments = (torch.arange(rows, dtype=torch.float32) * 1000)[:, None] * frequencies[None]
    return torch.cat([torch.cos(arguments), torch.sin(arguments)], dim=-1)


def finish_network(network: torch.nn.Module) -> torch.nn.Module:
    """Fill the buffer that loading on `meta` leaves empty: the approximator's row-index inputs, at least
    ComfyUI's 344 rows (the final layer reads the last two)."""
    config = network.config
    rows = max(MODULATION_ROWS, 3 * config.num_single_layers + 12 * config.num_layers + 2)
    network.time_text_embed.register_buffer("mod_proj", modulation_inputs(rows), persistent=False)
    return network


def load(state_dict: Mapping[str, torch.Tensor], found: FamilyMatch, family: Family, source_name: str,
         dtype: torch.dtype | None = torch.float32, operations: Any = None) -> Any:
    """The diffusers Chroma transformer for the weights under `found.unet_prefix`, checked in the file's names
    against the layout its shapes describe, then converted and checked again in diffusers' names. Raises
    `WeightLoadError` naming `source_name` and the first missing / unexpected / wrong-shape keys."""
    from diffusers import ChromaTransformer2DModel

    source = without_prefix(state_dict, found.unet_prefix)
    if found.unet_config.get("scaled_fp8"):
        if operations is not None:
            raise WeightLoadError(f"{source_name}: a scaled_fp8 Chroma with custom operations is not supported")
        source = dequantize_scaled_fp8(source, dtype)
    what = f"{found.name} transformer"
    try:
        config = diffusers_config(found.unet_config)
    except ValueError as error:
        raise WeightLoadError(f"{source_name}: {error}")
    check_original_layout(source, original_layout(found.unet_config), what, source_name)
    converted, leftover = convert(source, found.unet_config)
    network = load_checked(ChromaTransformer2DModel, config, source, converted, what, source_name, dtype, leftover,
                           operations=operations)
    return finish_network(network)


def network_config(network: torch.nn.Module) -> dict[str, Any]:
    """The detected-config values of a built `ChromaTransformer2DModel` that its original layout depends on."""
    config = network.config
    hidden = config.num_attention_heads * config.attention_head_dim
    state = network.state_dict()
    return {"hidden_size": hidden, "head_dim": config.attention_head_dim,
            "mlp_ratio": state["single_transformer_blocks.0.proj_mlp.weight"].shape[0] / hidden,
            "depth": config.num_layers, "depth_single_blocks": config.num_single_layers,
            "context_in_dim": config.joint_attention_dim, "in_channels": config.in_channels // PATCH_SIZE**2,
            "out_channels": (config.out_channels or config.in_channels) // PATCH_SIZE**2, "patch_size": PATCH_SIZE,
            "in_dim": config.approximator_num_channels, "hidden_dim": config.approximator_hidden_dim,
            "out_dim": hidden, "n_layers": config.approximator_layers}


def key_table(network: torch.nn.Module) -> KeyTable:
    """BFL key -> the rows of the diffusers parameters it becomes, read off the loading converter."""
    config = network_config(network)
    return trace_converter(lambda source: convert(source, config)[0], original_layout(config))

