"""Run a model on a device that cannot hold all of its weights (ComfyUI's `--lowvram` / `--novram`).

The layers that fit in a byte budget move to the device and stay there; every other layer keeps its weights on
the offload device (the CPU) and gets hooks that copy them to the device for the layer's own call and drop the
copies after it. A pass then holds at most the resident layers plus one streamed layer's weights on the
device, at the price of copying the streamed weights once per call.

"Layer" here is any module with parameters or buffers of its own; the copies replace exactly those tensors
for the duration of that module's `forward`, so a module that reads another module's weights directly (tied
weights) is not supported and fails with torch's device-mismatch error, never silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch


def own_tensors(module: torch.nn.Module) -> Iterator[tuple[dict[str, Any], str, torch.Tensor]]:
    """(collection, name, tensor) for each parameter and buffer the module holds itself (not its children's)."""
    for collection in (module._parameters, module._buffers):
        for name, tensor in collection.items():
            if tensor is not None:
                yield collection, name, tensor


def own_bytes(module: torch.nn.Module) -> int:
    return sum(tensor.numel() * tensor.element_size() for _, _, tensor in own_tensors(module))


def layers_with_weights(model: torch.nn.Module) -> list[torch.nn.Module]:
    """Modules holding parameters or buffers of their own, in registration order (roughly the order of a pass)."""
    return [module for module in model.modules() if any(True for _ in own_tensors(module))]


def _move_own_tensors(module: torch.nn.Module, device: torch.device) -> None:
    module._apply(lambda tensor: tensor.to(device), recurse=False)


@dataclass
class WeightPlacement:
    """Which layers of a model live on the device and which are streamed to it per call."""

    device: torch.device
    resident: list[torch.nn.Module] = field(default_factory=list)
    streamed: list[torch.nn.Module] = field(default_factory=list)
    resident_bytes: int = 0
    streamed_bytes: int = 0
    _hooks: list[Any] = field(default_factory=list)

    def remove(self, offload_device: torch.device) -> None:
        """Take the hooks off and move the resident layers back to `offload_device`."""
        for hook in self._hooks:
            hook.remove()
        self._hooks.clear()
        for module in self.resident:
            _move_own_tensors(module, offload_device)
        self.resident, self.streamed = [], []


def _stream_hooks(module: torch.nn.Module, device: torch.device) -> list[Any]:
    swapped: list[tuple[dict[str, Any], str, torch.Tensor]] = []

    def bring_weights(module: torch.nn.Module, args: Any) -> None:
        for collection, name, tensor in own_tensors(module):
            if tensor.device != device:
                swapped.append((collection, name, tensor))
                collection[name] = tensor.to(device, non_blocking=True)

    def return_weights(module: torch.nn.Module, args: Any, output: Any) -> None:
        while swapped:
            collection, name, original = swapped.pop()
            collection[name] = original

    return [module.register_forward_pre_hook(bring_weights),
            module.register_forward_hook(return_weights, always_call=True)]


def place_weights(model: torch.nn.Module, device: torch.device, budget_bytes: int) -> WeightPlacement:
    """Move the model's layers to `device` in order while they fit in `budget_bytes`; stream the rest.

    A budget of 0 streams every layer (`--novram`). Returns the placement, whose `remove()` undoes it.
    """
    placement = WeightPlacement(device=torch.device(device))
    for module in layers_with_weights(model):
        size = own_bytes(module)
        if placement.resident_bytes + size <= budget_bytes:
            _move_own_tensors(module, placement.device)
            placement.resident.append(module)
            placement.resident_bytes += size
        else:
            placement._hooks += _stream_hooks(module, placement.device)
            placement.streamed.append(module)
            placement.streamed_bytes += size
    return placement


# Device memory kept free beyond what a model and its activations need (cuDNN workspaces, fragmentation).
DEVICE_RESERVE_BYTES = 512 * 1024 * 1024


def streaming_budget(model_bytes: int, free_bytes: int, memory_required: int, lowvram: bool,
                     novram: bool) -> int | None:
    """How many bytes of a model's weights to keep on the device: None loads it whole; a number streams the
    rest. `--novram` streams everything; `--lowvram` keeps what fits after the activations; without either
    the model loads whole when it fits and is streamed only when it does not (as ComfyUI does)."""
    if novram:
        return 0
    room = max(0, free_bytes - memory_required - DEVICE_RESERVE_BYTES)
    if lowvram or model_bytes > room:
        return min(room, model_bytes)
    return None
