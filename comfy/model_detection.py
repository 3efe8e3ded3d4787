"""What a state dict is, from its key names and tensor shapes only (never from a file name).

Three questions, answered in this order by the loaders:

1. `checkpoint_contents(state_dict)`: is it a full checkpoint, a diffusion model alone, a VAE alone or a
   text encoder alone, and under which key prefixes do its parts live?
2. `detect_unet_config(state_dict, key_prefix)`: the LDM `UNetModel` hyper-parameters that the UNet weights
   imply (ComfyUI's names: `model_channels`, `channel_mult`, `transformer_depth`, ...); for the flow
   transformers `detect_flux_config` / `detect_mmdit_config` do the same (see "Flow transformers" below).
3. `model_family(state_dict)`: which family that is (`SD15`, `SD15_inpaint`, `SD20`, `SD21`, `SDXL`,
   `SDXLRefiner`, `Flux` (FLUX.1 dev), `FluxSchnell`, `SD3`), with its prediction type.

The diffusion model's architecture follows from one marker key, as in ComfyUI: `input_blocks.0.0.weight`
(the SD UNets), `double_blocks.0.img_attn.norm.key_norm.scale` with `img_in.weight` (FLUX.1, BFL layout),
`joint_blocks.0.context_block.attn.qkv.weight` (SD3's MMDiT). Flux with `guidance_in.*` keys is dev
(ComfyUI's model type FLUX), without them schnell (FLOW). The same two transformers saved in diffusers' layout
(`single_transformer_blocks.*` for Flux; `transformer_blocks.*.attn.add_q_proj` with `pos_embed.proj` for SD3),
which ComfyUI's UNETLoader also loads, give the same families and configs (`weights_layout` "diffusers").

Family matching follows ComfyUI's facts: a full-size model matches on exact values (SD1: context 768, 320
channels, conv `proj_in`; SD2: context 1024, linear `proj_in`; SDXL: context 2048, adm 2816, transformer depth
[0,0,2,2,10,10]; refiner: 384 channels, context 1280, adm 2560). A reduced-size model (test fixtures, tiny
distillations) has none of those numbers, so it falls back to the structure they stand for:

- no `label_emb` and conv `proj_in` -> SD1; no `label_emb` and linear `proj_in` -> SD2;
- a `label_emb` (SDXL's pooled text + size embedding): ComfyUI embeds every size number with a fixed
  256-wide sinusoid, 6 numbers for the base model (`adm = pooled + 6*256`) and 5 for the refiner
  (`adm = pooled + 5*256`, the refiner conditions on CLIP-G alone so `pooled == context_dim`). So
  `adm_in_channels - 1280 == context_dim` marks a refiner and anything else with a `label_emb` is the base.

Flow transformers:

- FLUX.1: ComfyUI hardcodes hidden 3072, 24 heads of 128, context 4096, pooled 768, MLP ratio 4 and RoPE axes
  [16, 56, 56]; only the block counts come from its keys. Kiln reads every size from the shapes (hidden from
  `img_in`, head width from the q/k norm scales, context from `txt_in`, pooled width from `vector_in`), so a
  reduced model loads too; a full-size file gives ComfyUI's numbers. `guidance_in.*` present: dev (model type
  FLUX, `ModelSamplingFlux` shift 1.15); absent: schnell (FLOW, shift 1.0, multiplier 1.0).
- SD3 MMDiT: sizes from shapes, as in ComfyUI: hidden = `x_embedder.proj` width = 64 * depth with 64-wide
  heads, patch size, positional-embedding grid (`pos_embed` [1, N*N, hidden]), pooled (`y_embedder`) and
  context (`context_embedder`) widths, RMS q/k norms when `attn.ln_q` is present (SD3.5), and MMDiT-X's second
  attention (`x_block.attn2`, SD3.5 medium). Model type FLOW, shift 3.0, multiplier 1000.

SD2 v-prediction vs eps is decided as ComfyUI decides it: an SD2 UNet with 4 input channels is v-prediction
when `std(output_blocks.11.1.transformer_blocks.0.norm1.bias, unbiased=False) > 0.09`, eps otherwise (also
when that key is absent). SD2 files carry no explicit marker. SDXL is eps unless the checkpoint has a top-level
`v_pred` key (then v-prediction; with a `ztsnr` key as well, zero-terminal-SNR).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIXES = ("first_stage_model.", "vae.")

# One key that each diffusion-model architecture has (ComfyUI's detection markers), by architecture.
ARCHITECTURE_MARKERS: dict[str, str] = {
    "unet": "input_blocks.0.0.weight",
    "flux": "double_blocks.0.img_attn.norm.key_norm.scale",
    "mmdit": "joint_blocks.0.context_block.attn.qkv.weight",
}
FLUX_INPUT_KEY = "img_in.weight"  # FLUX.1's patch embedding (with `double_blocks.*`, Flux even without the marker)
# The same transformers saved by diffusers (`transformer/diffusion_pytorch_model.safetensors`), which ComfyUI's
# UNETLoader loads too: Flux's single-stream blocks; SD3's joint attention (with `pos_embed.proj`, not Flux's
# linear `x_embedder`).
DIFFUSERS_FLUX_MARKER = "single_transformer_blocks.0.attn.norm_k.weight"
DIFFUSERS_MMDIT_MARKER = "transformer_blocks.0.attn.add_q_proj.weight"

# ComfyUI's head conventions: SD1 has 8 heads per attention; SD2/SDXL have 64-channel heads.
SD1_NUM_HEADS = 8
SD2_HEAD_CHANNELS = 64
# SDXL's size/crop/aesthetic numbers are each embedded with a 256-wide sinusoid (ComfyUI's Timestep(256)).
SDXL_TIME_EMBED_DIM = 256
SDXL_BASE_TIME_IDS = 6
SDXL_REFINER_TIME_IDS = 5
SD2_V_PREDICTION_STD_KEY = "output_blocks.11.1.transformer_blocks.0.norm1.bias"
SD2_V_PREDICTION_STD_THRESHOLD = 0.09


class ModelDetectionError(RuntimeError):
    """A state dict whose layout Kiln does not recognise; the message names the first keys seen."""


@dataclass(frozen=True)
class TextEncoderInfo:
    """One text encoder found in a state dict.

    kind: "clip_l" (OpenAI CLIP ViT-L text model, HF layout), "clip_h" (OpenCLIP ViT-H, SD2), "clip_g"
    (OpenCLIP ViT-bigG, SDXL / SD3), "t5xxl" (T5 encoder, SD3 / Flux); `layout` is "hf_clip" (`text_model.*` /
    flattened `embeddings.*`), "open_clip" (`transformer.resblocks.*`, fused `in_proj`) or "t5" (HF T5EncoderModel:
    `shared.weight`, `encoder.block.*`); `prefix` is the key prefix in front of that layout; hidden_size /
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


