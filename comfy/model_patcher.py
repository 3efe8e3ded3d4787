"""`ModelPatcher`: a loaded model plus the changes one graph branch wants on it (LoRA weight deltas, sampler
hooks), without copying the weights.

Clones share the underlying model; each clone carries its own patches and `model_options`. Patches are written
into the weights only when that clone is loaded for sampling (`comfy.model_management.load_models_gpu`), and
the original weights are restored before another clone with other patches takes the model.

The methods packs override or call keep ComfyUI's names and signatures: `patch_model` / `load` write the patches
through `patch_weight_to_device(key)` (ComfyUI-GGUF's patcher overrides it for its quantised weights),
`unpatch_model` restores `backup`, and the `set_model_*` helpers put attention patches into
`model_options["transformer_options"]` (run by `comfy.diffusers_attention`).
"""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

import comfy.float
import comfy.lora
import comfy.patcher_extension
import comfy.utils
from comfy.float import string_to_seed  # noqa: F401  ComfyUI's public name here

# A patch, as ComfyUI stores it: (strength_patch, delta, strength_model, offset, function). The delta is a tensor
# shaped like the weight or a low-rank (up, down, alpha) triple (`comfy.lora.weight_delta`); `offset`
# (dim, start, size) patches that slice of the weight only; `function` maps the delta before it is added.
Patch = tuple[float, Any, float, Any, Any]

# A weight `patch_weight_to_device` replaced, and whether it was overwritten in place (ComfyUI's record).
BackupEntry = collections.namedtuple("Dimension", ["weight", "inplace_update"])

# The transformer_options patches Kiln's networks run: the transformer-block ones (`comfy.diffusers_attention`)
# and, on the UNet families, the UNet-level ones (`comfy.unet_blocks`).
HONOURED_PATCHES = ("attn1_patch", "attn2_patch", "attn1_output_patch", "attn2_output_patch", "middle_patch",
                    "input_block_patch", "input_block_patch_after_skip", "output_block_patch", "emb_patch")


def create_model_options_clone(orig_model_options: dict) -> dict:
    """A copy of model_options whose nested dicts and lists are copies, so a clone's patches never reach its
    parent."""
    return comfy.patcher_extension.copy_nested_dicts(orig_model_options)


def set_model_options_patch_replace(model_options: dict, patch: Any, name: str, block_name: str, number: int,
                                    transformer_index: int | None = None) -> dict:
    """Register `patch` to replace attention `name` ("attn1"/"attn2") of block (block_name, number[,
    transformer_index]), copying the dicts it changes; returns `model_options`."""
    options = dict(model_options["transformer_options"])
    replacements = dict(options.get("patches_replace", {}))
    by_block = dict(replacements.get(name, {}))
    block = (block_name, number) if transformer_index is None else (block_name, number, transformer_index)
    by_block[block] = patch
    replacements[name] = by_block
    options["patches_replace"] = replacements
    model_options["transformer_options"] = options
    return model_options


def set_model_options_post_cfg_function(model_options: dict, post_cfg_function: Callable,
                                        disable_cfg1_optimization: bool = False) -> dict:
    """Add a function run on the guided prediction after CFG (`sampler_post_cfg_function`)."""
    model_options["sampler_post_cfg_function"] = [*model_options.get("sampler_post_cfg_function", []),
                                                  post_cfg_function]
    if disable_cfg1_optimization:
        model_options["disable_cfg1_optimization"] = True
    return model_options


def set_model_options_pre_cfg_function(model_options: dict, pre_cfg_function: Callable,
                                       disable_cfg1_optimization: bool = False) -> dict:
    """Add a function run on the cond/uncond predictions before CFG (`sampler_pre_cfg_function`)."""
    model_options["sampler_pre_cfg_function"] = [*model_options.get("sampler_pre_cfg_function", []),
                                                 pre_cfg_function]
    if disable_cfg1_optimization:
        model_options["disable_cfg1_optimization"] = True
    return model_options


def _unconverted(weight: torch.Tensor, **_: Any) -> torch.Tensor:
    """The convert function of a weight Kiln stores as it is used (every weight: no quantised layouts)."""
    return weight


