"""CLIP and SigLIP image encoders (what ComfyUI's `clip_vision` files hold), from state dict to outputs.

`load_clipvision_from_sd` picks the encoder from the keys (`formats.detect_clip_vision`: ViT-L/14 at 224 or 336,
ViT-H/14, ViT-bigG/14, SigLIP so400m at 384 or 512) and returns a `ClipVisionModel`, whose `encode_image` gives
ComfyUI's `Output`: `last_hidden_state`, `image_embeds` (the projected class token; SigLIP: the normalised
tokens), `penultimate_hidden_states` and, for SigLIP, `all_hidden_states`. The networks are transformers'
`CLIPVisionModelWithProjection` and `SiglipVisionModel`. As ComfyUI on the CPU, weights are held at float16
precision (rounded once, kept as float32) and computed in float32. `comfy.clip_vision` is ComfyUI's face over this.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import torch

import comfy.model_management
import comfy.model_patcher
from comfy.guidance import formats
from comfy.image_preprocess import CLIP_MEAN, CLIP_STD, Output, clip_preprocess

# The encoders ComfyUI 0.3.64 knows, by its config names: transformers config values (facts of the published models).
_CLIP_COMMON = {"model_type": "clip_vision_model", "num_channels": 3, "patch_size": 14, "layer_norm_eps": 1e-5,
                "num_attention_heads": 16, "attention_dropout": 0.0, "dropout": 0.0}
CONFIGS: dict[str, dict[str, Any]] = {
    "vit_l": {**_CLIP_COMMON, "hidden_act": "quick_gelu", "hidden_size": 1024, "intermediate_size": 4096,
              "num_hidden_layers": 24, "image_size": 224, "projection_dim": 768},
    "vit_l_336": {**_CLIP_COMMON, "hidden_act": "quick_gelu", "hidden_size": 1024, "intermediate_size": 4096,
                  "num_hidden_layers": 24, "image_size": 336, "projection_dim": 768},
    "vit_h": {**_CLIP_COMMON, "hidden_act": "gelu", "hidden_size": 1280, "intermediate_size": 5120,
              "num_hidden_layers": 32, "image_size": 224, "projection_dim": 1024},
    "vit_g": {**_CLIP_COMMON, "hidden_act": "gelu", "hidden_size": 1664, "intermediate_size": 8192,
              "num_hidden_layers": 48, "image_size": 224, "projection_dim": 1280},
    "siglip_384": {"model_type": "siglip_vision_model", "num_channels": 3, "hidden_act": "gelu_pytorch_tanh",
                   "hidden_size": 1152, "intermediate_size": 4304, "num_attention_heads": 16,
                   "num_hidden_layers": 27, "patch_size": 14, "image_size": 384,
                   "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
    "siglip_512": {"model_type": "siglip_vision_model", "num_channels": 3, "hidden_act": "gelu_pytorch_tanh",
                   "hidden_size": 1152, "intermediate_size": 4304, "num_attention_heads": 16,
                   "num_hidden_layers": 27, "patch_size": 16, "image_size": 512,
                   "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5]},
}


class ClipVisionLoadError(formats.GuidanceFormatError):
    """A clip_vision file that is no encoder Kiln knows, or whose weights do not fit it."""


def _transformers_config(config: Mapping[str, Any]) -> Any:
    from transformers import CLIPVisionConfig, SiglipVisionConfig

    values = {key: value for key, value in config.items() if key not in ("model_type", "image_mean", "image_std")}
    if config["model_type"] == "siglip_vision_model":
        return SiglipVisionConfig(**values, vision_use_head=False, attn_implementation="sdpa")
    return CLIPVisionConfig(**values, attn_implementation="sdpa")


class ImageEncoderNetwork(torch.nn.Module):
    """An image encoder with ComfyUI's module contract (what `ClipVisionModel.model` is there, and what packs call
    directly): `forward(pixel_values, attention_mask=None, intermediate_output=None)` returns (last hidden state,
    the output of layer `intermediate_output` (negative counts from the end; "all": every layer's, stacked on
    dimension 1), the projected image embedding, None); state-dict keys `vision_model.*` and
    `visual_projection.weight`, as in the files. The layers are transformers'; SigLIP's last hidden state is
    layer-normed and is its own embedding (no projection)."""

    def __init__(self, config: Mapping[str, Any]):
        super().__init__()
        from transformers import CLIPVisionModelWithProjection, SiglipVisionModel

        self.siglip = config["model_type"] == "siglip_vision_model"
        if self.siglip:
            self.vision_model = SiglipVisionModel(_transformers_config(config))
            self.visual_projection = torch.nn.Identity()
        else:
            network = CLIPVisionModelWithProjection(_transformers_config(config))
            self.vision_model = network.vision_model
            self.visual_projection = network.visual_projection

    def forward(self, pixel_values: torch.Tensor, attention_mask: Any = None,
                intermediate_output: int | str | None = None) -> tuple:
        result = self.vision_model(pixel_values=pixel_values, output_hidden_states=True)
        layer_outputs = result.hidden_states[1:]  # transformers puts the embeddings first
        if intermediate_output == "all":
            intermediate = torch.stack(layer_outputs, dim=1)
        elif intermediate_output is not None:
            intermediate = layer_outputs[intermediate_output]
        else:
            intermediate = None
        pooled = result.last_hidden_state if self.siglip else result.pooler_output
        return result.last_hidden_state, intermediate, self.visual_projection(pooled), None


class ClipVisionModel:
    """One image encoder: `config` is a dict of `CONFIGS` (or a path to such a JSON file, as ComfyUI takes); its
    weights come from `load_sd`. `encode_image(image, crop)` takes an IMAGE [B, H, W, C] in 0..1; `model` is the
    `ImageEncoderNetwork`, `patcher` its ModelPatcher."""

    def __init__(self, json_config: str | Mapping[str, Any]):
        if not isinstance(json_config, Mapping):
            with open(json_config, encoding="utf-8") as handle:
                json_config = json.load(handle)
        self.config = dict(json_config)
        self.image_size = self.config.get("image_size", 224)
        self.image_mean = self.config.get("image_mean", list(CLIP_MEAN))
        self.image_std = self.config.get("image_std", list(CLIP_STD))
        self.model_type = self.config.get("model_type", "clip_vision_model")
        self.return_all_hidden_states = self.model_type == "siglip_vision_model"
        self.load_device = comfy.model_management.text_encoder_device()
        offload_device = comfy.model_management.text_encoder_offload_device()
        self.dtype = torch.float32
        with torch.device("meta"):
            self.model = ImageEncoderNetwork(self.config).eval()
        self.patcher = comfy.model_patcher.ModelPatcher(self.model, load_device=self.load_device,
                                                        offload_device=offload_device)

    def load_sd(self, sd: Mapping[str, torch.Tensor]) -> tuple[list[str], list[str]]:
        """Take transformers-layout weights; keys the network has no use for (a SigLIP pooling head) are left
        out. Returns (missing, unexpected) as ComfyUI does; a missing or mis-shaped weight raises
        `ClipVisionLoadError`."""
        expected = {key: value for key, value in self.model.state_dict(keep_vars=True).items()
                    if not key.endswith("position_ids")}
        missing = [key for key in expected if key not in sd]
        wrong = [f"{key} {tuple(sd[key].shape)} != {tuple(value.shape)}" for key, value in expected.items()
                 if key in sd and sd[key].shape != value.shape]
        if missing or wrong:
            raise ClipVisionLoadError(f"the weights do not fit a {self.config['hidden_size']}-wide, "
                                      f"{self.config['num_hidden_layers']}-layer {self.model_type}: "
                                      + (f"missing {missing[:4]}" if missing else f"shapes {wrong[:4]}"))
        # ComfyUI keeps image encoders in float16 on the CPU and computes in float32: same values this way.
        weights = {key: sd[key].detach().to("cpu", torch.float16).to(torch.float32) for key in expected}
        self.model.load_state_dict(weights, strict=False, assign=True)
        for name, buffer in self.model.named_buffers():
            if name.endswith("position_ids") and buffer.is_meta:
                _set_buffer(self.model, name, torch.arange(buffer.shape[-1]).expand(buffer.shape))
        self.model.requires_grad_(False)
        unexpected = [key for key in sd if key not in expected]  # a SigLIP pooling head, ...
        return [], unexpected

    def get_sd(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    @torch.no_grad()
    def encode_image(self, image: torch.Tensor, crop: bool = True) -> Output:
        comfy.model_management.load_model_gpu(self.patcher)
        device = next(self.model.parameters()).device
        pixel_values = clip_preprocess(image.to(device), size=self.image_size, mean=self.image_mean,
                                       std=self.image_std, crop=crop).float()
        last, intermediate, projected, mm_projected = self.model(
            pixel_values=pixel_values, intermediate_output="all" if self.return_all_hidden_states else -2)
        to_intermediate = comfy.model_management.intermediate_device()
        outputs = Output()
        outputs["last_hidden_state"] = last.to(to_intermediate)
        outputs["image_embeds"] = projected.to(to_intermediate)
        if self.return_all_hidden_states:
            outputs["penultimate_hidden_states"] = intermediate[:, -2].to(to_intermediate)
            outputs["all_hidden_states"] = intermediate.to(to_intermediate)
        else:
            outputs["penultimate_hidden_states"] = intermediate.to(to_intermediate)
        outputs["mm_projected"] = mm_projected
        return outputs


def _set_buffer(model: torch.nn.Module, name: str, value: torch.Tensor) -> None:
    owner_name, _, buffer_name = name.rpartition(".")
    model.get_submodule(owner_name).register_buffer(buffer_name, value, persistent=False)


IMAGE_ENCODERS = {"clip_vision_model": ClipVisionModel, "siglip_vision_model": ClipVisionModel}
"""ComfyUI's table of image encoder kinds; here every kind is a `ClipVisionModel` (DINOv2 is not built yet)."""

