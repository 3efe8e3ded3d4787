"""The original key layouts of the flow transformers, as `{key: shape}` tables computed from a detected config.

FLUX.1 in Black Forest Labs' layout (`double_blocks.*`, `single_blocks.*`, ...) and SD3's MMDiT in Stability's
(`joint_blocks.*`, `x_embedder.*`, ...), bare keys. The loaders compare a file with the table of the config its
own shapes imply, so a broken file is reported in the file's own key names with the shapes expected; the tests
write their reduced models and the full-size `meta` layouts from the same tables.

Configs are `comfy.model_detection.detect_flux_config` / `detect_mmdit_config` results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Layout = dict[str, tuple[int, ...]]
TIMESTEP_EMBEDDING_WIDTH = 256  # both families embed timesteps (and Flux dev its guidance) with 256 sinusoids
MMDIT_QK_NORM_WIDTH = 64  # SD3.5's RMS q/k norms act per 64-wide head


def _linear(layout: Layout, name: str, out_features: int, in_features: int) -> None:
    layout[f"{name}.weight"] = (out_features, in_features)
    layout[f"{name}.bias"] = (out_features,)


def _two_layer_embedder(layout: Layout, name: str, in_features: int, hidden: int, layers: tuple[str, str]) -> None:
    _linear(layout, f"{name}.{layers[0]}", hidden, in_features)
    _linear(layout, f"{name}.{layers[1]}", hidden, hidden)


def flux_layout(config: Mapping[str, Any]) -> Layout:
    """FLUX.1's keys and shapes for `config` (hidden_size, head_dim, mlp_ratio, depth, depth_single_blocks,
    context_in_dim, vec_in_dim, in_channels, out_channels, patch_size, guidance_embed)."""
    hidden = config["hidden_size"]
    mlp = int(hidden * config["mlp_ratio"])
    patch_area = config["patch_size"] ** 2
    layout: Layout = {}
    _linear(layout, "img_in", hidden, config["in_channels"] * patch_area)
    _linear(layout, "txt_in", hidden, config["context_in_dim"])
    _two_layer_embedder(layout, "time_in", TIMESTEP_EMBEDDING_WIDTH, hidden, ("in_layer", "out_layer"))
    _two_layer_embedder(layout, "vector_in", config["vec_in_dim"], hidden, ("in_layer", "out_layer"))
    if config["guidance_embed"]:
        _two_layer_embedder(layout, "guidance_in", TIMESTEP_EMBEDDING_WIDTH, hidden, ("in_layer", "out_layer"))
    for index in range(config["depth"]):
        for stream in ("img", "txt"):
            block = f"double_blocks.{index}.{stream}"
            layout[f"{block}_attn.norm.key_norm.scale"] = (config["head_dim"],)
            layout[f"{block}_attn.norm.query_norm.scale"] = (config["head_dim"],)
            _linear(layout, f"{block}_attn.proj", hidden, hidden)
            _linear(layout, f"{block}_attn.qkv", 3 * hidden, hidden)
            _linear(layout, f"{block}_mlp.0", mlp, hidden)
            _linear(layout, f"{block}_mlp.2", hidden, mlp)
            _linear(layout, f"{block}_mod.lin", 6 * hidden, hidden)
    for index in range(config["depth_single_blocks"]):
        block = f"single_blocks.{index}"
        _linear(layout, f"{block}.linear1", 3 * hidden + mlp, hidden)
        _linear(layout, f"{block}.linear2", hidden, hidden + mlp)
        _linear(layout, f"{block}.modulation.lin", 3 * hidden, hidden)
        layout[f"{block}.norm.key_norm.scale"] = (config["head_dim"],)
        layout[f"{block}.norm.query_norm.scale"] = (config["head_dim"],)
    _linear(layout, "final_layer.adaLN_modulation.1", 2 * hidden, hidden)
    _linear(layout, "final_layer.linear", config["out_channels"] * patch_area, hidden)
    return layout


def mmdit_layout(config: Mapping[str, Any]) -> Layout:
    """SD3's MMDiT keys and shapes for `config` (hidden_size, num_layers, patch_size, in/out_channels,
    pos_embed_max_size, adm_in_channels, context_in_dim, mlp_ratio, qk_norm, x_block_self_attn_layers).

    The last joint block's context branch is pre-only (q/k/v and a 2-way modulation, no projection or MLP);
    an MMDiT-X block (SD3.5 medium) has a second image attention `attn2` and a 9-way modulation.
    """
    hidden, patch = config["hidden_size"], config["patch_size"]
    mlp = int(hidden * config["mlp_ratio"])
    second_attention = set(config["x_block_self_attn_layers"])
    layout: Layout = {}
    _linear(layout, "context_embedder", hidden, config["context_in_dim"])
    layout["x_embedder.proj.weight"] = (hidden, config["in_channels"], patch, patch)
    layout["x_embedder.proj.bias"] = (hidden,)
    if config["pos_embed_max_size"]:
        layout["pos_embed"] = (1, config["pos_embed_max_size"] ** 2, hidden)
    _two_layer_embedder(layout, "t_embedder.mlp", TIMESTEP_EMBEDDING_WIDTH, hidden, ("0", "2"))
    if config["adm_in_channels"] is not None:
        _two_layer_embedder(layout, "y_embedder.mlp", config["adm_in_channels"], hidden, ("0", "2"))
    for index in range(config["num_layers"]):
        for branch in ("x_block", "context_block"):
            block = f"joint_blocks.{index}.{branch}"
            pre_only = branch == "context_block" and index == config["num_layers"] - 1
            dual = branch == "x_block" and index in second_attention
            _linear(layout, f"{block}.adaLN_modulation.1", (2 if pre_only else 9 if dual else 6) * hidden, hidden)
            attentions = ("attn", "attn2") if dual else ("attn",)
            for attention in attentions:
                _linear(layout, f"{block}.{attention}.qkv", 3 * hidden, hidden)
                if config["qk_norm"]:
                    layout[f"{block}.{attention}.ln_q.weight"] = (MMDIT_QK_NORM_WIDTH,)
                    layout[f"{block}.{attention}.ln_k.weight"] = (MMDIT_QK_NORM_WIDTH,)
                if not pre_only:
                    _linear(layout, f"{block}.{attention}.proj", hidden, hidden)
            if not pre_only:
                _linear(layout, f"{block}.mlp.fc1", mlp, hidden)
                _linear(layout, f"{block}.mlp.fc2", hidden, mlp)
    _linear(layout, "final_layer.adaLN_modulation.1", 2 * hidden, hidden)
    _linear(layout, "final_layer.linear", patch * patch * config["out_channels"], hidden)
    return layout


def layout_problems(state_dict: Mapping[str, Any], layout: Layout) -> tuple[list[str], list[str], list[str]]:
    """(missing, unexpected, wrong_shapes) of bare-key `state_dict` against `layout`, each in sorted key order;
    missing and wrong-shape entries state the expected shape."""
    missing = [f"{key} {list(shape)}" for key, shape in sorted(layout.items()) if key not in state_dict]
    unexpected = sorted(key for key in state_dict if key not in layout)
    wrong_shapes = [f"{key}: file {list(state_dict[key].shape)}, expected {list(shape)}"
                    for key, shape in sorted(layout.items())
                    if key in state_dict and tuple(state_dict[key].shape) != shape]
    return missing, unexpected, wrong_shapes