@dataclass(frozen=True)
class FamilyMatch:
    """The family a diffusion model (UNet or flow transformer) belongs to.

    name: "SD15", "SD15_inpaint", "SD20" (eps), "SD21" (v-prediction), "SDXL", "SDXLRefiner", "Flux" (FLUX.1
    dev), "FluxSchnell", "SD3".
    comfy_class: ComfyUI's `supported_models` class name (SD20 and SD21 are both ComfyUI's `SD20`).
    prediction_type: "eps", "v_prediction", "flow" (rectified flow: SD3, Flux schnell) or "flux" (Flux dev:
    flow with its own schedule and guidance input; ComfyUI's model type FLUX); zero_terminal_snr from SDXL's
    `ztsnr` key.
    exact: True when the full-size ComfyUI values matched, False for a reduced-size model matched on structure.
    unet_config: the `detect_unet_config` (or flow transformer) result; unet_prefix: where the diffusion
    model's keys live. architecture: "unet", "flux" or "mmdit".
    """

    name: str
    comfy_class: str
    prediction_type: str
    exact: bool
    unet_prefix: str
    unet_config: dict[str, Any] = field(default_factory=dict)
    zero_terminal_snr: bool = False
    architecture: str = "unet"


def _first_keys(state_dict: Mapping[str, Any], count: int = 8) -> str:
    keys = list(state_dict.keys())[:count]
    more = "" if len(state_dict) <= count else f", ... ({len(state_dict)} keys in all)"
    return ", ".join(repr(key) for key in keys) + more if keys else "(no keys: the state dict is empty)"


def _shape(state_dict: Mapping[str, Any], key: str) -> tuple[int, ...]:
    try:
        return tuple(state_dict[key].shape)
    except KeyError:
        raise ModelDetectionError(
            f"Incomplete diffusion model: the key {key!r} is missing (the file may be truncated or not a model). "
            f"First keys seen: {_first_keys(state_dict)}"
        )


def unet_prefix_from_state_dict(state_dict: Mapping[str, Any]) -> str:
    """The prefix in front of the diffusion model's keys (a UNet's `input_blocks.*`, Flux's `double_blocks.*`,
    SD3's `joint_blocks.*`): "model.diffusion_model.", another prefix, or ""."""
    if any(key.startswith(UNET_PREFIX) for key in state_dict):
        return UNET_PREFIX
    markers = (*ARCHITECTURE_MARKERS.values(), FLUX_INPUT_KEY, DIFFUSERS_FLUX_MARKER, DIFFUSERS_MMDIT_MARKER)
    for key in state_dict:
        for marker in markers:
            if key.endswith(marker):
                return key[: -len(marker)]
    raise ModelDetectionError(
        "No diffusion model found: no key ends with 'input_blocks.0.0.weight' (SD UNet), "
        "'double_blocks.0.img_attn.norm.key_norm.scale' (FLUX.1) or 'joint_blocks.0.context_block.attn.qkv.weight' "
        f"(SD3). First keys seen: {_first_keys(state_dict)}"
    )


