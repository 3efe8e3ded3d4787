"""ControlNets of the SD UNet families (SD1.x, SD2.x, SDXL): lllyasviel's original layout (`input_hint_block`,
`zero_convs`, `middle_block_out`, the UNet encoder's LDM names), diffusers' layout, xinsir's ControlNet-union and
Stability's Control-LoRA.

The networks are diffusers' `ControlNetModel` and `ControlNetUnionModel`, built from a config read off the
weights' shapes (the UNet families' own detection, `comfy.families.unet`). One key table maps the original
layout to diffusers' names and back (`diffusers_names`): the UNet encoder's part is the UNet families' LDM
naming (`comfy.families.unet.unet_ldm_names`, built on diffusers' `DIFFUSERS_TO_LDM_MAPPING`), plus the
ControlNet's own hint encoder and zero convolutions. diffusers' `convert_controlnet_checkpoint` is not used: it
drops SDXL's `label_emb`. The same table names Control-LoRA's deltas and writes test files.

A plain ControlNet runs through `ControlNetModel.forward`. The union model runs ComfyUI's forward over
`ControlNetUnionModel`'s modules (`UnionControlNetwork`): diffusers' own union forward attends across the batch
and always mixes in a task embedding, where ComfyUI (0.3.64) adds the task embedding only when a type is set and
fuses one condition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import torch

import comfy.cpu_speedups
from comfy import families
from comfy.families import unet
from comfy.families.base import WeightLoadError
from comfy.families.shapes import count_indices, shape
from comfy.families.weights import load_checked
from comfy.guidance import formats
from comfy.guidance.control import ControlNet

# ComfyUI's union control types (comfy.cldm.control_types), in SetUnionControlNetType's order after "auto".
UNION_CONTROLNET_TYPES = {
    "openpose": 0, "depth": 1, "hed/pidi/scribble/ted": 2, "canny/lineart/anime_lineart/mlsd": 3, "normal": 4,
    "segment": 5, "tile": 6, "repaint": 7,
}

# The hint encoder's convolutions sit at these indices of `input_hint_block` (SiLUs in between).
_HINT_BLOCK_STEP = 2


# --- naming --------------------------------------------------------------------------------------------------


def _hint_block_ldm_name(key: str, blocks: int) -> str | None:
    match = re.match(r"controlnet_cond_embedding\.(conv_in|conv_out|blocks\.(\d+))\.(weight|bias)$", key)
    if match is None:
        return None
    part, block, kind = match.groups()
    if part == "conv_in":
        index = 0
    elif part == "conv_out":
        index = _HINT_BLOCK_STEP * (blocks + 1)
    else:
        index = _HINT_BLOCK_STEP * (int(block) + 1)
    return f"input_hint_block.{index}.{kind}"


def ldm_names(diffusers_keys: list[str], layers_per_block: int) -> dict[str, str]:
    """diffusers `ControlNetModel` parameter -> original (LDM) key, for a net with `layers_per_block` res
    blocks per level. Union-only parameters (xinsir's `task_embedding`, ...) have no original name and are left
    out."""
    blocks = count_indices(dict.fromkeys(diffusers_keys), r"controlnet_cond_embedding\.blocks\.(\d+)\.")
    names: dict[str, str] = {}
    shared: list[str] = []
    for key in diffusers_keys:
        hint = _hint_block_ldm_name(key, blocks)
        zero_conv = re.match(r"controlnet_down_blocks\.(\d+)\.(weight|bias)$", key)
        if hint is not None:
            names[key] = hint
        elif zero_conv is not None:
            names[key] = f"zero_convs.{zero_conv.group(1)}.0.{zero_conv.group(2)}"
        elif key.startswith("controlnet_mid_block."):
            names[key] = "middle_block_out.0." + key.rsplit(".", 1)[1]
        elif key.startswith("class_embedding."):
            names[key] = key.replace("class_embedding.linear_1.", "label_emb.0.0.").replace(
                "class_embedding.linear_2.", "label_emb.0.2.")
        elif key.split(".")[0] in ("conv_in", "time_embedding", "add_embedding", "down_blocks", "mid_block"):
            shared.append(key)
    names.update(unet.unet_ldm_names(shared, {"layers_per_block": layers_per_block, "up_block_types": []}))
    return names


def key_table(network: torch.nn.Module) -> dict[str, str]:
    """Original (LDM) key -> diffusers parameter, for a built `ControlNetModel` (a pure renaming)."""
    keys = list(network.state_dict())
    return {ldm: key for key, ldm in ldm_names(keys, int(network.config.layers_per_block)).items()}


def _layers_per_block(diffusers_keys: Mapping[str, Any]) -> int:
    return count_indices(diffusers_keys, r"down_blocks\.0\.resnets\.(\d+)\.")


# --- configs -------------------------------------------------------------------------------------------------


def detect(original: Mapping[str, Any]) -> tuple[families.Family, dict[str, Any]]:
    """(family, diffusers `ControlNetModel` config) of a ControlNet in the original layout (bare keys),
    from its shapes. Raises ModelDetectionError / WeightLoadError for what no SD family or diffusers fits."""
    in_channels = shape(original, unet.MARKER)[1]
    unet_config = unet.detect_unet_config(original, "", out_channels=in_channels)
    found = families.detect_unet_family(unet_config, original, "")
    family = families.get(found)
    try:
        unet_diffusers = unet.unet_diffusers_config(unet_config, family)
    except ValueError as error:
        raise WeightLoadError(f"this ControlNet's UNet encoder: {error}")
    hint_channels = [shape(original, f"input_hint_block.{index}.weight")[0]
                     for index in range(0, 7 * _HINT_BLOCK_STEP, 2 * _HINT_BLOCK_STEP)]
    config = {key: unet_diffusers[key] for key in (
        "in_channels", "down_block_types", "block_out_channels", "layers_per_block", "cross_attention_dim",
        "attention_head_dim", "use_linear_projection", "transformer_layers_per_block", "upcast_attention",
        "class_embed_type", "addition_embed_type", "addition_time_embed_dim",
        "projection_class_embeddings_input_dim")}
    config["conditioning_channels"] = shape(original, "input_hint_block.0.weight")[1]
    config["conditioning_embedding_out_channels"] = tuple(hint_channels)
    return family, config


def _original_names(state_dict: Mapping[str, Any]) -> dict[str, Any]:
    """A diffusers-layout ControlNet's tensors under their original names (for detection)."""
    names = ldm_names(list(state_dict), _layers_per_block(state_dict))
    return {names[key]: value for key, value in state_dict.items() if key in names}


# --- loading -------------------------------------------------------------------------------------------------


def load(control: formats.ControlFormat, source_name: str, dtype: torch.dtype | None) -> ControlNet:
    """The CONTROL_NET of an SD-family ControlNet (`sd_original`, `sd_diffusers` or `sd_union`)."""
    from diffusers import ControlNetModel, ControlNetUnionModel

    state_dict = control.state_dict
    if control.kind == "sd_original":
        family, config = detect(state_dict)
        names = ldm_names(_meta_keys(ControlNetModel, config), config["layers_per_block"])
        converted = {key: state_dict.get(ldm) for key, ldm in names.items()}
        network = load_checked(ControlNetModel, config, state_dict, converted, f"{family.name} ControlNet",
                               source_name, dtype)
        wrapper: torch.nn.Module = ControlNetwork(network)
    else:
        family, config = detect(_original_names(state_dict))
        if control.kind == "sd_union":
            config["num_control_type"] = shape(state_dict, "task_embedding")[0]
            network = load_checked(ControlNetUnionModel, config, state_dict, dict(state_dict),
                                   f"{family.name} ControlNet-union", source_name, dtype)
            wrapper = UnionControlNetwork(network)
        else:
            network = load_checked(ControlNetModel, config, state_dict, dict(state_dict),
                                   f"{family.name} ControlNet", source_name, dtype)
            wrapper = ControlNetwork(network)
    result = ControlNet(wrapper, extra_conds=["y", "text_embeds", "time_ids"])
    result.made_for = formats.family_group(family.name)
    return result


def _meta_keys(model_class: type, config: dict[str, Any]) -> list[str]:
    with torch.device("meta"):
        return list(model_class(**config).state_dict())


def diffusers_state_dict_to_original(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A diffusers-layout ControlNet's tensors under lllyasviel's names (test files, export)."""
    return _original_names(state_dict)


# --- the networks --------------------------------------------------------------------------------------------


class ControlNetwork(torch.nn.Module):
    """ComfyUI's control-model interface over a diffusers `ControlNetModel`: `forward(x, hint, timesteps,
    context, text_embeds=None, time_ids=None, y=None)` -> {"middle": [residual], "output": [one per input
    block]}. x: the model input [B, 4, h, w]; hint: [B, 3, 8h, 8w] in 0..1; timesteps: the UNet's [B];
    text_embeds / time_ids: SDXL's pooled vector and size ids; y: a class-embedding input (SD2.x unCLIP)."""

    def __init__(self, network: torch.nn.Module):
        super().__init__()
        self.network = network

    @property
    def dtype(self) -> torch.dtype:
        return next(self.network.parameters()).dtype

    def added_cond_kwargs(self, text_embeds: torch.Tensor | None, time_ids: torch.Tensor | None) -> dict | None:
        if self.network.config.addition_embed_type is None:
            return None
        return {"text_embeds": text_embeds, "time_ids": time_ids}

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, list]:
        # The UNet's CPU convolution choice (oneDNN only for large latents: slower on small feature maps), which
        # sampling sets around the UNet alone; the ControlNet runs before it.
        x = kwargs.get("x", args[0] if args else None)
        with comfy.cpu_speedups.onednn_convolutions(comfy.cpu_speedups.use_onednn_convolutions(x)):
            return super().__call__(*args, **kwargs)

    def forward(self, x: torch.Tensor, hint: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor,
                text_embeds: torch.Tensor | None = None, time_ids: torch.Tensor | None = None,
                y: torch.Tensor | None = None, **_: Any) -> dict[str, list]:
        down, middle = self.network(x, timesteps, encoder_hidden_states=context, controlnet_cond=hint,
                                    class_labels=y if self.network.config.class_embed_type else None,
                                    added_cond_kwargs=self.added_cond_kwargs(text_embeds, time_ids),
                                    return_dict=False)
        return {"middle": [middle], "output": list(down)}


class UnionControlNetwork(ControlNetwork):
    """xinsir's ControlNet-union (promax) with ComfyUI's forward: the control types set by
    SetUnionControlNetType (`control_type`, a list of type numbers; empty for "auto") are embedded as one-hot
    sinusoids and added to the time embedding; with a type set, the hint's features get the type's task
    embedding, go through the union transformer and come back as a per-channel offset."""

    def forward(self, x: torch.Tensor, hint: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor,
                text_embeds: torch.Tensor | None = None, time_ids: torch.Tensor | None = None,
                y: torch.Tensor | None = None, control_type: list[int] | None = None, **_: Any) -> dict[str, list]:
        net = self.network
        control_type = list(control_type or [])
        types = int(net.config.num_control_type)
        if any(value >= types for value in control_type):
            name = {number: name for name, number in UNION_CONTROLNET_TYPES.items()}.get(max(control_type))
            raise ValueError(f"Control type {name} ({max(control_type)}) is out of range for the {types} control "
                             "types this ControlNet-union supports; the ProMax union model has all of them.")
        timesteps = timesteps.expand(x.shape[0])
        emb = net.time_embedding(net.time_proj(timesteps).to(x.dtype))
        one_hot = torch.zeros((types,), device=x.device)
        one_hot[control_type] = 1.0
        type_embedding = net.control_type_proj(one_hot.flatten()).to(emb.dtype).reshape(1, -1)
        emb = emb + net.control_add_embedding(type_embedding)
        if control_type:
            guided_hint = self._fused_hint(hint, control_type)
        else:
            guided_hint = net.controlnet_cond_embedding(hint)
        if net.config.addition_embed_type == "text_time":
            time_embeds = net.add_time_proj(time_ids.flatten()).reshape((text_embeds.shape[0], -1))
            emb = emb + net.add_embedding(torch.cat([text_embeds, time_embeds], dim=-1).to(emb.dtype))
        sample = net.conv_in(x) + guided_hint
        residuals: tuple[torch.Tensor, ...] = (sample,)
        for block in net.down_blocks:
            if getattr(block, "has_cross_attention", False):
                sample, block_residuals = block(hidden_states=sample, temb=emb, encoder_hidden_states=context)
            else:
                sample, block_residuals = block(hidden_states=sample, temb=emb)
            residuals += block_residuals
        sample = net.mid_block(sample, emb, encoder_hidden_states=context)
        output = [zero_conv(residual) for residual, zero_conv in zip(residuals, net.controlnet_down_blocks,
                                                                     strict=True)]
        return {"middle": [net.controlnet_mid_block(sample)], "output": output}

    def _fused_hint(self, hint: torch.Tensor, control_type: list[int]) -> torch.Tensor:
        """ComfyUI's union merge: the first condition's pooled features plus its task embedding, through the
        union transformer, projected to a per-channel offset added to each condition's features."""
        net = self.network
        hints = hint.unsqueeze(0) if hint.ndim < 5 else hint
        features = net.controlnet_cond_embedding(hints[0])
        tokens = torch.mean(features, dim=(2, 3))
        tokens = tokens + net.task_embedding[control_type[0]].to(tokens)
        sequence = tokens.unsqueeze(1)  # [B, conditions (one), channels]
        for layer in net.transformer_layes:
            sequence = _union_transformer_layer(layer, sequence)
        fused = None
        for index in range(len(control_type)):
            offset = net.spatial_ch_projs(sequence[:, index]).unsqueeze(-1).unsqueeze(-1)
            part = features + offset
            fused = part if fused is None else fused + part
        return fused


def _union_transformer_layer(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One of the union's transformer layers (pre-norm attention and MLP), attending over the conditions of
    each batch entry (dimension 1)."""
    attention = layer.attn
    heads = attention.num_heads
    normed = layer.ln_1(x)
    qkv = torch.nn.functional.linear(normed, attention.in_proj_weight, attention.in_proj_bias)
    batch, length, width = normed.shape
    q, k, v = (part.reshape(batch, length, heads, width // heads).transpose(1, 2)
               for part in qkv.split(width, dim=2))
    attended = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    attended = attended.transpose(1, 2).reshape(batch, length, width)
    x = x + attention.out_proj(attended)
    return x + layer.mlp(layer.ln_2(x))


# --- Control-LoRA ------------------------------------------------------------------------------------------


class ControlLora(ControlNet):
    """Stability's Control-LoRA: a ControlNet built at sampling time from the sampled model's own UNet encoder,
    with the file's low-rank deltas (`<key>.up`, `<key>.down`: the weight becomes `weight + up @ down`) and
    full tensors (the hint encoder, zero convolutions, norms) put on top. Its keys are the UNet's LDM names."""

    def __init__(self, control_weights: dict[str, torch.Tensor], global_average_pooling: bool = False,
                 model_options: dict | None = None):
        super().__init__(None, global_average_pooling=global_average_pooling, extra_conds=["y", "text_embeds",
                                                                                             "time_ids"])
        self.control_weights = control_weights

    def pre_run(self, model, percent_to_timestep_function):
        super().pre_run(model, percent_to_timestep_function)
        self.control_model = build_control_lora(self.control_weights, model.diffusion_model)

    def copy(self) -> ControlLora:
        copied = ControlLora(self.control_weights, global_average_pooling=self.global_average_pooling)
        self.copy_to(copied)
        return copied

    def cleanup(self) -> None:
        self.control_model = None
        super().cleanup()

    def get_models(self) -> list[Any]:
        return super(ControlNet, self).get_models()

    def inference_memory_requirements(self, dtype: torch.dtype) -> int:
        parameters = sum(value.numel() for value in self.control_weights.values())
        return parameters * dtype.itemsize + super().inference_memory_requirements(dtype)


_LORA_SUFFIXES = (".up", ".down")


def build_control_lora(control_weights: Mapping[str, torch.Tensor], unet_model: torch.nn.Module) -> ControlNetwork:
    """The ControlNet a Control-LoRA makes on `unet_model` (a diffusers UNet2DConditionModel): diffusers'
    `ControlNetModel.from_unet` copies the encoder, then every `.up`/`.down` pair is merged into its weight and
    every full tensor replaces the copied one."""
    from diffusers import ControlNetModel

    hint_channels = tuple(shape(control_weights, f"input_hint_block.{index}.weight")[0]
                          for index in range(0, 7 * _HINT_BLOCK_STEP, 2 * _HINT_BLOCK_STEP))
    dtype = next(unet_model.parameters()).dtype
    device = next(unet_model.parameters()).device
    with torch.inference_mode(False):
        network = ControlNetModel.from_unet(
            unet_model, conditioning_embedding_out_channels=hint_channels,
            conditioning_channels=shape(control_weights, "input_hint_block.0.weight")[1]).to(device=device,
                                                                                              dtype=dtype)
        parameters = dict(network.named_parameters())
        table = key_table(network)
        pending: dict[str, dict[str, torch.Tensor]] = {}
        with torch.no_grad():
            for key, value in control_weights.items():
                if key == formats.CONTROL_LORA_MARKER or "__" in key:
                    continue
                if key.endswith(_LORA_SUFFIXES):
                    base, _, part = key.rpartition(".")
                    pending.setdefault(base, {})[part] = value
                    continue
                if not key.endswith((".weight", ".bias")):
                    continue
                name = table.get(key)
                if name is None:
                    raise WeightLoadError(f"Control-LoRA: {key!r} is no weight of the ControlNet this model makes "
                                          "(was it made for another model family?)")
                parameters[name].copy_(value.to(parameters[name]))
            for base, pair in pending.items():
                name = table.get(base + ".weight")
                if name is None or set(pair) != {"up", "down"}:
                    raise WeightLoadError(f"Control-LoRA: {base!r} has no matching weight (or lacks its up/down pair)")
                weight = parameters[name]
                up, down = pair["up"].to(weight), pair["down"].to(weight)
                weight.copy_(weight + torch.mm(up.flatten(1), down.flatten(1)).reshape(weight.shape))
    return ControlNetwork(network.eval())


__all__ = ["ControlLora", "ControlNetwork", "UNION_CONTROLNET_TYPES", "UnionControlNetwork", "build_control_lora",
           "detect", "diffusers_state_dict_to_original", "key_table", "ldm_names", "load"]


