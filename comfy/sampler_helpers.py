"""What sampling does around the sampler (ComfyUI's `comfy.sampler_helpers`): the models the conditioning needs
(ControlNets, GLIGEN, extra models), loading them with the model before sampling, cleaning them up after, and
the noise mask shaped like the latent.

Hooks (`comfy.hooks`: per-step LoRA schedules and the like) are not in Kiln yet, nor are the functions that
register them (`get_hooks_from_cond`, `prepare_model_patcher`, `get_additional_models_from_model_options`).
"""

from __future__ import annotations

from typing import Any

import torch

import comfy.model_management
import comfy.patcher_extension
import comfy.utils


def prepare_mask(noise_mask: torch.Tensor, shape: torch.Size | tuple[int, ...], device: Any) -> torch.Tensor:
    """A noise mask `[B?, H, W]` resized to the latent `shape` [B, C, h, w] (channels and batch repeated), on
    `device`."""
    return comfy.utils.reshape_mask(noise_mask, shape).to(device)


def convert_cond(cond: list) -> list[dict]:
    """`[[tensor, options], ...]` as the dicts sampling works on (see `comfy.samplers.convert_cond`)."""
    import comfy.samplers

    return comfy.samplers.convert_cond(cond)


def get_models_from_cond(cond: list[dict], model_type: str) -> list:
    """Every `model_type` entry ("control", "gligen", "additional_models") of a converted conditioning, lists
    flattened."""
    models: list = []
    for entry in cond:
        if model_type in entry:
            value = entry[model_type]
            models += value if isinstance(value, list) else [value]
    return models


def get_additional_models(conds: dict[str, list[dict]], dtype: torch.dtype) -> tuple[list, int]:
    """The model patchers the conditionings need on the device while sampling (their ControlNets' models, GLIGEN,
    their `additional_models`) and the bytes those need beyond their weights."""
    import comfy.samplers

    models, inference_memory = comfy.samplers.additional_models(conds)
    for entries in conds.values():
        models += get_models_from_cond(entries, "additional_models")
    return models, inference_memory


def cleanup_additional_models(models: list) -> None:
    """Let each model that has one run its `cleanup`."""
    for model in models:
        if hasattr(model, "cleanup"):
            model.cleanup()


def cleanup_models(conds: dict[str, list[dict]], models: list) -> None:
    """After sampling: clean up the additional models and the conditionings' ControlNets."""
    cleanup_additional_models(models)
    controls = {id(control): control for entries in conds.values() for control in get_models_from_cond(entries,
                                                                                                   "control")}
    cleanup_additional_models(list(controls.values()))


def prepare_sampling(model: Any, noise_shape: torch.Size | tuple[int, ...], conds: dict[str, list[dict]],
                     model_options: dict | None = None) -> tuple[Any, dict[str, list[dict]], list]:
    """Load the model patcher with its patches onto its device, with the models the conditionings need, in one
    memory budget; returns (the loaded model, conds, the additional models). `WrappersMP.PREPARE_SAMPLING`
    wrappers of `model_options` run around it."""
    wrappers = comfy.patcher_extension.get_all_wrappers(comfy.patcher_extension.WrappersMP.PREPARE_SAMPLING,
                                                        model_options or {}, is_model_options=True)
    executor = comfy.patcher_extension.WrapperExecutor.new_executor(_prepare_sampling, wrappers)
    return executor.execute(model, noise_shape, conds, model_options=model_options)


def _prepare_sampling(model: Any, noise_shape: torch.Size | tuple[int, ...], conds: dict[str, list[dict]],
                      model_options: dict | None = None) -> tuple[Any, dict[str, list[dict]], list]:
    models, inference_memory = get_additional_models(conds, model.model_dtype())
    comfy.model_management.load_models_gpu([model, *models], memory_required=inference_memory)
    return model.model, conds, models


def get_hooks_from_cond(cond: list[dict], full_hooks: Any) -> Any:
    """Add to `full_hooks` (a `comfy.hooks.HookGroup`) the hooks of every entry of `cond` (a list of sampling
    conditioning dicts) and the extra hooks of their control networks (each chain's, where a network has them);
    returns `full_hooks`."""
    import comfy.hooks

    controls = []
    for entry in cond:
        for hook in entry["hooks"].hooks if entry.get("hooks") is not None else ():
            full_hooks.add(hook)
        if entry.get("control") is not None and entry["control"] not in controls:
            controls.append(entry["control"])
    extra = []
    for control in controls:
        while control is not None:
            if getattr(control, "extra_hooks", None) is not None:
                extra.append(control.extra_hooks)
            control = getattr(control, "previous_controlnet", None)
    combined = comfy.hooks.HookGroup.combine_all_hooks(extra)
    for hook in combined.hooks if combined is not None else ():
        full_hooks.add(hook)
    return full_hooks


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = "Kiln registers hooks its own way (comfy.hooked_weights) and has no per-model memory estimates"

estimate_memory = unsupported_function(__name__, 'estimate_memory', 'model, noise_shape, conds', _REASON)
get_additional_models_from_model_options = unsupported_function(__name__, 'get_additional_models_from_model_options', 'model_options=', _REASON)
prepare_model_patcher = unsupported_function(__name__, 'prepare_model_patcher', 'model, conds, model_options', _REASON)