def diffusion_model_architecture(state_dict: Mapping[str, Any], key_prefix: str) -> str | None:
    """"unet", "flux" or "mmdit": which marker key (`ARCHITECTURE_MARKERS`) is present under `key_prefix`;
    "flux_diffusers" / "mmdit_diffusers" for those transformers in diffusers' own layout."""
    for architecture, marker in ARCHITECTURE_MARKERS.items():
        if key_prefix + marker in state_dict:
            if architecture == "flux" and key_prefix + "img_in.weight" not in state_dict:
                continue
            return architecture
    # A FLUX.1 file missing its first double block still has the rest of the BFL layout.
    if key_prefix + FLUX_INPUT_KEY in state_dict and any(key.startswith(key_prefix + "double_blocks.")
                                                         for key in state_dict):
        return "flux"
    if key_prefix + DIFFUSERS_FLUX_MARKER in state_dict and key_prefix + "x_embedder.weight" in state_dict:
        return "flux_diffusers"
    if key_prefix + DIFFUSERS_MMDIT_MARKER in state_dict and key_prefix + "pos_embed.proj.weight" in state_dict:
        return "mmdit_diffusers"
    return None


def _count_indices(state_dict: Mapping[str, Any], pattern: str) -> int:
    """1 + the highest N for which some key matches `pattern` (a regex with one `(\\d+)` group); 0 if none."""
    regex = re.compile(pattern)
    highest = -1
    for key in state_dict:
        match = regex.match(key)
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


def _transformer_depth(state_dict: Mapping[str, Any], block_prefix: str) -> int:
    """Number of transformer blocks in the SpatialTransformer at `block_prefix` (e.g. 'input_blocks.1.1.')."""
    return _count_indices(state_dict, re.escape(block_prefix) + r"transformer_blocks\.(\d+)\.")