# open_clip's visual tower -> transformers' names: whole keys, then the per-layer parts.
_OPEN_CLIP_KEYS = {"class_embedding": "vision_model.embeddings.class_embedding",
                   "conv1.weight": "vision_model.embeddings.patch_embedding.weight",
                   "positional_embedding": "vision_model.embeddings.position_embedding.weight",
                   "ln_pre.weight": "vision_model.pre_layrnorm.weight", "ln_pre.bias": "vision_model.pre_layrnorm.bias",
                   "ln_post.weight": "vision_model.post_layernorm.weight",
                   "ln_post.bias": "vision_model.post_layernorm.bias"}
_OPEN_CLIP_LAYER_PARTS = {"attn.out_proj": "self_attn.out_proj", "ln_1": "layer_norm1", "ln_2": "layer_norm2",
                          "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}


def convert_to_transformers(sd: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The weights under `prefix` in transformers' layout: open_clip's `transformer.resblocks.*` visual tower is
    renamed (its fused q/k/v split, its `proj` transposed into `visual_projection.weight`); otherwise the prefix
    is only stripped."""
    if f"{prefix}transformer.resblocks.0.attn.in_proj_weight" not in sd:
        return {key[len(prefix):]: value for key, value in sd.items() if key.startswith(prefix)}
    out: dict[str, torch.Tensor] = {}
    layer_prefix = f"{prefix}transformer.resblocks."
    for key, value in sd.items():
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        if rest in _OPEN_CLIP_KEYS:
            out[_OPEN_CLIP_KEYS[rest]] = value
        elif rest == "proj":
            out["visual_projection.weight"] = value.transpose(0, 1)
        elif key.startswith(layer_prefix):
            index, _, part = key[len(layer_prefix):].partition(".")
            target = f"vision_model.encoder.layers.{index}."
            if part.startswith("attn.in_proj_"):
                kind = part.rsplit("_", 1)[1]  # weight / bias
                for name, chunk in zip(("q_proj", "k_proj", "v_proj"), value.chunk(3, dim=0), strict=True):
                    out[f"{target}self_attn.{name}.{kind}"] = chunk
                continue
            module, _, kind = part.rpartition(".")
            if module in _OPEN_CLIP_LAYER_PARTS:
                out[f"{target}{_OPEN_CLIP_LAYER_PARTS[module]}.{kind}"] = value
    return out


def load_clipvision_from_sd(sd: dict[str, torch.Tensor], prefix: str = "",
                            convert_keys: bool = False) -> ClipVisionModel:
    """A `ClipVisionModel` for a state dict (`prefix`: where the encoder's keys start; `convert_keys`: also
    accept open_clip's layout)."""
    if convert_keys:
        sd = convert_to_transformers(sd, prefix)
    elif prefix:
        sd = {key[len(prefix):]: value for key, value in sd.items() if key.startswith(prefix)}
    try:
        config = CONFIGS[formats.detect_clip_vision(sd)]
    except formats.GuidanceFormatError as error:
        raise ClipVisionLoadError(str(error)) from None
    model = ClipVisionModel(config)
    _missing, unexpected = model.load_sd(sd)
    if unexpected:
        logging.debug("clip vision: %d keys not used (%s ...)", len(unexpected), unexpected[:3])
    return model


def load(ckpt_path: str) -> ClipVisionModel:
    """The encoder in a clip_vision file (`ClipVisionLoadError` names the file when it is none Kiln knows)."""
    import comfy.utils

    sd = comfy.utils.load_torch_file(ckpt_path)
    try:
        if formats.OPEN_CLIP_VISUAL_MARKER in sd:
            return load_clipvision_from_sd(sd, prefix=formats.OPEN_CLIP_VISUAL_PREFIX, convert_keys=True)
        return load_clipvision_from_sd(sd)
    except ClipVisionLoadError as error:
        raise ClipVisionLoadError(f"{ckpt_path}: {error}") from None
