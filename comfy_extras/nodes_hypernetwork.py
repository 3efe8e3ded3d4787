"""HypernetworkLoader: apply an A1111-style hypernetwork (models/hypernetworks) to a UNet model.

A hypernetwork file maps a feature width (e.g. 320, 640, 1280, 768) to two small MLPs; in every transformer
block's self- and cross-attention whose key input has that width, the key input becomes k + mlp0(k)·strength and
the value input v + mlp1(v)·strength (the query is untouched). ComfyUI installs this as attn1/attn2 patches;
Kiln's UNet (diffusers) takes it as a UNet function wrapper that swaps in wrapped key/value projections for the
duration of each model call.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

import torch

import comfy.utils
import folder_paths

ACTIVATIONS: dict[str, type[torch.nn.Module]] = {
    "linear": torch.nn.Identity,
    "relu": torch.nn.ReLU,
    "leakyrelu": torch.nn.LeakyReLU,
    "elu": torch.nn.ELU,
    "swish": torch.nn.Hardswish,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "softsign": torch.nn.Softsign,
    "mish": torch.nn.Mish,
}


def _mlp(weights: dict[str, torch.Tensor], activation: str, layer_norm: bool, dropout: bool,
         activate_output: bool, last_layer_dropout: bool) -> torch.nn.Sequential:
    """One hypernetwork MLP from its weights (linear layers in key order, each optionally followed by the
    activation, a LayerNorm whose weights come next, and dropout)."""
    names = [key[:-len(".weight")] for key in weights if key.endswith(".weight")]
    layers: list[torch.nn.Module] = []
    index = 0
    while index < len(names):
        last, penultimate = index == len(names) - 1, index == len(names) - 2
        weight, bias = weights[f"{names[index]}.weight"], weights[f"{names[index]}.bias"]
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0])
        linear.load_state_dict({"weight": weight, "bias": bias})
        layers.append(linear)
        if activation != "linear" and (not last or activate_output):
            layers.append(ACTIVATIONS[activation]())
        if layer_norm:
            index += 1
            norm_weight, norm_bias = weights[f"{names[index]}.weight"], weights[f"{names[index]}.bias"]
            norm = torch.nn.LayerNorm(norm_weight.shape[0])
            norm.load_state_dict({"weight": norm_weight, "bias": norm_bias})
            layers.append(norm)
        if dropout and not last and (not penultimate or last_layer_dropout):
            layers.append(torch.nn.Dropout(p=0.3))
        index += 1
    return torch.nn.Sequential(*layers).eval()  # eval: no dropout at inference


class HypernetworkPatch:
    """{feature width: (key MLP, value MLP)} and a strength; `__call__(q, k, v, extra_options)` is ComfyUI's
    attention-patch form."""

    def __init__(self, hypernet: dict[int, torch.nn.ModuleList], strength: float):
        self.hypernet = hypernet
        self.strength = strength

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, extra_options: Any = None):
        mlps = self.hypernet.get(k.shape[-1])
        if mlps is not None:
            k = k + mlps[0](k) * self.strength
            v = v + mlps[1](v) * self.strength
        return q, k, v

    def to(self, device: torch.device | str) -> HypernetworkPatch:
        self.hypernet = {width: mlps.to(device) for width, mlps in self.hypernet.items()}
        return self


def load_hypernetwork_patch(path: str, strength: float) -> HypernetworkPatch | None:
    """The patch of a hypernetwork file; None (logged) for an activation Kiln does not know."""
    state_dict = comfy.utils.load_torch_file(path, safe_load=True)
    activation = state_dict.get("activation_func", "linear")
    layer_norm = state_dict.get("is_layer_norm", False)
    dropout = state_dict.get("use_dropout", False)
    activate_output = state_dict.get("activate_output", False)
    last_layer_dropout = state_dict.get("last_layer_dropout", False)
    if activation not in ACTIVATIONS:
        logging.error("Unsupported Hypernetwork format, if you report it I might implement it. %s   %s %s %s %s %s",
                      path, activation, layer_norm, dropout, activate_output, last_layer_dropout)
        return None
    hypernet = {}
    for key, pair in state_dict.items():
        try:
            width = int(key)
        except (TypeError, ValueError):
            continue  # settings, names and other metadata
        hypernet[width] = torch.nn.ModuleList(
            _mlp(pair[index], activation, layer_norm, dropout, activate_output, last_layer_dropout)
            for index in (0, 1))
    return HypernetworkPatch(hypernet, strength)


class _PatchedProjection(torch.nn.Module):
    """A key or value projection whose input first goes through a hypernetwork MLP (x + mlp(x)·strength)."""

    def __init__(self, projection: torch.nn.Module, mlp: torch.nn.Module, strength: float):
        super().__init__()
        self.projection = projection
        self.mlp = mlp
        self.strength = strength

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(x + self.mlp(x) * self.strength)


@contextlib.contextmanager
def hypernetwork_installed(network: torch.nn.Module, patch: HypernetworkPatch) -> Iterator[None]:
    """Wrap the key/value projections of every transformer block's attn1 and attn2 whose input width the
    hypernetwork has; restored on exit."""
    from diffusers.models.attention import BasicTransformerBlock  # also the blocks comfy.diffusers_attention mixes

    swapped: list[tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module]] = []
    try:
        for block in network.modules():
            if not isinstance(block, BasicTransformerBlock):
                continue
            for attention in (getattr(block, "attn1", None), getattr(block, "attn2", None)):
                if attention is None:
                    continue
                mlps = patch.hypernet.get(attention.to_k.in_features)
                if mlps is None:
                    continue
                swapped.append((attention, attention.to_k, attention.to_v))
                attention.to_k = _PatchedProjection(attention.to_k, mlps[0], patch.strength)
                attention.to_v = _PatchedProjection(attention.to_v, mlps[1], patch.strength)
        yield
    finally:
        for attention, key_projection, value_projection in swapped:
            attention.to_k, attention.to_v = key_projection, value_projection


def hypernetwork_wrapper(patch: HypernetworkPatch, inner: Callable | None) -> Callable:
    """A `model_function_wrapper` that runs the model (or the wrapper it replaces) with the patch installed."""

    def wrapper(apply_model: Callable, args: dict) -> torch.Tensor:
        with hypernetwork_installed(apply_model.__self__.diffusion_model, patch):
            if inner is not None:
                return inner(apply_model, args)
            return apply_model(args["input"], args["timestep"], **args["c"])

    return wrapper


class HypernetworkLoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "hypernetwork_name": (folder_paths.get_filename_list("hypernetworks"),),
            "strength": ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0, "step": 0.01}),
        }}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "load_hypernetwork"
    CATEGORY = "loaders"

    def load_hypernetwork(self, model, hypernetwork_name: str, strength: float) -> tuple:
        path = folder_paths.get_full_path_or_raise("hypernetworks", hypernetwork_name)
        patched = model.clone()
        patch = load_hypernetwork_patch(path, strength)
        if patch is not None:
            inner = patched.model_options.get("model_function_wrapper")
            patched.set_model_unet_function_wrapper(hypernetwork_wrapper(patch, inner))
        return (patched,)


NODE_CLASS_MAPPINGS = {"HypernetworkLoader": HypernetworkLoader}
