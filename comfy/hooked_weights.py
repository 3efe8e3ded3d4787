"""Hooked LoRAs during sampling: the model's weights while one group of conditionings is evaluated carry that
group's weight hooks (`comfy.hooks.WeightHook`) at their keyframe strengths of the current step.

ComfyUI's order of work, which this follows: at every model call the conditioning entries are grouped by the hook
group they carry (entries without hooks form one more group), the keyframes of each group's hooks are stepped to
the call's sigma, and each group is run with its hooks' LoRAs added to the weights (the weights as loaded, regular
LoRA patches included). An entry marked "default" (ConditioningSetDefaultCombine) is run with the weight that the
other entries of its list leave uncovered.

A run with no hooks and no default entries never creates a `HookedWeights`, and the sampler's batching is
unchanged (`comfy.samplers.calc_cond_batch`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import torch

import comfy.float
import comfy.lora
from comfy.hooks import EnumHookType, EnumWeightTarget, HookGroup

# Where the run's HookedWeights travels to calc_cond_batch: in model_options, as ComfyUI's own run state does.
MODEL_OPTIONS_KEY = "kiln_hooked_weights"


class HookedWeights:
    """The weight hooks of one sampling run on one model patcher: writes a hook group's LoRAs into the weights
    (`apply`), keeps the originals, and puts them back (`restore`)."""

    def __init__(self, patcher: Any, model: torch.nn.Module, any_weight_hooks: bool,
                 target: EnumWeightTarget = EnumWeightTarget.Model):
        self.patcher = patcher
        self.model = model  # a BaseModel, or a CLIP's cond_stage_model (target Clip)
        self.target = target
        # With no weight hook in the run, entries' (empty) hook groups are ignored, as ComfyUI drops them.
        self.any_weight_hooks = any_weight_hooks
        self._lora_patches: dict[Any, list[tuple[str, Any]]] = {}  # by hook_ref: (parameter, LoRA delta)
        self._parameters: dict[str, torch.Tensor] | None = None
        self._backup: dict[str, torch.Tensor] = {}
        self._applied: tuple | None = None

    @classmethod
    def for_conds(cls, patcher: Any, model: torch.nn.Module, conds: dict[str, list[dict]]) -> HookedWeights | None:
        """The run's HookedWeights when an entry of `conds` carries hooks or is a default entry, else None. The
        hooks' schedules are reset and their keyframes' sigmas computed on `model` (a BaseModel)."""
        entries = [entry for cond in conds.values() for entry in cond]
        groups = {id(entry["hooks"]): entry["hooks"] for entry in entries if entry.get("hooks") is not None}
        if not groups and not any("default" in entry for entry in entries):
            return None
        any_weight_hooks = False
        for group in groups.values():
            for hook in group.hooks:
                hook.initialize_timesteps(model)
                any_weight_hooks = any_weight_hooks or hook.hook_type == EnumHookType.Weight
        return cls(patcher, model, any_weight_hooks)

    def group_of(self, hooks: HookGroup | None) -> HookGroup | None:
        """The hook group an entry carrying `hooks` runs in (None: the unhooked weights)."""
        return hooks if self.any_weight_hooks else None

    def step(self, group: HookGroup, sigma: torch.Tensor, model_options: dict) -> None:
        """Step the keyframes of `group`'s hooks to this call's sigma `[B]` (each hook once per sigma)."""
        transformer_options = model_options.get("transformer_options", {})
        for hook in group.hooks:
            hook.hook_keyframe.prepare_current_keyframe(sigma[0], transformer_options)

    def apply(self, group: HookGroup | None) -> None:
        """Make the weights those of `group` at its hooks' current strengths (None: the unhooked weights)."""
        patches = self._combined_patches(group) if group is not None else {}
        state = (id(group), tuple((name, len(found), tuple(p[0] for p in found)) for name, found in patches.items())) \
            if patches else None
        if state == self._applied:
            return
        self.restore()
        parameters = self._model_parameters()
        with torch.no_grad():
            for name, found in patches.items():
                weight = parameters[name]
                self._backup[name] = weight.detach().clone()
                found = [_towards_model(patch, weight) for patch in found]
                value = comfy.lora.add_weight_patches(found, weight.detach().float(), weight.shape)
                weight.copy_(self._rounded(name, value, weight.dtype))
        self._applied = state

    def restore(self) -> None:
        """Put back every weight `apply` changed."""
        if self._backup:
            parameters = self._model_parameters()
            with torch.no_grad():
                for name, original in self._backup.items():
                    parameters[name].copy_(original)
            self._backup = {}
        self._applied = None

    def _combined_patches(self, group: HookGroup) -> dict[str, list[tuple]]:
        """{parameter: patches} of the group's weight hooks, in the group's order: each LoRA delta at the hook's
        model strength times its keyframe strength (the product only where the keyframe's is not 1)."""
        combined: dict[str, list[tuple]] = {}
        for hook in group.get_type(EnumHookType.Weight):
            strength = hook._strength_clip if self.target == EnumWeightTarget.Clip else hook._strength_model
            if not math.isclose(hook.strength, 1.0):
                strength = strength * hook.strength
            for name, delta in self._patches_of(hook):
                combined.setdefault(name, []).append((strength, delta, 1.0, None, None))
        return combined

    def _patches_of(self, hook: Any) -> list[tuple[str, Any]]:
        if hook.hook_ref not in self._lora_patches and not hook.need_weight_init:
            # already under this model's parameter names (CreateHookModelAsLora)
            weights = hook.weights_clip if self.target == EnumWeightTarget.Clip else hook.weights
            parameters = self._model_parameters()
            self._lora_patches[hook.hook_ref] = [(name, delta) for name, delta in (weights or {}).items()
                                                 if name in parameters]
        if hook.hook_ref not in self._lora_patches:
            if self.target == EnumWeightTarget.Clip:
                self._lora_patches[hook.hook_ref] = clip_lora_patches_for(self.model, hook.weights or {})
            else:
                self._lora_patches[hook.hook_ref] = lora_patches_for(self.model, hook.weights or {})
        return self._lora_patches[hook.hook_ref]

    def _model_parameters(self) -> dict[str, torch.Tensor]:
        if self._parameters is None:
            self._parameters = dict(self.model.named_parameters())
        return self._parameters

    def _rounded(self, name: str, value: torch.Tensor, stored: torch.dtype) -> torch.Tensor:
        """A patched float32 weight in its stored dtype, rounded as the patcher rounds its patched weights."""
        rounding_dtype = getattr(self.patcher, "weight_rounding_dtype", None)
        rounding = rounding_dtype if stored == torch.float32 and rounding_dtype else stored
        return comfy.float.stochastic_rounding(value, rounding, comfy.float.string_to_seed(name)).to(stored)


