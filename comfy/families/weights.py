"""Putting converted weights into a network built from a config, after checking every key and shape.

Every loader goes through `load_checked`: the network is built on the `meta` device (no memory), the converted
state dict is compared with it key by key, and only then are the weights assigned (cast into one block when a
dtype is asked for). A misfit is a `WeightLoadError` naming the file and the first missing, unexpected and
wrong-shape keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

import comfy.ops
import comfy.utils
from comfy.families.base import WeightLoadError


def _first(items: list[str], count: int = 5) -> str:
    shown = ", ".join(items[:count])
    return shown + (f" (and {len(items) - count} more)" if len(items) > count else "")


def raise_if_misfit(source_name: str, what: str, missing: list[str], unexpected: list[str],
                    wrong_shapes: list[str], missing_label: str = "missing keys") -> None:
    """WeightLoadError naming the file and the first offending keys of each kind, if there are any."""
    problems = [f"{label} {_first(items)}" for label, items in
                ((missing_label, missing), ("unexpected keys", unexpected), ("wrong shapes", wrong_shapes)) if items]
    if problems:
        raise WeightLoadError(f"{source_name}: the {what} weights do not fit the model: " + "; ".join(problems))


def layout_problems(state_dict: Mapping[str, Any], layout: Mapping[str, tuple[int, ...]]
                    ) -> tuple[list[str], list[str], list[str]]:
    """(missing, unexpected, wrong_shapes) of bare-key `state_dict` against `layout`, each in sorted key order;
    missing and wrong-shape entries state the expected shape."""
    missing = [f"{key} {list(shape)}" for key, shape in sorted(layout.items()) if key not in state_dict]
    unexpected = sorted(key for key in state_dict if key not in layout)
    wrong_shapes = [f"{key}: file {list(state_dict[key].shape)}, expected {list(shape)}"
                    for key, shape in sorted(layout.items())
                    if key in state_dict and tuple(state_dict[key].shape) != tuple(shape)]
    return missing, unexpected, wrong_shapes


def check_original_layout(source: Mapping[str, torch.Tensor], layout: Mapping[str, tuple[int, ...]], what: str,
                          source_name: str) -> None:
    """Refuse weights that differ from the layout their own shapes describe, in the file's key names."""
    missing, unexpected, wrong_shapes = layout_problems(source, layout)
    raise_if_misfit(source_name, what, missing, unexpected, wrong_shapes)


def _identities(tensor: torch.Tensor) -> list[Any]:
    """What ties a converted tensor to its source, most specific first: itself, (off the meta device) its memory,
    and the tensor it views (the converters pass tensors through or slice them)."""
    found: list[Any] = [id(tensor)]
    if tensor.device.type != "meta" and tensor.numel() > 0:
        found.append((tensor.data_ptr(), tensor.numel()))
    if tensor._base is not None:
        found.append(id(tensor._base))
    return found


def load_checked(model_class: type, config: dict[str, Any], source: Mapping[str, torch.Tensor],
                 converted: dict[str, Any], what: str, source_name: str, dtype: torch.dtype | None,
                 leftover: list[str] | None = None, operations: Any = None) -> Any:
    """Build `model_class(**config)` without allocating, check keys and shapes, then load `converted` into it.

    With `operations` (a `comfy.ops` set, such as a pack's `GGMLOps`), the network's plain torch layers are
    rebuilt from its classes after the check, and the weights go in through each layer's own
    `_load_from_state_dict` as they are (no dtype cast: the layers cast per call).

    A source key is "unexpected" when its tensor ended up nowhere in `converted` (tracked by tensor identity:
    the converters pass tensors through or take views of them), or, for converters that copy (the flow
    transformers' `torch.cat`) and pop what they use, when it is in `leftover` (the keys they did not take).
    """
    with torch.device("meta"):
        model = model_class(**config)
    expected = model.state_dict()

    used: set[Any] = set()
    for value in converted.values():
        if isinstance(value, torch.Tensor):
            used.update(_identities(value))
    source_key_of: dict[Any, str] = {}
    for key, tensor in source.items():
        for identity in _identities(tensor):
            source_key_of.setdefault(identity, key)

    missing = [key for key in expected if converted.get(key) is None]
    if leftover is None:
        unexpected = [key for key in source if not used.intersection(_identities(source[key]))]
    else:
        unexpected = list(leftover)
    unexpected += [key for key in converted if key not in expected]
    wrong_shapes = [
        f"{next((source_key_of[i] for i in _identities(value) if i in source_key_of), key)} (diffusers {key}): "
        f"file {tuple(value.shape)}, model {tuple(expected[key].shape)}"
        for key, value in converted.items()
        if key in expected and value is not None and tuple(value.shape) != tuple(expected[key].shape)
    ]
    raise_if_misfit(source_name, what, missing, unexpected, wrong_shapes,
                    missing_label="missing keys (diffusers names)")

    if operations is not None:
        comfy.ops.replace_layers(model, operations)
        # A pack's tensors may be inference tensors (ComfyUI-GGUF reads its file inside the node, which runs
        # under torch.inference_mode()); assigning them as parameters that require grad is refused.
        model.requires_grad_(False)
        model.load_state_dict(converted, strict=False, assign=True)
        return model.eval()
    if dtype is not None:
        converted = comfy.utils.cast_in_one_block(converted, dtype)
    model.load_state_dict(converted, strict=True, assign=True)
    return model.eval()