def get_key_weight(model: torch.nn.Module, key: str) -> tuple[torch.Tensor, None, None]:
    """(weight, set function, convert function) of parameter `key`: Kiln's layers need no conversion."""
    return comfy.utils.get_attr(model, key), None, None


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
        # What patch_model replaced, restored by unpatch_model: weights by key, attributes by name.
        self.backup: dict[str, BackupEntry] = {}
        self.object_patches_backup: dict[str, Any] = {}
        # Wrappers and callbacks of this patcher ({type: {key: [function]}}, comfy.patcher_extension).
        self.wrappers: dict[str, dict[str, list[Callable]]] = {}
        self.callbacks: dict[str, dict[str, list[Callable]]] = {}
        # The dtype ComfyUI would hold this model's float32 weights in, when it differs: a patched weight is
        # rounded to it (and kept in float32), so a LoRA gives ComfyUI's numbers (text encoders: fp16).
        self.weight_rounding_dtype: torch.dtype | None = None
        # A CLIP's hooks (comfy.hooks.HookGroup, SetClipHooks): applied to its weights while it encodes.
        self.forced_hooks: Any = None

    # -- identity ---------------------------------------------------------------------------------------------

    def clone(self) -> ModelPatcher:
        cloned = ModelPatcher(self.model, self.load_device, self.offload_device, self.size,
                              self.weight_inplace_update)
        cloned.patches = {key: list(value) for key, value in self.patches.items()}
        cloned.object_patches = dict(self.object_patches)
        cloned.model_options = create_model_options_clone(self.model_options)
        cloned.weight_rounding_dtype = self.weight_rounding_dtype
        cloned.forced_hooks = self.forced_hooks.clone() if self.forced_hooks is not None else None
        cloned.wrappers = comfy.patcher_extension.copy_nested_dicts(self.wrappers)
        cloned.callbacks = comfy.patcher_extension.copy_nested_dicts(self.callbacks)
        cloned.parent = self
        for callback in self.get_all_callbacks(comfy.patcher_extension.CallbacksMP.ON_CLONE):
            callback(self, cloned)
        return cloned

    def is_clone(self, other: Any) -> bool:
        return isinstance(other, ModelPatcher) and other.model is self.model

    def model_size(self) -> int:
        if self.size == 0:
            self.size = sum(t.numel() * t.element_size() for t in self.model.state_dict().values())
        return self.size

    def model_dtype(self) -> torch.dtype | None:
        """The dtype the model computes in (its `get_dtype()`, else its first parameter's; None without any)."""
        if hasattr(self.model, "get_dtype"):
            return self.model.get_dtype()
        return next((parameter.dtype for parameter in self.model.parameters()), None)

    def add_object_patch(self, name: str, obj: Any) -> None:
        """Replace attribute `name` of the model (e.g. "model_sampling") while this clone is loaded."""
        self.object_patches[name] = obj

    def set_model_compute_dtype(self, dtype: torch.dtype | None) -> None:
        """Run the network of this clone in `dtype` (its layers cast their stored weights per call); None: in the
        dtype the model was loaded to compute in."""
        if dtype is None:
            self.object_patches.pop("compute_dtype", None)
        else:
            self.add_object_patch("compute_dtype", dtype)

    def get_model_object(self, name: str) -> Any:
        if name in self.object_patches:
            return self.object_patches[name]
        return comfy.utils.get_attr(self.model, name)

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

    def set_model_denoise_mask_function(self, function: Callable) -> None:
        """`function(sigma, denoise_mask, extra_options)` gives the inpainting mask used at each step."""
        self.model_options["denoise_mask_function"] = function

    def set_model_sampler_calc_cond_batch_function(self, function: Callable) -> None:
        self.model_options["sampler_calc_cond_batch_function"] = function

    # -- transformer patches (run by comfy.diffusers_attention) ---------------------------------------------

    def set_model_patch(self, patch: Callable, name: str) -> None:
        """Append `patch` to the transformer patches called `name` ("attn1_patch", "attn2_output_patch", ...)."""
        if name not in HONOURED_PATCHES:
            logging.warning("Model patch %r is kept but not run: Kiln's diffusers networks only run %s.", name,
                            ", ".join(HONOURED_PATCHES))
        options = self.model_options["transformer_options"]
        patches = options.setdefault("patches", {})
        patches[name] = [*patches.get(name, []), patch]

    def set_model_patch_replace(self, patch: Callable, name: str, block_name: str, number: int,
                                transformer_index: int | None = None) -> None:
        """Replace attention `name` ("attn1"/"attn2") of one transformer block with `patch(q, k, v, extra)`."""
        self.model_options = set_model_options_patch_replace(self.model_options, patch, name, block_name, number,
                                                             transformer_index)

    def set_model_attn1_patch(self, patch: Callable) -> None:
        self.set_model_patch(patch, "attn1_patch")

    def set_model_attn2_patch(self, patch: Callable) -> None:
        self.set_model_patch(patch, "attn2_patch")

    def set_model_attn1_replace(self, patch: Callable, block_name: str, number: int,
                                transformer_index: int | None = None) -> None:
        self.set_model_patch_replace(patch, "attn1", block_name, number, transformer_index)

    def set_model_attn2_replace(self, patch: Callable, block_name: str, number: int,
                                transformer_index: int | None = None) -> None:
        self.set_model_patch_replace(patch, "attn2", block_name, number, transformer_index)

    def set_model_attn1_output_patch(self, patch: Callable) -> None:
        self.set_model_patch(patch, "attn1_output_patch")

    def set_model_attn2_output_patch(self, patch: Callable) -> None:
        self.set_model_patch(patch, "attn2_output_patch")

    def set_model_input_block_patch(self, patch: Callable) -> None:
        """`patch(h, transformer_options) -> h` after each UNet input block, before its skip connection is kept."""
        self.set_model_patch(patch, "input_block_patch")

    def set_model_input_block_patch_after_skip(self, patch: Callable) -> None:
        """`patch(h, transformer_options) -> h` after each UNet input block's skip connection is kept."""
        self.set_model_patch(patch, "input_block_patch_after_skip")

    def set_model_output_block_patch(self, patch: Callable) -> None:
        """`patch(h, hsp, transformer_options) -> (h, hsp)` before each UNet output block joins `h` and its skip
        connection `hsp`."""
        self.set_model_patch(patch, "output_block_patch")

    def model_patches_to(self, device: torch.device | torch.dtype) -> None:
        """Move (or cast) the patch objects that can be (those with a `to` method) to `device` / a dtype."""
        options = self.model_options["transformer_options"]
        for patch_list in options.get("patches", {}).values():
            patch_list[:] = [patch.to(device) if hasattr(patch, "to") else patch for patch in patch_list]
        for by_block in options.get("patches_replace", {}).values():
            for block, patch in by_block.items():
                if hasattr(patch, "to"):
                    by_block[block] = patch.to(device)
        wrapper = self.model_options.get("model_function_wrapper")
        if hasattr(wrapper, "to"):
            self.model_options["model_function_wrapper"] = wrapper.to(device)

    # -- wrappers and callbacks (comfy.patcher_extension) --------------------------------------------------

    def add_wrapper_with_key(self, wrapper_type: str, key: str, wrapper: Callable) -> None:
        self.wrappers.setdefault(wrapper_type, {}).setdefault(key, []).append(wrapper)

    def add_wrapper(self, wrapper_type: str, wrapper: Callable) -> None:
        self.add_wrapper_with_key(wrapper_type, None, wrapper)

    def remove_wrappers_with_key(self, wrapper_type: str, key: str) -> None:
        self.wrappers.get(wrapper_type, {}).pop(key, None)

    def get_wrappers(self, wrapper_type: str, key: str) -> list[Callable]:
        return list(self.wrappers.get(wrapper_type, {}).get(key, []))

    def get_all_wrappers(self, wrapper_type: str) -> list[Callable]:
        return [wrapper for wrappers in self.wrappers.get(wrapper_type, {}).values() for wrapper in wrappers]

    def add_callback_with_key(self, call_type: str, key: str, callback: Callable) -> None:
        self.callbacks.setdefault(call_type, {}).setdefault(key, []).append(callback)

    def add_callback(self, call_type: str, callback: Callable) -> None:
        self.add_callback_with_key(call_type, None, callback)

    def remove_callbacks_with_key(self, call_type: str, key: str) -> None:
        self.callbacks.get(call_type, {}).pop(key, None)

    def get_callbacks(self, call_type: str, key: str) -> list[Callable]:
        return list(self.callbacks.get(call_type, {}).get(key, []))

    def get_all_callbacks(self, call_type: str) -> list[Callable]:
        return [callback for callbacks in self.callbacks.get(call_type, {}).values() for callback in callbacks]

    # -- weight patches -----------------------------------------------------------------------------------------

    def model_state_dict(self, filter_prefix: str | None = None) -> dict[str, torch.Tensor]:
        state = self.model.state_dict()
        if filter_prefix is None:
            return state
        return {key: value for key, value in state.items() if key.startswith(filter_prefix)}

    def get_key_patches(self, filter_prefix: str | None = None) -> dict[str, list]:
        """Every weight (under `filter_prefix`) as ComfyUI's merge nodes take it: `[(weight, convert_function),
        *patches]`, the unpatched weight followed by this clone's patches for it. As a patch on another clone
        (`add_patches`) it adds the weight with those patches applied (`comfy.lora.weight_delta`)."""
        patches: dict[str, list] = {}
        for key, weight in self.model_state_dict(filter_prefix).items():
            backup = self.backup.get(key)
            if backup is not None:
                weight = backup.weight
            patches[key] = [(weight, _unconverted), *self.patches.get(key, ())]
        return patches

    def add_patches(self, patches: dict[Any, Any], strength_patch: float = 1.0,
                    strength_model: float = 1.0) -> list[Any]:
        """Add weight deltas by parameter name, or by (name, (dim, start, size)[, function]) to patch a slice;
        returns the keys that exist in the model (others are ignored). A name is Kiln's parameter name (as
        `model_state_dict` and `get_key_patches` give them) or ComfyUI's state-dict key of the weight
        (`diffusion_model.` + the file's key, which packs write out): a patch on a weight Kiln holds as rows of
        other parameters (FLUX.1's fused qkv) is split over them."""
        known = self.model.state_dict()
        added = []
        for patch_key, delta in patches.items():
            key, offset, function = patch_key, None, None
            if not isinstance(patch_key, str):
                key, offset = patch_key[0], patch_key[1]
                function = patch_key[2] if len(patch_key) > 2 else None
            if key in known:
                self.patches.setdefault(key, []).append((strength_patch, delta, strength_model, offset, function))
                added.append(patch_key)
            elif self._add_by_original_key(key, offset, function, delta, strength_patch, strength_model):
                added.append(patch_key)
        return added

    def _add_by_original_key(self, key: str, offset: Any, function: Callable | None, delta: Any,
                             strength_patch: float, strength_model: float) -> bool:
        """`add_patches` for a weight named by ComfyUI's key; False if the model has no such weight (or the
        patch cannot be split over the parameters that hold it, which is logged)."""
        targets = getattr(self.model, "original_key_targets", None)
        target = targets().get(key) if targets is not None else None
        if target is None:
            return False
        shapes = {name: parameter.shape for name, parameter in self._parameters().items()}
        whole_parameters = all(piece.start == 0 and piece.stop == shapes[piece.parameter][0]
                               for piece in target.pieces)
        split = None
        if offset is None and (whole_parameters or strength_model == 1.0):
            split = comfy.lora.split_patch(delta, target, shapes)
        if split is None:
            logging.warning("add_patches: the patch on %s cannot be applied to Kiln's parameters %s (a sliced "
                            "patch, a patch kind or shape that does not split over them); it is ignored", key,
                            ", ".join(piece.parameter for piece in target.pieces))
            return False
        for parameter, piece_delta in split:
            name, piece_offset = (parameter, None) if isinstance(parameter, str) else parameter
            self.patches.setdefault(name, []).append(
                (strength_patch, piece_delta, strength_model, piece_offset, function))
        return True

    def patched_weight(self, key: str, weight: torch.Tensor) -> torch.Tensor:
        """`weight` with this clone's patches for `key` applied, in float32 and cast back as ComfyUI writes a
        patched weight (fp8 by its seeded stochastic rounding, `comfy.float`)."""
        return comfy.float.stochastic_rounding(self._add_patches(key, weight.float()), weight.dtype,
                                               comfy.float.string_to_seed(key))

    def _add_patches(self, key: str, value: torch.Tensor, rows: slice | None = None,
                     shape: torch.Size | None = None) -> torch.Tensor:
        """`value` (float32, the parameter's rows `rows`; the parameter is `shape`d) plus the patches for `key`,
        with ComfyUI's arithmetic (`comfy.lora.add_weight_patches`)."""
        return comfy.lora.add_weight_patches(self.patches.get(key, ()), value,
                                             shape if shape is not None else self._parameter_shape(key), rows)

    def _parameters(self) -> dict[str, torch.Tensor]:
        """The model's parameters and buffers by name."""
        parameters = dict(self.model.named_parameters())
        parameters.update(dict(self.model.named_buffers()))
        return parameters

    def _parameter_shape(self, key: str) -> torch.Size:
        return self._parameters()[key].shape

    def patch_model(self, device_to: torch.device | None = None, lowvram_model_memory: int = 0,
                    load_weights: bool = True, force_patch_weights: bool = False) -> torch.nn.Module:
        """Apply the object patches, write the weight patches into the weights (keeping the originals in
        `backup`) and move the model to `device_to`; returns the model.

        A weight stored in fp8 is patched as ComfyUI patches it: in float32 (times the layer's `scale_weight` in a
        `scaled_fp8` model), then stochastically rounded back with a seed from ComfyUI's name for the weight. When
        Kiln splits one of the file's weights over several parameters (FLUX.1's fused q/k/v), the model's
        `weight_units` give the file's weight, which is patched and rounded whole, as ComfyUI does.
        """
        for name, obj in self.object_patches.items():
            if name not in self.object_patches_backup:
                self.object_patches_backup[name] = comfy.utils.get_attr(self.model, name)
            comfy.utils.set_attr(self.model, name, obj)
        if load_weights:
            self.load(device_to, lowvram_model_memory=lowvram_model_memory, force_patch_weights=force_patch_weights)
        elif device_to is not None:
            self.model.to(device_to)
        return self.model

    def load(self, device_to: torch.device | None = None, lowvram_model_memory: int = 0,
             force_patch_weights: bool = False, full_load: bool = False) -> None:
        """Write every patched weight (each through `patch_weight_to_device`, or whole when several parameters
        hold one of the file's weights) and move the model to `device_to`."""
        if self.patches:
            parameters = self._parameters()
            # looked up once for the whole load, not once per weight (a merge patches every weight)
            self._loading_parameters = parameters
            try:
                with torch.no_grad():
                    for unit in self._weight_units(parameters):
                        if len(unit.pieces) == 1 and unit.pieces[0][0] == unit.comfy_key:
                            self.patch_weight_to_device(unit.comfy_key, device_to)
                            continue
                        for name, _, _ in unit.pieces:
                            self._backup_weight(name, parameters[name])
                        self._patch_unit(unit, parameters)
            finally:
                self._loading_parameters = None
        if device_to is not None:
            self.model.to(device_to)

    def _backup_weight(self, key: str, weight: torch.Tensor) -> None:
        if key not in self.backup:
            self.backup[key] = BackupEntry(weight.detach().clone(), True)

    def patch_weight_to_device(self, key: str, device_to: torch.device | None = None,
                               inplace_update: bool = False) -> None:
        """Write the patches of parameter `key` into it (in place), keeping the original in `backup`."""
        if key not in self.patches:
            return
        parameters = getattr(self, "_loading_parameters", None) or self._parameters()
        weight = parameters[key]
        with torch.no_grad():
            self._backup_weight(key, weight)
            rows = weight.shape[0] if weight.ndim else 1
            self._patch_unit(WeightUnit(key, tuple(weight.shape), ((key, 0, rows),)), parameters)

    def unpatch_model(self, device_to: torch.device | None = None, unpatch_weights: bool = True) -> None:
        """Restore the weights and attributes `patch_model` replaced, and move the model to `device_to`."""
        weights = self.backup if unpatch_weights else {}
        restore_model(self.model, weights, device_to, self.object_patches_backup)
        if unpatch_weights:
            self.backup = {}
        self.object_patches_backup = {}

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
            parts.append(self._add_patches(name, value, None if whole else slice(start, stop),
                                           parameters[name].shape))
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



