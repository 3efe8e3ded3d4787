"""Wrappers and callbacks that packs attach to a model (ComfyUI's `comfy.patcher_extension`).

Both live in a `transformer_options` dict (or a model's `model_options["transformer_options"]` with
`is_model_options=True`) as `{type: {key: [function, ...]}}`:
- a wrapper of type `WrappersMP.X` is called as `wrapper(executor, *args, **kwargs)` around step X of sampling
  and must call `executor(*args, **kwargs)` to run what it wraps (the next wrapper, or the step itself);
- a callback of type `CallbacksMP.X` is called when event X happens to the model patcher.

Where Kiln runs them, with the arguments ComfyUI passes:
- `WrappersMP.OUTER_SAMPLE` around `comfy.samplers.CFGGuider.outer_sample` (noise, latent_image, sampler, sigmas,
  denoise_mask, callback, disable_pbar, seed; `executor.class_obj` is the guider);
- `PREPARE_SAMPLING` around `comfy.sampler_helpers.prepare_sampling`;
- `SAMPLER_SAMPLE` around the sampler's `sample` (guider, sigmas, extra_args, callback, noise, latent_image,
  denoise_mask, disable_pbar);
- `PREDICT_NOISE` around the guider's `predict_noise` (x, sigma, model_options, seed), at every step;
- `CALC_COND_BATCH` around `comfy.samplers.calc_cond_batch` (model, conds, x_in, sigma, model_options);
- `APPLY_MODEL` around `comfy.model_base.BaseModel.apply_model`;
- `DIFFUSION_MODEL` around the diffusion network's call (x, timesteps, context, y, control, transformer_options,
  and for FLUX.1 x, timestep, context, y, guidance, ref_latents, control, transformer_options; the other conds as
  keywords): `BaseModel.run_diffusion_model` turns Kiln's conds into these arguments and back, so a wrapper
  may also change them before calling `executor`;
`CallbacksMP.ON_CLONE` when a patcher is cloned and `ON_PRE_RUN` before sampling starts. Not yet: the other
callbacks. The points run at every step (PREDICT_NOISE, CALC_COND_BATCH, DIFFUSION_MODEL) call the step
directly when they hold no wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class CallbacksMP:
    """The events a callback can be attached to."""

    ON_CLONE = "on_clone"
    ON_LOAD = "on_load_after"
    ON_DETACH = "on_detach_after"
    ON_CLEANUP = "on_cleanup"
    ON_PRE_RUN = "on_pre_run"
    ON_PREPARE_STATE = "on_prepare_state"
    ON_APPLY_HOOKS = "on_apply_hooks"
    ON_REGISTER_ALL_HOOK_PATCHES = "on_register_all_hook_patches"
    ON_INJECT_MODEL = "on_inject_model"
    ON_EJECT_MODEL = "on_eject_model"

    @classmethod
    def init_callbacks(cls) -> dict[str, dict[str, list[Callable]]]:
        return {}


class WrappersMP:
    """The steps of sampling a wrapper can be put around."""

    OUTER_SAMPLE = "outer_sample"
    PREPARE_SAMPLING = "prepare_sampling"
    SAMPLER_SAMPLE = "sampler_sample"
    PREDICT_NOISE = "predict_noise"
    CALC_COND_BATCH = "calc_cond_batch"
    APPLY_MODEL = "apply_model"
    DIFFUSION_MODEL = "diffusion_model"

    @classmethod
    def init_wrappers(cls) -> dict[str, dict[str, list[Callable]]]:
        return {}


def _options(transformer_options: dict, is_model_options: bool, create: bool) -> dict:
    if not is_model_options:
        return transformer_options
    if create:
        return transformer_options.setdefault("transformer_options", {})
    return transformer_options.get("transformer_options", {})


def _add(section: str, kind: str, key: str | None, function: Callable, transformer_options: dict,
         is_model_options: bool) -> None:
    options = _options(transformer_options, is_model_options, create=True)
    options.setdefault(section, {}).setdefault(kind, {}).setdefault(key, []).append(function)


def _with_key(section: str, kind: str, key: str | None, transformer_options: dict, is_model_options: bool) -> list:
    return list(_options(transformer_options, is_model_options, create=False).get(section, {}).get(kind, {})
                .get(key, []))


def _all(section: str, kind: str, transformer_options: dict, is_model_options: bool) -> list:
    by_key = _options(transformer_options, is_model_options, create=False).get(section, {}).get(kind, {})
    return [function for functions in by_key.values() for function in functions]


def add_callback(call_type: str, callback: Callable, transformer_options: dict, is_model_options: bool = False
                 ) -> None:
    add_callback_with_key(call_type, None, callback, transformer_options, is_model_options)


def add_callback_with_key(call_type: str, key: str | None, callback: Callable, transformer_options: dict,
                          is_model_options: bool = False) -> None:
    _add("callbacks", call_type, key, callback, transformer_options, is_model_options)


def get_callbacks_with_key(call_type: str, key: str | None, transformer_options: dict,
                           is_model_options: bool = False) -> list[Callable]:
    return _with_key("callbacks", call_type, key, transformer_options, is_model_options)


def get_all_callbacks(call_type: str, transformer_options: dict, is_model_options: bool = False) -> list[Callable]:
    return _all("callbacks", call_type, transformer_options, is_model_options)


def add_wrapper(wrapper_type: str, wrapper: Callable, transformer_options: dict, is_model_options: bool = False
                ) -> None:
    add_wrapper_with_key(wrapper_type, None, wrapper, transformer_options, is_model_options)


def add_wrapper_with_key(wrapper_type: str, key: str | None, wrapper: Callable, transformer_options: dict,
                         is_model_options: bool = False) -> None:
    _add("wrappers", wrapper_type, key, wrapper, transformer_options, is_model_options)


def get_wrappers_with_key(wrapper_type: str, key: str | None, transformer_options: dict,
                          is_model_options: bool = False) -> list[Callable]:
    return _with_key("wrappers", wrapper_type, key, transformer_options, is_model_options)


def get_all_wrappers(wrapper_type: str, transformer_options: dict, is_model_options: bool = False
                     ) -> list[Callable]:
    return _all("wrappers", wrapper_type, transformer_options, is_model_options)


class WrapperExecutor:
    """Runs `original` inside `wrappers`: the wrapper at `idx` is called with an executor for the rest of the
    chain (calling it runs the next wrapper, and the last one runs `original`). `class_obj` is the instance whose
    method is wrapped, for wrappers that need it (`executor.class_obj`)."""

    def __init__(self, original: Callable, class_obj: object, wrappers: list[Callable], idx: int):
        self.original = original
        self.class_obj = class_obj
        self.wrappers = list(wrappers)
        self.idx = idx
        self.is_last = idx == len(self.wrappers)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the rest of the chain (what a wrapper calls)."""
        if self.idx + 1 > len(self.wrappers):
            raise RuntimeError("WrapperExecutor: called past the end of its wrapper chain.")
        return WrapperExecutor(self.original, self.class_obj, self.wrappers, self.idx + 1).execute(*args, **kwargs)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Start the chain here (for the code that wraps a step, not for wrappers)."""
        if self.is_last:
            return self.original(*args, **kwargs)
        return self.wrappers[self.idx](self, *args, **kwargs)

    @classmethod
    def new_executor(cls, original: Callable, wrappers: list[Callable], idx: int = 0) -> WrapperExecutor:
        return cls(original, class_obj=None, wrappers=wrappers, idx=idx)

    @classmethod
    def new_class_executor(cls, original: Callable, class_obj: object, wrappers: list[Callable], idx: int = 0
                           ) -> WrapperExecutor:
        return cls(original, class_obj, wrappers, idx=idx)


class PatcherInjection:
    """A pair of functions that put something into a model and take it out again."""

    def __init__(self, inject: Callable, eject: Callable):
        self.inject = inject
        self.eject = eject


def copy_nested_dicts(input_dict: dict) -> dict:
    """A copy of `input_dict` with its nested dicts copied too and its lists copied one level deep."""
    copied = dict(input_dict)
    for key, value in input_dict.items():
        if isinstance(value, dict):
            copied[key] = copy_nested_dicts(value)
        elif isinstance(value, list):
            copied[key] = list(value)
    return copied


def merge_nested_dicts(dict1: dict, dict2: dict, copy_dict1: bool = True) -> dict:
    """`dict1` (a copy unless `copy_dict1` is False) with `dict2` merged in: lists concatenated (dict1's first at
    the top level), nested dicts merged with dict2's entries first, other values taken from dict2."""
    merged = copy_nested_dicts(dict1) if copy_dict1 else dict1
    for key, value in dict2.items():
        if isinstance(value, dict):
            merged[key] = merge_nested_dicts(value, merged.setdefault(key, {}))
        elif isinstance(value, list):
            merged.setdefault(key, []).extend(value)
        else:
            merged[key] = value
    return merged
