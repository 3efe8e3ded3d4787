"""ComfyUI's `comfy_api.torch_helpers.torch_compile`: `torch.compile` put on a model at sampling time.

`set_torch_compile_wrapper(model, backend, ...)` compiles the patcher's `diffusion_model` (or the modules named in
`keys`, attribute paths on the model) with `torch.compile` and registers an `APPLY_MODEL` wrapper (key
`COMPILE_KEY`) that swaps the compiled modules in for the duration of each model call and back afterwards: the
loaded model itself is never changed, so the uncompiled clones beside it stay as they were. torch compiles
lazily, on the first call; the compile options are kept in `model_options[TORCH_COMPILE_KWARGS]`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

import comfy.utils
from comfy.patcher_extension import WrappersMP

__all__ = ["COMPILE_KEY", "TORCH_COMPILE_KWARGS", "apply_torch_compile_factory", "set_torch_compile_wrapper"]

COMPILE_KEY = "torch.compile"
TORCH_COMPILE_KWARGS = "torch_compile_kwargs"


def apply_torch_compile_factory(compiled_module_dict: dict[str, Callable]) -> Callable:
    """An APPLY_MODEL wrapper that runs the model call with `compiled_module_dict`'s modules (attribute path ->
    compiled module) in place of the model's own."""

    def apply_torch_compile_wrapper(executor: Any, *args: Any, **kwargs: Any) -> Any:
        originals: dict[str, Any] = {}
        try:
            for key, compiled in compiled_module_dict.items():
                originals[key] = comfy.utils.get_attr(executor.class_obj, key)
                comfy.utils.set_attr(executor.class_obj, key, compiled)
            return executor(*args, **kwargs)
        finally:
            for key, original in originals.items():
                comfy.utils.set_attr(executor.class_obj, key, original)

    return apply_torch_compile_wrapper


def set_torch_compile_wrapper(model: Any, backend: str, options: dict[str, str] | None = None,
                              mode: str | None = None, fullgraph: bool = False, dynamic: bool | None = None,
                              keys: list[str] | None = None, *args: Any, **kwargs: Any) -> None:
    """Compile `keys` (default: the whole `diffusion_model`) of the patcher `model` with torch.compile and apply
    them at sampling time; replaces an earlier torch.compile wrapper of the same patcher."""
    model.remove_wrappers_with_key(WrappersMP.APPLY_MODEL, COMPILE_KEY)
    compile_kwargs = {"backend": backend, "options": options, "mode": mode, "fullgraph": fullgraph,
                      "dynamic": dynamic}
    compiled = {key: torch.compile(model=model.get_model_object(key), **compile_kwargs)
                for key in keys or ["diffusion_model"]}
    model.add_wrapper_with_key(WrappersMP.APPLY_MODEL, COMPILE_KEY, apply_torch_compile_factory(compiled))
    model.model_options[TORCH_COMPILE_KWARGS] = compile_kwargs