def _towards_model(patch: tuple, weight: torch.Tensor) -> tuple:
    """A ("model_as_lora", (other weight,)) patch as the difference of the other weight and `weight`."""
    delta = patch[1]
    if isinstance(delta, tuple) and len(delta) == 2 and delta[0] == "model_as_lora":
        other = delta[1][0].to(weight.device, torch.float32)
        return (patch[0], other - weight.detach().float(), *patch[2:])
    return patch


def lora_patches_for(model: torch.nn.Module, lora: dict[str, torch.Tensor]) -> list[tuple[str, Any]]:
    """(parameter, delta) of the layers of a LoRA file's tensors that `model` (a BaseModel) has, named as the
    model's family names them (`comfy.lora`); layers the model lacks (the text encoder's) are left out."""
    patches, _ = comfy.lora.lora_patches(lora, comfy.lora.model_targets(model), comfy.lora.parameter_shapes(model))
    return patches


def clip_lora_patches_for(text_encoders: torch.nn.Module, lora: dict[str, torch.Tensor]) -> list[tuple[str, Any]]:
    """(parameter, delta) of the layers of a LoRA file's tensors that a CLIP's `cond_stage_model` has."""
    patches, _ = comfy.lora.lora_patches(lora, comfy.lora.text_encoder_targets(text_encoders),
                                         comfy.lora.parameter_shapes(text_encoders))
    return patches


@contextlib.contextmanager
def clip_hooks_applied(clip: Any, hooks: HookGroup) -> Iterator[HookedWeights]:
    """While the block runs, the CLIP's text encoders carry `hooks`' LoRAs at their CLIP strengths times the
    hooks' current keyframe strengths (`apply` again after changing keyframes); restored afterwards."""
    weights = HookedWeights(clip.patcher, clip.cond_stage_model, True, EnumWeightTarget.Clip)
    weights.apply(hooks)
    try:
        yield weights
    finally:
        weights.restore()


def default_runs(runs: list[tuple[Any, int]], defaults: list[list[dict]], x_in: torch.Tensor,
                 get_area_and_mult: Any, sigma: torch.Tensor) -> list[tuple[Any, int]]:
    """The runs of the default entries (`defaults[i]`: those of list i): each weighted by what the other runs of
    its list leave of 1 (negative parts clipped to 0); none for a list whose runs cover everything."""
    uncovered = [torch.ones_like(x_in) if entries else None for entries in defaults]
    for run, index in runs:
        mult = uncovered[index]
        if mult is None:
            continue
        if run.area is not None:
            dims = len(run.area) // 2
            for i in range(dims):
                mult = mult.narrow(i + 2, run.area[i + dims], run.area[i])
        mult -= run.mult
    found = []
    for index, mult in enumerate(uncovered):
        if mult is None:
            continue
        torch.nn.functional.relu(mult, inplace=True)
        if torch.max(mult) == 0.0:
            continue
        for entry in defaults[index]:
            run = get_area_and_mult(entry, x_in, sigma)
            if run is not None:
                found.append((run._replace(mult=mult), index))
    return found
