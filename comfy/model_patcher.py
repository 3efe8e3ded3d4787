"""`ModelPatcher`: a loaded model plus the changes one graph branch wants on it (LoRA weight deltas, sampler
hooks), without copying the weights.

Clones share the underlying model; each clone carries its own patches and `model_options`. Patches are written
into the weights only when that clone is loaded for sampling (`comfy.model_management.load_models_gpu`), and
the original weights are restored before another clone with other patches takes the model.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

import comfy.float

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
        # The dtype ComfyUI would hold this model's float32 weights in, when it differs: a patched weight is
        # rounded to it (and kept in float32), so a LoRA gives ComfyUI's numbers (text encoders: fp16).
        self.weight_rounding_dtype: torch.dtype | None = None

    # -- identity ---------------------------------------------------------------------------------------------

    def clone(self) -> ModelPatcher:
        cloned = ModelPatcher(self.model, self.load_device, self.offload_device, self.size,
                              self.weight_inplace_update)
        cloned.patches = {key: list(value) for key, value in self.patches.items()}
        cloned.object_patches = dict(self.object_patches)
        cloned.model_options = _merge_options(self.model_options)
        cloned.weight_rounding_dtype = self.weight_rounding_dtype
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
        """`weight` with this clone's patches for `key` applied, in float32 and cast back as ComfyUI writes a
        patched weight (fp8 by its seeded stochastic rounding, `comfy.float`)."""
        return comfy.float.stochastic_rounding(self._add_patches(key, weight.float()), weight.dtype,
                                               comfy.float.string_to_seed(key))

    def _add_patches(self, key: str, value: torch.Tensor, rows: slice | None = None) -> torch.Tensor:
        """`value` (float32, the parameter's rows `rows`) plus the patches for `key`, with ComfyUI's arithmetic:
        `value *= strength_model`, then `value += (strength * alpha / rank) * (up @ down)`."""
        for strength, delta, strength_model in self.patches.get(key, ()):
            if strength_model != 1.0:
                value = value * strength_model
            update = _delta_tensor(delta, strength, self._parameter_shape(key)).to(value.device, torch.float32)
            value = value + (update if rows is None else update[rows]).reshape(value.shape)
        return value

    def _parameter_shape(self, key: str) -> torch.Size:
        parameters = dict(self.model.named_parameters())
        parameters.update(dict(self.model.named_buffers()))
        return parameters[key].shape

    def patch_model(self, device: torch.device | None = None) -> dict[str, Any]:
        """Write the patches into the weights (keeping the originals) and move the model to `device`.

        A weight stored in fp8 is patched as ComfyUI patches it: in float32 (times the layer's `scale_weight` in a
        `scaled_fp8` model), then stochastically rounded back with a seed from ComfyUI's name for the weight. When
        Kiln splits one of the file's weights over several parameters (FLUX.1's fused q/k/v), the model's
        `weight_units` give the file's weight, which is patched and rounded whole, as ComfyUI does.
        """
        backup: dict[str, Any] = {}
        for name, obj in self.object_patches.items():
            backup[f"object:{name}"] = getattr(self.model, name)
            setattr(self.model, name, obj)
        if self.patches:
            parameters = dict(self.model.named_parameters())
            parameters.update(dict(self.model.named_buffers()))
            with torch.no_grad():
                for unit in self._weight_units(parameters):
                    for name, _, _ in unit.pieces:
                        backup.setdefault(name, parameters[name].detach().clone())
                    self._patch_unit(unit, parameters)
        if device is not None:
            self.model.to(device)
        return backup

    def _weight_units(self, parameters: dict[str, torch.Tensor]) -> list[WeightUnit]:
        """The weights to patch, each as ComfyUI names and rounds it: the model's own units for fused fp8
        weights (`BaseModel.weight_units`), else one unit per patched parameter."""
        keys = [key for key in self.patches if key in parameters]
        fp8 = [key for key in keys if parameters[key].dtype in comfy.float.FP8_FORMATS]
        units: list[WeightUnit] = []
        if fp8 and hasattr(self.model, "weight_units"):
            units = self.model.weight_units(fp8)
        covered = {name for unit in units for name, _, _ in unit.pieces}
        for key in keys:
            if key not in covered:
                rows = parameters[key].shape[0] if parameters[key].ndim else 1
                units.append(WeightUnit(key, tuple(parameters[key].shape), ((key, 0, rows),)))
        return units

    def _patch_unit(self, unit: WeightUnit, parameters: dict[str, torch.Tensor]) -> None:
        first = parameters[unit.pieces[0][0]]
        stored = first.dtype
        module = self._owning_module(unit.pieces[0][0])
        scale = getattr(module, "scale_weight", None) if stored in comfy.float.FP8_FORMATS else None
        parts = []
        for name, start, stop in unit.pieces:
            part = parameters[name].detach()
            whole = start == 0 and stop == (part.shape[0] if part.ndim else 1)
            value = part.float() if whole else part[start:stop].float()
            if scale is not None:
                value = value * scale.to(value.device, torch.float32)
            parts.append(self._add_patches(name, value, None if whole else slice(start, stop)))
        value = parts[0] if len(parts) == 1 else torch.cat([part.reshape(part.shape[0], -1) for part in parts])
        if scale is not None:
            value = value / scale.to(value.device, torch.float32)
        rounding = self.weight_rounding_dtype if stored == torch.float32 and self.weight_rounding_dtype else stored
        rounded = comfy.float.stochastic_rounding(value.reshape(unit.shape), rounding,
                                                  comfy.float.string_to_seed(unit.comfy_key)).to(stored)
        rounded = rounded.reshape(rounded.shape[0] if rounded.ndim else 1, -1)
        row = 0
        for name, start, stop in unit.pieces:
            target = parameters[name]
            count = stop - start
            piece = rounded[row:row + count]
            row += count
            if target.ndim == 0:
                target.copy_(piece.reshape(()))
            else:
                target[start:stop].copy_(piece.reshape(target[start:stop].shape))

    def _owning_module(self, name: str) -> torch.nn.Module:
        module_name = name.rpartition(".")[0]
        return self.model.get_submodule(module_name) if module_name else self.model

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


def _delta_tensor(delta: Any, strength: float, shape: torch.Size) -> torch.Tensor:
    """`strength` times a full delta (a tensor) or a low-rank `(up, down, alpha)` triple (alpha None means rank),
    as ComfyUI computes it: `(strength * alpha / rank) * (up @ down)` in float32."""
    if isinstance(delta, torch.Tensor):
        return strength * delta.float().reshape(shape)
    up, down, alpha = delta
    scale = (alpha / down.shape[0]) if alpha is not None else 1.0
    product = torch.mm(up.float().flatten(1), down.float().flatten(1))
    return ((strength * scale) * product).reshape(shape)


@dataclass(frozen=True)
class WeightUnit:
    """One weight as ComfyUI names, patches and rounds it: `comfy_key` (its seed for fp8 rounding), its shape,
    and the (parameter, first row, end row) pieces of Kiln's model it is made of, in row order."""

    comfy_key: str
    shape: tuple[int, ...]
    pieces: tuple[tuple[str, int, int], ...]
