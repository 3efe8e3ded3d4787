"""Devices, the interrupt flag and memory housekeeping: the parts of ComfyUI's `comfy.model_management` that
nodes call.

The interrupt flag is process-wide on purpose: ComfyUI's contract is that any node or sampler may poll it.
"""

from __future__ import annotations

import gc
import threading

import torch

from comfy.cli_args import args


class InterruptProcessingException(Exception):
    """Raised inside a running node when the user interrupts the prompt."""


OOM_EXCEPTION = torch.cuda.OutOfMemoryError

_interrupt_lock = threading.Lock()
_interrupt_requested = False


def interrupt_current_processing(value: bool = True) -> None:
    """Ask the running node to stop at its next check (or clear the request with `value=False`)."""
    global _interrupt_requested
    with _interrupt_lock:
        _interrupt_requested = value


def processing_interrupted() -> bool:
    with _interrupt_lock:
        return _interrupt_requested


def throw_exception_if_processing_interrupted() -> None:
    """Raise `InterruptProcessingException` (and clear the request) if an interrupt is pending."""
    global _interrupt_requested
    with _interrupt_lock:
        if _interrupt_requested:
            _interrupt_requested = False
            raise InterruptProcessingException()


def cpu_mode() -> bool:
    return bool(args.cpu) or not torch.cuda.is_available()


def get_torch_device() -> torch.device:
    """The device models run on: the current CUDA device, or the CPU with `--cpu` or without a GPU."""
    if cpu_mode():
        return torch.device("cpu")
    return torch.device(torch.cuda.current_device())


def intermediate_device() -> torch.device:
    """Where node outputs between models live (latents, images): the CPU, as in ComfyUI."""
    return torch.device("cpu")


def unet_offload_device() -> torch.device:
    return torch.device("cpu")


def get_torch_device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} {torch.cuda.get_device_name(device)} : native"
    return str(device.type)


def get_total_memory(device: torch.device | None = None) -> int:
    device = device or get_torch_device()
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[1])
    return system_memory()[0]


def get_free_memory(device: torch.device | None = None) -> int:
    device = device or get_torch_device()
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    return system_memory()[1]


def system_memory() -> tuple[int, int]:
    """(total, available) bytes of system RAM, read from /proc/meminfo (0, 0 where that is missing)."""
    fields: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                name, _, rest = line.partition(":")
                fields[name] = int(rest.split()[0]) * 1024
    except OSError:
        return 0, 0
    return fields.get("MemTotal", 0), fields.get("MemAvailable", fields.get("MemFree", 0))


def soft_empty_cache(force: bool = False) -> None:
    """Give cached allocator blocks back to the driver (no-op on the CPU)."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.ipc_collect()


def unload_all_models() -> None:
    """Drop loaded models from the device. Nothing is held before the diffusion stack exists."""
    gc.collect()
    soft_empty_cache()


def free_memory(memory_required: int, device: torch.device, keep_loaded: list | None = None) -> None:
    soft_empty_cache()
