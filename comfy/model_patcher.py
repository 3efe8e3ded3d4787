"""`ModelPatcher`: a loaded model plus the changes one graph branch wants on it (LoRA weight deltas, sampler
hooks), without copying the weights.

Clones share the underlying model; each clone carries its own patches and `model_options`. Patches are written
into the weights only when that clone is loaded for sampling (`comfy.model_management.load_models_gpu`), and
the original weights are restored before another clone with other patches takes the model.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch

# A patch adds `strength * delta` (delta shaped like the weight, or a (up, down, alpha) low-rank triple).
Patch = tuple[float, Any, float]


def _merge_options(options: dict) -> dict:
    """A copy of model_options deep enough that a clone's hooks never leak into its parent."""
    copied = dict(options)
    copied["transformer_options"] = copy.copy(options.get("transformer_options", {}))
    for key in ("sampler_pre_cfg_function", "sampler_post_cfg_function"):
        if key in options:
            copied[key] = list(options[key])
    return copied


class ModelPatcher:
    """Wraps a torch model with its load/offload devices, weight patches and sampler options."""

    def __init__(self, model: torch.nn.Module, load_device: torch.device, offload_device: torch.device,
                 size: int = 0, weight_inplace_update: bool = False):
        self.model = model
        self.load_device = load_device
        self.offload_device = offload_device
        self.size = size
        self.weight_inplace_update = weight_inplace_update
        self.patches: dict[str, list[Patch]] = {}
        self.object_patches: dict[str, Any] = {}
        self.model_options: dict[str, Any] = {"transformer_options": {}}
        self.parent: ModelPatcher | None = None

    # -- identity ---------------------------------------------------------------------------------------------

    def clone(self) -> ModelPatcher:
        cloned = ModelPatcher(self.model, self.load_device, self.offload_device, self.size,
                              self.weight_inplace_update)
        cloned.patches = {key: list(value) for key, value in self.patches.items()}
        cloned.object_patches = dict(self.object_patches)
        cloned.model_options = _merge_options(self.model_options)
        cloned.parent = self
        return cloned

    def is_clone(self, other: Any) -> bool:
        return isinstance(other, ModelPatcher) and other.model is self.model

    def model_size(self) -> int:
        if self.size == 0:
            self.size = sum(t.numel() * t.element_size() for t in self.model.state_dict().values())
        return self.size

    def model_dtype(self) -> torch.dtype:
        return next(self.model.parameters()).dtype

    def add_object_patch(self, name: str, obj: Any) -> None:
        """Replace attribute `name` of the model (e.g. "model_sampling") while this clone is loaded."""
        self.object_patches[name] = obj

    def get_model_object(self, name: str) -> Any:
        if name in self.object_patches:
            return self.object_patches[name]
        value: Any = self.model
        for part in name.split("."):
            value = getattr(value, part)
        return value

    # -- sampler hooks ------------------------------------------------------------------------------------------

    def set_model_sampler_cfg_function(self, function: Callable, disable_cfg1_optimization: bool = False) -> None:
        self.model_options["sampler_cfg_function"] = function
        if disable_cfg1_optimization:
            self.model_options["disable_cfg1_optimization"] = True

    def set_model_sampler_post_cfg_function(self, function: Callable,
                                            disable_cfg1_optimization: bool = False) -> None:
        self.model_options.setdefault("sampler_post_cfg_function", []).append(function)
        if disable_cfg1_optimization:
            self.model_options["disable_cfg1_optimization"] = True

    def set_model_sampler_pre_cfg_function(self, function: Callable,
                                           disable_cfg1_optimization: bool = False) -> None:
        self.model_options.setdefault("sampler_pre_cfg_function", []).append(function)
        if disable_cfg1_optimization:
            self.model_options["disable_cfg1_optimization"] = True

    def set_model_unet_function_wrapper(self, function: Callable) -> None:
        self.model_options["model_function_wrapper"] = function

    # -- weight patches -----------------------------------------------------------------------------------------

    def model_state_dict(self, filter_prefix: str | None = None) -> dict[str, torch.Tensor]:
        state = self.model.state_dict()
        if filter_prefix is None:
            return state
        return {key: value for key, value in state.items() if key.startswith(filter_prefix)}

    def add_patches(self, patches: dict[str, Any], strength_patch: float = 1.0,
                    strength_model: float = 1.0) -> list[str]:
        """Add weight deltas by parameter name; returns the names that exist in the model (others are ignored)."""
        known = self.model.state_dict()
        added = []
        for key, delta in patches.items():
            if key in known:
                self.patches.setdefault(key, []).append((strength_patch, delta, strength_model))
                added.append(key)
        return added

    def patched_weight(self, key: str, weight: torch.Tensor) -> torch.Tensor:
        """`weight` with this clone's patches for `key` applied (computed in float32)."""
        result = weight.float()
        for strength, delta, strength_model in self.patches.get(key, ()):
            if strength_model != 1.0:
                result = result * strength_model
            result = result + strength * _delta_tensor(delta, weight.shape).to(result.device, torch.float32)
        return result.to(weight.dtype)

    def patch_model(self, device: torch.device | None = None) -> dict[str, Any]:
        """Write the patches into the weights (keeping the originals) and move the model to `device`."""
        backup: dict[str, Any] = {}
        for name, obj in self.object_patches.items():
            backup[f"object:{name}"] = getattr(self.model, name)
            setattr(self.model, name, obj)
        if self.patches:
            parameters = dict(self.model.named_parameters())
            parameters.update(dict(self.model.named_buffers()))
            with torch.no_grad():
                for key in self.patches:
                    parameter = parameters[key]
                    backup[key] = parameter.detach().clone()
                    parameter.copy_(self.patched_weight(key, parameter.detach()))
        if device is not None:
            self.model.to(device)
        return backup

    def unpatch_model(self, backup: dict[str, Any], device: torch.device | None = None) -> None:
        """Restore the weights `patch_model` replaced, and move the model to `device`."""
        restore_model(self.model, backup, device)


def restore_model(model: torch.nn.Module, backup: dict[str, Any], device: torch.device | None = None) -> None:
    """Put back the weights and attributes a `patch_model` backup holds, and move `model` to `device`."""
    weights = {key: value for key, value in backup.items() if not key.startswith("object:")}
    for key, original in backup.items():
        if key.startswith("object:"):
            setattr(model, key.removeprefix("object:"), original)
    if weights:
        parameters = dict(model.named_parameters())
        parameters.update(dict(model.named_buffers()))
        with torch.no_grad():
            for key, original in weights.items():
                parameters[key].copy_(original.to(parameters[key].device))
    if device is not None:
        model.to(device)


def _delta_tensor(delta: Any, shape: torch.Size) -> torch.Tensor:
    """A full delta from a tensor or a low-rank `(up, down, alpha)` triple (alpha None means rank)."""
    if isinstance(delta, torch.Tensor):
        return delta.reshape(shape)
    up, down, alpha = delta
    rank = down.shape[0]
    scale = (alpha / rank) if alpha is not None else 1.0
    product = up.float().flatten(1) @ down.float().flatten(1)
    return (product * scale).reshape(shape)