def detect_unet_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """The LDM UNet hyper-parameters implied by the weights under `key_prefix`.

    Gives ComfyUI's names: in_channels, model_channels, out_channels, num_res_blocks (per level),
    channel_mult, transformer_depth (per input block), transformer_depth_middle (-1: no middle attention),
    transformer_depth_output (per output block), context_dim, use_linear_in_transformer, adm_in_channels
    (None without a `label_emb`), num_classes ("sequential" with one), attention_levels (levels with
    attention). Heads are not visible in the weights; `supported_models` adds them per family.
    Raises ModelDetectionError naming the missing key for an incomplete UNet.
    """
    unet = {key[len(key_prefix):]: value for key, value in state_dict.items() if key.startswith(key_prefix)}
    if "input_blocks.0.0.weight" not in unet:
        raise ModelDetectionError(
            f"No UNet under prefix {key_prefix!r}: 'input_blocks.0.0.weight' is missing. "
            f"First keys seen: {_first_keys(state_dict)}"
        )
    model_channels, in_channels = _shape(unet, "input_blocks.0.0.weight")[:2]
    out_channels = _shape(unet, "out.2.weight")[0]

    num_input_blocks = _count_indices(unet, r"input_blocks\.(\d+)\.")
    num_output_blocks = _count_indices(unet, r"output_blocks\.(\d+)\.")

    # Walk the input blocks: a block holding `0.op.weight` is a downsampler and closes a level.
    num_res_blocks: list[int] = []
    channel_mult: list[int] = []
    transformer_depth: list[int] = []
    res_blocks_in_level = 0
    level_channels = model_channels
    for index in range(1, num_input_blocks):
        block = f"input_blocks.{index}."
        if block + "0.op.weight" in unet:
            num_res_blocks.append(res_blocks_in_level)
            channel_mult.append(level_channels // model_channels)
            res_blocks_in_level = 0
            continue
        level_channels = _shape(unet, block + "0.out_layers.3.weight")[0]
        transformer_depth.append(_transformer_depth(unet, block + "1."))
        res_blocks_in_level += 1
    num_res_blocks.append(res_blocks_in_level)
    channel_mult.append(level_channels // model_channels)

    transformer_depth_output = [_transformer_depth(unet, f"output_blocks.{index}.1.") for index in range(num_output_blocks)]
    transformer_depth_middle = _transformer_depth(unet, "middle_block.1.") if "middle_block.1.proj_in.weight" in unet else -1

    attention_key = next((key for key in unet if key.endswith(".attn2.to_k.weight")), None)
    context_dim = _shape(unet, attention_key)[1] if attention_key else None
    proj_in_key = next((key for key in unet if key.endswith(".proj_in.weight")), None)
    use_linear_in_transformer = len(_shape(unet, proj_in_key)) == 2 if proj_in_key else False

    adm_in_channels = _shape(unet, "label_emb.0.0.weight")[1] if "label_emb.0.0.weight" in unet else None

    depths_per_level: list[int] = []
    position = 0
    for count in num_res_blocks:
        depths_per_level.append(max(transformer_depth[position : position + count], default=0))
        position += count
    attention_levels = [level for level, depth in enumerate(depths_per_level) if depth > 0]

    return {
        "in_channels": in_channels,
        "model_channels": model_channels,
        "out_channels": out_channels,
        "num_res_blocks": num_res_blocks,
        "channel_mult": channel_mult,
        "transformer_depth": transformer_depth,
        "transformer_depth_middle": transformer_depth_middle,
        "transformer_depth_output": transformer_depth_output,
        "context_dim": context_dim,
        "use_linear_in_transformer": use_linear_in_transformer,
        "adm_in_channels": adm_in_channels,
        "num_classes": "sequential" if adm_in_channels is not None else None,
        "attention_levels": attention_levels,
    }


# ComfyUI's full-size match values per family (a subset of its `unet_config` dicts: the keys that decide).
EXACT_UNET_MATCHES: dict[str, dict[str, Any]] = {
    "SD15": {"context_dim": 768, "model_channels": 320, "use_linear_in_transformer": False, "adm_in_channels": None},
    "SD20": {"context_dim": 1024, "model_channels": 320, "use_linear_in_transformer": True, "adm_in_channels": None},
    "SDXLRefiner": {
        "model_channels": 384, "use_linear_in_transformer": True, "context_dim": 1280, "adm_in_channels": 2560,
        "transformer_depth": [0, 0, 4, 4, 4, 4, 0, 0], "transformer_depth_middle": 4,
    },
    "SDXL": {
        "model_channels": 320, "use_linear_in_transformer": True, "context_dim": 2048, "adm_in_channels": 2816,
        "transformer_depth": [0, 0, 2, 2, 10, 10], "transformer_depth_middle": 10,
    },
}


def _structural_family(unet_config: dict[str, Any]) -> str | None:
    """The ComfyUI class a reduced-size UNet stands for, or None (see the module docstring)."""
    if unet_config["context_dim"] is None:
        return None
    if unet_config["context_dim"] == 1024 and unet_config["adm_in_channels"] is not None:
        return None  # SD2.1 unCLIP (adm 1536 / 2048): a label embedding of CLIP-vision features, not SDXL's
    adm = unet_config["adm_in_channels"]
    if adm is None:
        return "SD20" if unet_config["use_linear_in_transformer"] else "SD15"
    if not unet_config["use_linear_in_transformer"]:
        return None
    if adm - SDXL_REFINER_TIME_IDS * SDXL_TIME_EMBED_DIM == unet_config["context_dim"]:
        return "SDXLRefiner"
    if adm > SDXL_BASE_TIME_IDS * SDXL_TIME_EMBED_DIM:
        return "SDXL"
    return None


def _sd2_is_v_prediction(state_dict: Mapping[str, Any], unet_prefix: str, in_channels: int) -> bool:
    if in_channels != 4:
        return False
    bias = state_dict.get(unet_prefix + SD2_V_PREDICTION_STD_KEY)
    if bias is None or bias.device.type == "meta":
        return False
    return bool(torch.std(bias.float(), unbiased=False) > SD2_V_PREDICTION_STD_THRESHOLD)


def model_family(state_dict: Mapping[str, Any], unet_prefix: str | None = None,
                 source_name: str | None = None) -> FamilyMatch:
    """Decide the Stable Diffusion family of the UNet in `state_dict` (a checkpoint or a UNet alone).

    unet_prefix: where the UNet keys live (None: found with `unet_prefix_from_state_dict`). source_name: the
    file, for the error message. Raises ModelDetectionError ("Could not detect model type of: <file>. ...",
    naming the first keys seen) when the layout is not one of the families.
    """
    try:
        return _model_family(state_dict, unet_prefix)
    except ModelDetectionError as error:
        where = f" of: {source_name}" if source_name else ""
        raise ModelDetectionError(f"Could not detect model type{where}. {error}") from None


def _model_family(state_dict: Mapping[str, Any], unet_prefix: str | None) -> FamilyMatch:
    if unet_prefix is None:
        unet_prefix = unet_prefix_from_state_dict(state_dict)
    architecture = diffusion_model_architecture(state_dict, unet_prefix)
    if architecture in ("flux", "mmdit", "flux_diffusers", "mmdit_diffusers"):
        return flow_model_family(state_dict, unet_prefix, architecture)
    unet_config = detect_unet_config(state_dict, unet_prefix)

    comfy_class = None
    exact = False
    for name, match in EXACT_UNET_MATCHES.items():
        if all(unet_config.get(key) == value for key, value in match.items()):
            comfy_class, exact = name, True
            break
    if comfy_class is None:
        comfy_class = _structural_family(unet_config)
    if comfy_class is None:
        raise ModelDetectionError(
            "The UNet is not SD1.x, SD2.x, SDXL or the SDXL refiner "
            f"(context_dim={unet_config['context_dim']}, adm_in_channels={unet_config['adm_in_channels']}, "
            f"linear proj_in={unet_config['use_linear_in_transformer']}). First keys seen: {_first_keys(state_dict)}"
        )

    in_channels = unet_config["in_channels"]
    prediction_type = "eps"
    zero_terminal_snr = False
    name = comfy_class
    if comfy_class == "SD15":
        if in_channels == 9:
            name = "SD15_inpaint"
        elif in_channels != 4:
            raise ModelDetectionError(
                f"Unsupported SD1.x variant with {in_channels} input channels (4: SD1.5, 9: inpainting; "
                f"8 would be instruct-pix2pix, which Kiln does not load). First keys seen: {_first_keys(state_dict)}"
            )
    elif comfy_class == "SD20":
        if _sd2_is_v_prediction(state_dict, unet_prefix, in_channels):
            name, prediction_type = "SD21", "v_prediction"
    elif comfy_class in ("SDXL", "SDXLRefiner"):
        if "v_pred" in state_dict:
            prediction_type = "v_prediction"
            zero_terminal_snr = "ztsnr" in state_dict
    return FamilyMatch(
        name=name,
        comfy_class=comfy_class,
        prediction_type=prediction_type,
        exact=exact,
        unet_prefix=unet_prefix,
        unet_config=unet_config,
        zero_terminal_snr=zero_terminal_snr,
    )


# --- text encoders -------------------------------------------------------------------------------------

# Prefixes where single-file checkpoints keep their text encoders, with the kind ComfyUI renames them to.
CHECKPOINT_TEXT_ENCODER_PREFIXES: tuple[tuple[str, str], ...] = (
    ("cond_stage_model.transformer.", "clip_l"),  # SD1: HF CLIP-L
    ("cond_stage_model.model.", "clip_h"),  # SD2: OpenCLIP ViT-H
    ("conditioner.embedders.0.transformer.", "clip_l"),  # SDXL base: HF CLIP-L
    ("conditioner.embedders.1.model.", "clip_g"),  # SDXL base: OpenCLIP bigG
    ("conditioner.embedders.0.model.", "clip_g"),  # SDXL refiner: OpenCLIP bigG alone
    ("text_encoders.clip_l.transformer.", "clip_l"),  # SD3 / Flux: HF CLIP-L
    ("text_encoders.clip_g.transformer.", "clip_g"),  # SD3: HF-layout CLIP-G
)


def _hf_clip_info(state_dict: Mapping[str, Any], prefix: str, kind: str | None) -> TextEncoderInfo | None:
    for inner in ("text_model.", ""):
        token_key = f"{prefix}{inner}embeddings.token_embedding.weight"
        if token_key in state_dict:
            hidden = _shape(state_dict, token_key)[1]
            layers = _count_indices(
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
    hidden = _shape(state_dict, token_key)[1]
    layers = _count_indices(
        {k: None for k in state_dict if k.startswith(prefix)}, re.escape(prefix + "transformer.resblocks.") + r"(\d+)\."
    )
    projection = state_dict.get(prefix + "text_projection")
    projection_dim = tuple(projection.shape)[1] if projection is not None else None
    if kind is None:
        # OpenCLIP ViT-H is 1024 wide; bigG is 1280. A reduced-size file alone cannot say, bigG is assumed.
        kind = "clip_h" if hidden == 1024 else "clip_g"
    return TextEncoderInfo(kind, prefix, "open_clip", hidden, layers, projection_dim)


T5_CHECKPOINT_PREFIX = "text_encoders.t5xxl.transformer."  # SD3 / Flux single-file checkpoints


def _t5_info(state_dict: Mapping[str, Any], prefix: str) -> TextEncoderInfo | None:
    query_key = prefix + "encoder.block.0.layer.0.SelfAttention.q.weight"
    if query_key not in state_dict:
        return None
    hidden = _shape(state_dict, query_key)[1]
    layers = _count_indices({k: None for k in state_dict if k.startswith(prefix)},
                            re.escape(prefix + "encoder.block.") + r"(\d+)\.")
    return TextEncoderInfo("t5xxl", prefix, "t5", hidden, layers)


def text_encoders_in(state_dict: Mapping[str, Any]) -> tuple[TextEncoderInfo, ...]:
    """The text encoders in a checkpoint (at the single-file prefixes) or a text-encoder-only file (bare keys)."""
    found: list[TextEncoderInfo] = []
    for prefix, kind in CHECKPOINT_TEXT_ENCODER_PREFIXES:
        info = _hf_clip_info(state_dict, prefix, kind) or _open_clip_info(state_dict, prefix, kind)
        if info is not None:
            found.append(info)
    t5 = _t5_info(state_dict, T5_CHECKPOINT_PREFIX)
    if t5 is not None:
        found.append(t5)
    if not found:
        info = _hf_clip_info(state_dict, "", None) or _open_clip_info(state_dict, "", None) or _t5_info(state_dict, "")
        if info is not None:
            found.append(info)
    return tuple(found)


# --- what a file is ------------------------------------------------------------------------------------


def _vae_prefix(state_dict: Mapping[str, Any]) -> str | None:
    for prefix in (*VAE_PREFIXES, ""):
        if prefix + "decoder.conv_in.weight" in state_dict or prefix + "encoder.conv_in.weight" in state_dict:
            return prefix
    return None


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
        unet_prefix = unet_prefix_from_state_dict(state_dict)
    except ModelDetectionError:
        unet_prefix = None
    vae_prefix = _vae_prefix(state_dict)
    text_encoders = text_encoders_in(state_dict)
    if unet_prefix is not None:
        kind = "checkpoint" if (vae_prefix is not None or text_encoders) else "unet"
    elif vae_prefix is not None:
        kind = "vae"
    elif text_encoders:
        kind = "text_encoder"
    else:
        raise ModelDetectionError(
            f"{where}Could not tell what this file is: no diffusion model ('input_blocks.0.0.weight', "
            "'double_blocks.0.img_attn.norm.key_norm.scale', 'joint_blocks.0.context_block.attn.qkv.weight'), VAE "
            "('decoder.conv_in.weight') or text encoder ('token_embedding.weight', 'encoder.block.0.*') keys. "
            f"First keys seen: {_first_keys(state_dict)}"
        )
    return CheckpointContents(kind, unet_prefix, vae_prefix, text_encoders)


# --- flow transformers ---------------------------------------------------------------------------------

# ComfyUI's FLUX.1 constants (the full-size values; `exact` is True when a file has them).
FLUX_HIDDEN_SIZE = 3072
FLUX_NUM_HEADS = 24
FLUX_CONTEXT_DIM = 4096
FLUX_POOLED_DIM = 768
FLUX_AXES_DIM = (16, 56, 56)
FLUX_THETA = 10000
FLUX_PATCH_SIZE = 2
MMDIT_HEAD_WIDTH = 64


def _sub_state_dict(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    return {key[len(key_prefix):]: value for key, value in state_dict.items() if key.startswith(key_prefix)}


def flux_rope_axes(head_dim: int) -> tuple[int, int, int]:
    """RoPE widths per position axis (index, row, column) for a head width: FLUX.1's [16, 56, 56] at 128,
    the same proportions (1/8, 7/16, 7/16) for a reduced head width, which must be a multiple of 32 (each axis
    rotates pairs of channels)."""
    if head_dim == sum(FLUX_AXES_DIM):
        return FLUX_AXES_DIM
    if head_dim % 32:
        raise ModelDetectionError(f"Unsupported Flux head width {head_dim}: Kiln needs 128 or a multiple of 32")
    return (head_dim // 8, head_dim * 7 // 16, head_dim * 7 // 16)


def _first_match_shape(state_dict: Mapping[str, Any], pattern: str) -> tuple[int, ...]:
    """The shape of the first key matching the regex `pattern`; ModelDetectionError when none does."""
    regex = re.compile(pattern)
    for key, value in state_dict.items():
        if regex.match(key):
            return tuple(value.shape)
    raise ModelDetectionError(f"Incomplete diffusion model: no key matches {pattern!r}. "
                              f"First keys seen: {_first_keys(state_dict)}")


def _flux_config(hidden_size: int, packed_channels: int, head_dim: int, **sizes: Any) -> dict[str, Any]:
    patch_area = FLUX_PATCH_SIZE * FLUX_PATCH_SIZE
    if hidden_size % head_dim:
        raise ModelDetectionError(f"Flux hidden size {hidden_size} is not a multiple of its head width {head_dim}")
    return {
        "image_model": "flux",
        "in_channels": packed_channels // patch_area,
        "out_channels": sizes.pop("packed_out_channels") // patch_area,
        "patch_size": FLUX_PATCH_SIZE,
        "hidden_size": hidden_size,
        "num_heads": hidden_size // head_dim,
        "head_dim": head_dim,
        "mlp_ratio": sizes.pop("mlp_width") / hidden_size,
        **sizes,
        "axes_dim": list(flux_rope_axes(head_dim)),
        "theta": FLUX_THETA,
    }


def detect_flux_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """A FLUX.1 transformer's hyper-parameters from its BFL-layout weights under `key_prefix`.

    Gives ComfyUI's names: in_channels / out_channels (latent channels, 16), patch_size, hidden_size,
    num_heads, head_dim, mlp_ratio, depth (double blocks), depth_single_blocks, context_in_dim, vec_in_dim,
    axes_dim, theta, qkv_bias, guidance_embed, and weights_layout "bfl". Raises ModelDetectionError naming a
    missing key.
    """
    flux = _sub_state_dict(state_dict, key_prefix)
    hidden_size, packed_channels = _shape(flux, "img_in.weight")
    # Per-block sizes from whichever block is there, so a file missing a block is reported by the layout check.
    return _flux_config(
        hidden_size, packed_channels,
        head_dim=_first_match_shape(flux, r"(double|single)_blocks\.\d+\..*query_norm\.scale$")[0],
        packed_out_channels=_shape(flux, "final_layer.linear.weight")[0],
        mlp_width=_first_match_shape(flux, r"double_blocks\.\d+\.img_mlp\.0\.weight$")[0],
        depth=_count_indices(flux, r"double_blocks\.(\d+)\."),
        depth_single_blocks=_count_indices(flux, r"single_blocks\.(\d+)\."),
        context_in_dim=_shape(flux, "txt_in.weight")[1],
        vec_in_dim=_shape(flux, "vector_in.in_layer.weight")[1],
        qkv_bias=any(re.match(r"double_blocks\.\d+\.img_attn\.qkv\.bias$", key) for key in flux),
        guidance_embed="guidance_in.in_layer.weight" in flux,
        weights_layout="bfl",
    )


def detect_flux_diffusers_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """`detect_flux_config`'s result for a FLUX.1 transformer saved in diffusers' layout (`x_embedder`,
    `transformer_blocks.*`, `single_transformer_blocks.*`), with weights_layout "diffusers"."""
    flux = _sub_state_dict(state_dict, key_prefix)
    hidden_size, packed_channels = _shape(flux, "x_embedder.weight")
    return _flux_config(
        hidden_size, packed_channels,
        head_dim=_first_match_shape(flux, r"(single_)?transformer_blocks\.\d+\.attn\.norm_q\.weight$")[0],
        packed_out_channels=_shape(flux, "proj_out.weight")[0],
        mlp_width=_first_match_shape(flux, r"transformer_blocks\.\d+\.ff\.net\.0\.proj\.weight$")[0],
        depth=_count_indices(flux, r"transformer_blocks\.(\d+)\."),
        depth_single_blocks=_count_indices(flux, r"single_transformer_blocks\.(\d+)\."),
        context_in_dim=_shape(flux, "context_embedder.weight")[1],
        vec_in_dim=_shape(flux, "time_text_embed.text_embedder.linear_1.weight")[1],
        qkv_bias=any(re.match(r"transformer_blocks\.\d+\.attn\.to_q\.bias$", key) for key in flux),
        guidance_embed="time_text_embed.guidance_embedder.linear_1.weight" in flux,
        weights_layout="diffusers",
    )


def _mmdit_config(hidden_size: int, in_channels: int, patch_size: int, positions: int | None,
                  packed_out_channels: int, **sizes: Any) -> dict[str, Any]:
    return {
        "image_model": "sd3",
        "hidden_size": hidden_size,
        "depth": hidden_size // MMDIT_HEAD_WIDTH,
        "num_heads": hidden_size // MMDIT_HEAD_WIDTH,
        "patch_size": patch_size,
        "in_channels": in_channels,
        "out_channels": packed_out_channels // (patch_size * patch_size),
        "pos_embed_max_size": round(math.sqrt(positions)) if positions else None,
        "mlp_ratio": sizes.pop("mlp_width") / hidden_size,
        **sizes,
    }


def _indices(state_dict: Mapping[str, Any], pattern: str) -> list[int]:
    regex = re.compile(pattern)
    return sorted({int(match.group(1)) for key in state_dict if (match := regex.match(key))})


def detect_mmdit_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """SD3's MMDiT hyper-parameters from its weights under `key_prefix` (ComfyUI's names).

    hidden_size and depth (= hidden / 64, ComfyUI's head count) from `x_embedder.proj.weight`; num_layers
    (the joint blocks present), patch_size, in/out channels, pos_embed_max_size (sqrt of `pos_embed`'s
    positions), adm_in_channels (None without `y_embedder`), context_in_dim, qk_norm ("rms_norm" or None),
    x_block_self_attn_layers (SD3.5 medium's second attention), weights_layout "stability".
    """
    mmdit = _sub_state_dict(state_dict, key_prefix)
    hidden_size, in_channels, patch_size, _ = _shape(mmdit, "x_embedder.proj.weight")
    return _mmdit_config(
        hidden_size, in_channels, patch_size,
        positions=_shape(mmdit, "pos_embed")[1] if "pos_embed" in mmdit else None,
        packed_out_channels=_shape(mmdit, "final_layer.linear.weight")[0],
        num_layers=_count_indices(mmdit, r"joint_blocks\.(\d+)\."),
        adm_in_channels=_shape(mmdit, "y_embedder.mlp.0.weight")[1] if "y_embedder.mlp.0.weight" in mmdit else None,
        context_in_dim=_shape(mmdit, "context_embedder.weight")[1],
        mlp_width=_first_match_shape(mmdit, r"joint_blocks\.\d+\.x_block\.mlp\.fc1\.weight$")[0],
        qk_norm="rms_norm" if any(key.endswith("x_block.attn.ln_q.weight") for key in mmdit) else None,
        x_block_self_attn_layers=_indices(mmdit, r"joint_blocks\.(\d+)\.x_block\.attn2\."),
        weights_layout="stability",
    )


def detect_mmdit_diffusers_config(state_dict: Mapping[str, Any], key_prefix: str) -> dict[str, Any]:
    """`detect_mmdit_config`'s result for an SD3 transformer saved in diffusers' layout (`pos_embed.proj`,
    `transformer_blocks.*`, `time_text_embed.*`), with weights_layout "diffusers"."""
    mmdit = _sub_state_dict(state_dict, key_prefix)
    hidden_size, in_channels, patch_size, _ = _shape(mmdit, "pos_embed.proj.weight")
    text_embedder = "time_text_embed.text_embedder.linear_1.weight"
    return _mmdit_config(
        hidden_size, in_channels, patch_size,
        positions=_shape(mmdit, "pos_embed.pos_embed")[1] if "pos_embed.pos_embed" in mmdit else None,
        packed_out_channels=_shape(mmdit, "proj_out.weight")[0],
        num_layers=_count_indices(mmdit, r"transformer_blocks\.(\d+)\."),
        adm_in_channels=_shape(mmdit, text_embedder)[1] if text_embedder in mmdit else None,
        context_in_dim=_shape(mmdit, "context_embedder.weight")[1],
        mlp_width=_first_match_shape(mmdit, r"transformer_blocks\.\d+\.ff\.net\.0\.proj\.weight$")[0],
        qk_norm="rms_norm" if any(re.match(r"transformer_blocks\.\d+\.attn\.norm_q\.weight$", key)
                                  for key in mmdit) else None,
        x_block_self_attn_layers=_indices(mmdit, r"transformer_blocks\.(\d+)\.attn2\."),
        weights_layout="diffusers",
    )


def flow_model_family(state_dict: Mapping[str, Any], key_prefix: str, architecture: str) -> FamilyMatch:
    """The `FamilyMatch` of a FLUX.1 ("flux", "flux_diffusers") or SD3 ("mmdit", "mmdit_diffusers")
    transformer under `key_prefix`; its architecture is "flux" / "mmdit" and its config's weights_layout says
    which key layout the file has."""
    if architecture in ("flux", "flux_diffusers"):
        detect = detect_flux_config if architecture == "flux" else detect_flux_diffusers_config
        config = detect(state_dict, key_prefix)
        exact = (config["hidden_size"] == FLUX_HIDDEN_SIZE and config["num_heads"] == FLUX_NUM_HEADS
                 and config["context_in_dim"] == FLUX_CONTEXT_DIM and config["vec_in_dim"] == FLUX_POOLED_DIM)
        if config["guidance_embed"]:
            return FamilyMatch("Flux", "Flux", "flux", exact, key_prefix, config, architecture="flux")
        return FamilyMatch("FluxSchnell", "FluxSchnell", "flow", exact, key_prefix, config, architecture="flux")
    if architecture in ("mmdit", "mmdit_diffusers"):
        detect = detect_mmdit_config if architecture == "mmdit" else detect_mmdit_diffusers_config
        config = detect(state_dict, key_prefix)
        if config["pos_embed_max_size"] is None:
            raise ModelDetectionError(f"SD3 MMDiT without 'pos_embed'. First keys seen: {_first_keys(state_dict)}")
        exact = config["context_in_dim"] == 4096 and config["adm_in_channels"] == 2048
        comfy_class = "SD3" if config["qk_norm"] is None else "SD35"
        return FamilyMatch("SD3", comfy_class, "flow", exact, key_prefix, config, architecture="mmdit")
    raise ModelDetectionError(f"Unknown flow architecture {architecture!r}")