def restore_model(model: torch.nn.Module, backup: dict[str, Any], device: torch.device | None = None,
                  object_backup: dict[str, Any] | None = None) -> None:
    """Put back the weights of a `backup` (key -> original, or ComfyUI's (weight, inplace_update) record) and the
    attributes of `object_backup`, and move `model` to `device`."""
    for name, original in (object_backup or {}).items():
        comfy.utils.set_attr(model, name, original)
    with torch.no_grad():
        for key, entry in backup.items():
            original, in_place = (entry.weight, entry.inplace_update) if isinstance(entry, BackupEntry) \
                else (entry, True)
            if in_place:
                target = comfy.utils.get_attr(model, key)
                target.copy_(original.to(target.device))
            else:
                comfy.utils.set_attr_param(model, key, original)
    if device is not None:
        model.to(device)


@dataclass(frozen=True)
class WeightUnit:
    """One weight as ComfyUI names, patches and rounds it: `comfy_key` (its seed for fp8 rounding), its shape,
    and the (parameter, first row, end row) pieces of Kiln's model it is made of, in row order."""

    comfy_key: str
    shape: tuple[int, ...]
    pieces: tuple[tuple[str, int, int], ...]


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln's ModelPatcher places and patches weights its own way (comfy.weight_streaming)"

AutoPatcherEjector = unsupported_class(__name__, 'AutoPatcherEjector', 'model, skip_and_inject_on_exit_only=', _REASON)
LowVramPatch = unsupported_class(__name__, 'LowVramPatch', 'key, patches, convert_func=, set_func=', _REASON)
MemoryCounter = unsupported_class(__name__, 'MemoryCounter', 'initial, minimum=', _REASON)
create_hook_patches_clone = unsupported_function(__name__, 'create_hook_patches_clone', 'orig_hook_patches', _REASON)
move_weight_functions = unsupported_function(__name__, 'move_weight_functions', 'm, device', _REASON)
wipe_lowvram_weight = unsupported_function(__name__, 'wipe_lowvram_weight', 'm', _REASON)
