"""Devices, interrupts and memory housekeeping: the parts of ComfyUI's `comfy.model_management` that nodes call.

Interrupts are per run: every run of a prompt has its own `CancellationToken`, and ComfyUI's functions
(`interrupt_current_processing`, `processing_interrupted`, `throw_exception_if_processing_interrupted`), which any
node or sampler may call, act on the token of the run that calls them.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import gc
import logging
import platform
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import torch

from comfy.cli_args import args
from comfy.weight_streaming import WeightPlacement, place_weights, streaming_budget


class InterruptProcessingException(Exception):
    """Raised inside a running node when the user interrupts the prompt."""


OOM_EXCEPTION = torch.cuda.OutOfMemoryError

# Models loaded onto their device since the process started (read by the server's /metrics).
_model_loads = 0


class CancellationToken:
    """One run's stop request. `cancel()` asks the run to stop at its next check (before a node call, at a sampler
    step); the check that sees the request clears it and raises `InterruptProcessingException`, as ComfyUI's flag
    does. Thread-safe: `/interrupt` cancels from the server's thread while the run checks from its own."""

    __slots__ = ("_lock", "_requested")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requested = False

    def cancel(self) -> None:
        with self._lock:
            self._requested = True

    def clear(self) -> None:
        with self._lock:
            self._requested = False

    @property
    def cancelled(self) -> bool:
        return self._requested

    def raise_if_cancelled(self) -> None:
        """Raise `InterruptProcessingException` (and clear the request) if the run was asked to stop."""
        if not self._requested:  # the common case, checked at every step: no lock
            return
        with self._lock:
            requested, self._requested = self._requested, False
        if requested:
            raise InterruptProcessingException()


# The token of the run the calling code belongs to (set by `cancellation_scope`; asyncio tasks inherit it).
_current_token: contextvars.ContextVar[CancellationToken | None] = contextvars.ContextVar("kiln_run_token",
                                                                                         default=None)
# The runs in progress in this process, newest last: what a thread without the run's context (one a node started
# itself, or the server's) acts on. A process runs one prompt at a time, so that is the current run.
_runs_in_progress: list[CancellationToken] = []
_runs_lock = threading.Lock()
# Outside any run (a script or a test calling a sampler directly), the functions act on this one.
_outside_runs = CancellationToken()


@contextlib.contextmanager
def cancellation_scope(token: CancellationToken) -> Iterator[CancellationToken]:
    """Run the code inside as the run that `token` stops: the interrupt functions below act on `token` there."""
    context_token = _current_token.set(token)
    with _runs_lock:
        _runs_in_progress.append(token)
    try:
        yield token
    finally:
        with _runs_lock:
            _runs_in_progress.remove(token)
        _current_token.reset(context_token)


def current_cancellation_token() -> CancellationToken:
    """The token of the run the caller belongs to; from another thread, the newest run in progress."""
    token = _current_token.get()
    if token is not None:
        return token
    with _runs_lock:
        return _runs_in_progress[-1] if _runs_in_progress else _outside_runs


def interrupt_current_processing(value: bool = True) -> None:
    """Ask the current run to stop at its next check (or withdraw the request with `value=False`)."""
    token = current_cancellation_token()
    if value:
        token.cancel()
    else:
        token.clear()


def processing_interrupted() -> bool:
    return current_cancellation_token().cancelled


def throw_exception_if_processing_interrupted() -> None:
    """Raise `InterruptProcessingException` (and clear the request) if the current run was asked to stop."""
    current_cancellation_token().raise_if_cancelled()


def mps_mode() -> bool:
    return not args.cpu and not torch.cuda.is_available() and torch.backends.mps.is_available()


def cpu_mode() -> bool:
    return bool(args.cpu) or (not torch.cuda.is_available() and not mps_mode())


def get_torch_device() -> torch.device:
    """The device models run on: the current CUDA device, Apple's MPS, or the CPU (`--cpu`, or no GPU)."""
    if cpu_mode():
        return torch.device("cpu")
    if mps_mode():
        return torch.device("mps")
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


def get_total_memory(dev: torch.device | None = None, torch_total_too: bool = False) -> int | tuple[int, int]:
    """Bytes of memory of `dev` (default: the torch device); with `torch_total_too`, (that, the bytes torch's
    allocator has reserved there), as ComfyUI answers (the same number twice on the CPU)."""
    device = dev or get_torch_device()
    if device.type == "cuda":
        total = int(torch.cuda.mem_get_info(device)[1])
        return (total, int(torch.cuda.memory_reserved(device))) if torch_total_too else total
    total = system_memory()[0]
    return (total, total) if torch_total_too else total


def get_free_memory(dev: torch.device | None = None, torch_free_too: bool = False) -> int | tuple[int, int]:
    """Free bytes on `dev` (default: the torch device), counting what torch's allocator holds unused as free; with
    `torch_free_too`, (that, the reserved-but-unused bytes alone)."""
    device = dev or get_torch_device()
    if device.type == "cuda":
        reserved_unused = int(torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device))
        free = int(torch.cuda.mem_get_info(device)[0]) + reserved_unused
        return (free, reserved_unused) if torch_free_too else free
    free = system_memory()[1]
    return (free, free) if torch_free_too else free


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


# -- loaded models --------------------------------------------------------------------------------------------

class LoadedModel:
    """A model loaded on its device with one patcher's patches written into its weights.

    It holds the model and the patcher only weakly: when the graph no longer references a model (a cache
    eviction, another checkpoint), the model is freed and `cleanup_models` drops its record.
    """

    def __init__(self, model: Any):
        patcher = model  # ComfyUI's parameter name; it is the ModelPatcher
        self._patcher = weakref.ref(patcher)
        self._model = weakref.ref(patcher.model)
        self.load_device = patcher.load_device
        self.offload_device = patcher.offload_device
        # The patcher's records of what it replaced (kept here too: the patcher may be gone when the model unloads).
        self.backup: dict = {}
        self.object_backup: dict = {}
        self.placement: WeightPlacement | None = None

    @property
    def patcher(self) -> Any:
        return self._patcher()

    @property
    def model(self) -> Any:
        return self._model()

    def is_dead(self) -> bool:
        return self._model() is None

    def load(self, budget_bytes: int | None = None) -> None:
        """Patch the weights and move the model to its device: whole, or (with a byte budget) the layers that
        fit, the rest streamed per call (comfy/weight_streaming.py). The patch objects of the model's
        transformer options (an IPAdapter's tensors) follow it to the device."""
        patcher = self.patcher
        patcher.model_patches_to(self.load_device)
        patcher.model_patches_to(patcher.model_dtype())
        patcher.patch_model(self.load_device if budget_bytes is None else None)
        self.backup, self.object_backup = patcher.backup, patcher.object_patches_backup
        if budget_bytes is None:
            return
        self.placement = place_weights(self.patcher.model, self.load_device, budget_bytes)
        logging.info("Loaded %.0f MB of the model's weights on %s; %.0f MB are streamed per call",
                     self.placement.resident_bytes / 2**20, self.load_device, self.placement.streamed_bytes / 2**20)

    def loaded_bytes(self) -> int:
        """Bytes of the model's weights on its device (all of them unless streamed)."""
        if self.placement is not None:
            return self.placement.resident_bytes
        patcher = self.patcher
        return _model_bytes(patcher) if patcher is not None else 0

    def unload(self) -> None:
        from comfy.model_patcher import restore_model

        model = self.model
        if self.placement is not None:
            self.placement.remove(self.offload_device)
            self.placement = None
        patcher = self.patcher
        if patcher is not None:
            patcher.unpatch_model(self.offload_device)  # (a pack's patcher may restore more, as GGUF's does)
        elif model is not None:
            restore_model(model, self.backup, self.offload_device, self.object_backup)
        self.backup, self.object_backup = {}, {}


# Most recently used first. Guarded by the worker: one prompt runs at a time.
current_loaded_models: list[LoadedModel] = []


def _model_bytes(patcher: Any) -> int:
    return patcher.model_size() if hasattr(patcher, "model_size") else 0


def free_memory(memory_required: int, device: torch.device, keep_loaded: list | None = None) -> None:
    """Unload least recently used models from `device` until `memory_required` bytes are free."""
    cleanup_models()
    keep = {id(patcher.model) for patcher in keep_loaded or []}
    for loaded in list(reversed(current_loaded_models)):
        if get_free_memory(device) >= memory_required:
            break
        if id(loaded.model) in keep or loaded.load_device != device:
            continue
        loaded.unload()
        current_loaded_models.remove(loaded)
    gc.collect()
    soft_empty_cache()


def load_models_gpu(models: list, memory_required: int = 0, force_patch_weights: bool = False,
                    minimum_memory_required: int | None = None, force_full_load: bool = False) -> None:
    """Make each patcher's model ready on its load device with that patcher's patches applied.

    A model already loaded with the same patcher stays as it is; one loaded through another clone is unpatched
    first. On a GPU, least recently used models are unloaded when memory is short.
    """
    cleanup_models()
    for patcher in models:
        current = next((loaded for loaded in current_loaded_models if loaded.model is patcher.model), None)
        if current is not None and current.patcher is patcher and not force_patch_weights:
            current_loaded_models.remove(current)
            current_loaded_models.insert(0, current)
            continue
        if current is not None:
            current.unload()
            current_loaded_models.remove(current)
        device = patcher.load_device
        budget = None
        if device.type != "cpu":
            if args.lowvram or args.novram:
                # Small GPUs: only the models this step needs stay on the device.
                keep = {id(other.model) for other in models}
                for loaded_model in list(current_loaded_models):
                    if loaded_model.load_device == device and id(loaded_model.model) not in keep:
                        loaded_model.unload()
                        current_loaded_models.remove(loaded_model)
            else:
                free_memory(_model_bytes(patcher) + memory_required, device, keep_loaded=models)
            budget = streaming_budget(_model_bytes(patcher), get_free_memory(device), memory_required,
                                      lowvram=bool(args.lowvram), novram=bool(args.novram))
        loaded = LoadedModel(patcher)
        loaded.load(budget)
        current_loaded_models.insert(0, loaded)
        _count_model_load()


def _count_model_load() -> None:
    global _model_loads
    _model_loads += 1  # models load on the worker thread only: one writer


def model_load_count() -> int:
    """How many times a model has been loaded onto its device (not counting ones that were already there)."""
    return _model_loads


def load_model_gpu(model: Any) -> None:
    load_models_gpu([model])


def cleanup_models() -> None:
    """Forget loaded-model records whose model has been freed."""
    current_loaded_models[:] = [loaded for loaded in current_loaded_models if not loaded.is_dead()]


def loaded_models(only_currently_used: bool = False) -> list:
    cleanup_models()
    return [loaded.patcher for loaded in current_loaded_models if loaded.patcher is not None]


def unload_all_models() -> None:
    """Unload every model (restoring unpatched weights) and give the memory back."""
    for loaded in list(current_loaded_models):
        loaded.unload()
    current_loaded_models.clear()
    gc.collect()
    soft_empty_cache()


def unload_model_clones(model: Any) -> None:
    for loaded in list(current_loaded_models):
        if loaded.model is model.model:
            loaded.unload()
            current_loaded_models.remove(loaded)


# -- dtypes -----------------------------------------------------------------------------------------------------

def _flag_dtype(pairs: tuple[tuple[str, torch.dtype], ...]) -> torch.dtype | None:
    for flag, dtype in pairs:
        if getattr(args, flag, False):
            return dtype
    return None


def unet_dtype(device: torch.device | None = None, model_params: int = 0, supported_dtypes: list | None = None,
               weight_dtype: torch.dtype | None = None) -> torch.dtype:
    """The diffusion model's compute dtype: a --*-unet flag, else fp32 on the CPU (as ComfyUI picks it there)
    and fp16 on a GPU. Weights stored narrower (`weight_dtype` fp8) are computed in this dtype too."""
    device = device or get_torch_device()
    chosen = _flag_dtype((("fp64_unet", torch.float64), ("fp32_unet", torch.float32), ("bf16_unet", torch.bfloat16),
                          ("fp16_unet", torch.float16), ("force_fp32", torch.float32), ("force_fp16", torch.float16)))
    if chosen is not None:
        return chosen
    return torch.float32 if device.type == "cpu" else torch.float16


def vae_dtype(device: torch.device | None = None, allowed_dtypes: list | None = None) -> torch.dtype:
    """The VAE's dtype: a --*-vae flag, else fp32 on the CPU and bf16 on GPUs that support it (fp16 VAEs
    overflow into black images)."""
    device = device or get_torch_device()
    chosen = _flag_dtype((("fp32_vae", torch.float32), ("bf16_vae", torch.bfloat16), ("fp16_vae", torch.float16),
                          ("force_fp32", torch.float32)))
    if chosen is not None:
        return chosen
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def text_encoder_dtype(device: torch.device | None = None) -> torch.dtype:
    device = device or get_torch_device()
    chosen = _flag_dtype((("fp32_text_enc", torch.float32), ("bf16_text_enc", torch.bfloat16),
                          ("fp16_text_enc", torch.float16), ("force_fp32", torch.float32)))
    if chosen is not None:
        return chosen
    return torch.float32 if device.type == "cpu" else torch.float16


def text_encoder_weight_dtype() -> torch.dtype:
    """The dtype ComfyUI holds text-encoder weights in: float16, or what --fp32-text-enc / --bf16-text-enc /
    --force-fp32 ask for. Kiln holds them in float32 (the same values for a float16 file) and rounds a
    LoRA-patched weight to this dtype, as ComfyUI writes it, so a text-encoder LoRA gives ComfyUI's numbers."""
    chosen = _flag_dtype((("fp32_text_enc", torch.float32), ("bf16_text_enc", torch.bfloat16),
                          ("fp16_text_enc", torch.float16), ("force_fp32", torch.float32)))
    return chosen or torch.float16


def text_encoder_device() -> torch.device:
    return get_torch_device()


def text_encoder_offload_device() -> torch.device:
    return torch.device("cpu")


def vae_device() -> torch.device:
    return torch.device("cpu") if args.cpu_vae else get_torch_device()


def vae_offload_device() -> torch.device:
    return torch.device("cpu")


def should_use_fp16(device: torch.device | None = None, model_params: int = 0, prioritize_performance: bool = True,
                    manual_cast: bool = False) -> bool:
    return (device or get_torch_device()).type == "cuda"


# -- device facts and casts (ComfyUI's names, for custom nodes and comfy.ops) ------------------------------------

def is_device_type(device: Any, type: str) -> bool:  # noqa: A002 - ComfyUI's parameter name
    return getattr(device, "type", None) == type


def is_device_cpu(device: Any) -> bool:
    return is_device_type(device, "cpu")


def is_device_cuda(device: Any) -> bool:
    return is_device_type(device, "cuda")


def is_device_mps(device: Any) -> bool:
    return is_device_type(device, "mps")


def is_device_xpu(device: Any) -> bool:
    return is_device_type(device, "xpu")


def is_intel_xpu() -> bool:
    """Whether Kiln runs on an Intel XPU: never (it picks CUDA, MPS or the CPU)."""
    return get_torch_device().type == "xpu"


def is_directml_enabled() -> bool:
    """Whether DirectML is the device: never in Kiln (no --directml flag)."""
    return False


def get_autocast_device(dev: Any) -> str:
    """The device type string `torch.autocast` takes for `dev` ("cuda" when `dev` has no type)."""
    return getattr(dev, "type", "cuda")


def module_size(module: torch.nn.Module) -> int:
    """Bytes held by a module's state dict."""
    return sum(tensor.nelement() * tensor.element_size() for tensor in module.state_dict().values())


def dtype_size(dtype: torch.dtype) -> int:
    """Bytes per element of `dtype`."""
    return dtype.itemsize


def supports_cast(device: Any, dtype: torch.dtype) -> bool:
    """Whether weights stored in `dtype` can be cast on `device` for compute (bf16 and fp8 not on MPS)."""
    if dtype in (torch.float32, torch.float16):
        return True
    if dtype in (torch.bfloat16, torch.float8_e4m3fn, torch.float8_e5m2):
        return not is_device_mps(device)
    return False


def supports_dtype(device: Any, dtype: torch.dtype) -> bool:
    """Whether `device` computes in `dtype`: float32 everywhere, float16 / bfloat16 off the CPU."""
    if dtype == torch.float32:
        return True
    return not is_device_cpu(device) and dtype in (torch.float16, torch.bfloat16)


def should_use_bf16(device: torch.device | None = None, model_params: int = 0, prioritize_performance: bool = True,
                    manual_cast: bool = False) -> bool:
    """Whether to compute in bfloat16 when a model allows it: on CUDA devices that support it (never the CPU)."""
    device = device or get_torch_device()
    return device.type == "cuda" and torch.cuda.is_bf16_supported()


def unet_manual_cast(weight_dtype: torch.dtype, inference_device: torch.device,
                     supported_dtypes: list | tuple = (torch.float16, torch.bfloat16, torch.float32)
                     ) -> torch.dtype | None:
    """The dtype to compute in when weights stored in `weight_dtype` cannot be computed in directly on
    `inference_device` (then each layer casts its weights per call); None when they can."""
    if weight_dtype in (torch.float32, torch.float64):
        return None
    if weight_dtype == torch.float16 and should_use_fp16(inference_device, prioritize_performance=False):
        return None
    if weight_dtype == torch.bfloat16 and should_use_bf16(inference_device):
        return None
    if torch.float16 in supported_dtypes and should_use_fp16(inference_device):
        return torch.float16
    if torch.bfloat16 in supported_dtypes and should_use_bf16(inference_device):
        return torch.bfloat16
    return torch.float32


def pick_weight_dtype(dtype: torch.dtype | None, fallback_dtype: torch.dtype, device: Any = None) -> torch.dtype:
    """`dtype`, unless it is None, wider than `fallback_dtype` or not castable on `device`."""
    if dtype is None or dtype_size(dtype) > dtype_size(fallback_dtype) or not supports_cast(device, dtype):
        return fallback_dtype
    return dtype


def get_supported_float8_types() -> list[torch.dtype]:
    return [torch.float8_e4m3fn, torch.float8_e4m3fnuz, torch.float8_e5m2, torch.float8_e5m2fnuz,
            torch.float8_e8m0fnu]


FLOAT8_TYPES = get_supported_float8_types()


def device_supports_non_blocking(device: Any) -> bool:
    """Whether copies to `device` may be asynchronous (not on MPS, nor with --deterministic)."""
    return not is_device_mps(device) and not getattr(args, "deterministic", False)


def device_should_use_non_blocking(device: Any) -> bool:
    return False


def get_offload_stream(device: Any) -> None:
    """The side stream weights are copied on: Kiln copies on the default stream (None)."""
    return None


def sync_stream(device: Any, stream: Any) -> None:
    """Wait for a side stream from `get_offload_stream`; with none there is nothing to wait for."""


def cast_to(weight: torch.Tensor, dtype: torch.dtype | None = None, device: Any = None, non_blocking: bool = False,
            copy: bool = False, stream: Any = None) -> torch.Tensor:
    """`weight` in `dtype` on `device` (None keeps its own); the same tensor when nothing changes and no `copy`
    is asked for."""
    if device is None or weight.device == torch.device(device):
        if not copy and (dtype is None or weight.dtype == dtype):
            return weight
        return weight.to(dtype=dtype, copy=copy)
    result = torch.empty_like(weight, dtype=dtype, device=device)
    result.copy_(weight, non_blocking=non_blocking)
    return result


def cast_to_device(tensor: torch.Tensor, device: Any, dtype: torch.dtype | None, copy: bool = False) -> torch.Tensor:
    """`cast_to` with non-blocking copies where the device allows them."""
    return cast_to(tensor, dtype=dtype, device=device, non_blocking=device_supports_non_blocking(device), copy=copy)


def xformers_enabled() -> bool:
    """Kiln does not use xformers."""
    return False


def xformers_enabled_vae() -> bool:
    return False


def pytorch_attention_enabled() -> bool:
    """Attention runs through torch's `scaled_dot_product_attention` (comfy.ldm.modules.attention)."""
    return True


def pytorch_attention_enabled_vae() -> bool:
    return True


def sage_attention_enabled() -> bool:
    return False


def flash_attention_enabled() -> bool:
    return False


def force_upcast_attention_dtype() -> dict[torch.dtype, torch.dtype] | None:
    """Dtypes whose attention is computed in a wider one: float16 in float32 with --force-upcast-attention."""
    return {torch.float16: torch.float32} if getattr(args, "force_upcast_attention", False) else None


# ComfyUI's device-state names, which packs read to decide where and how to run (values describe Kiln's setup).


class VRAMState(enum.Enum):
    """How much of a model ComfyUI keeps on the GPU; Kiln reports `NORMAL_VRAM` on a GPU, `DISABLED` on the CPU
    (its own weight placement is `comfy.weight_streaming`)."""

    DISABLED = 0
    NO_VRAM = 1
    LOW_VRAM = 2
    NORMAL_VRAM = 3
    HIGH_VRAM = 4
    SHARED = 5


class CPUState(enum.Enum):
    GPU = 0
    CPU = 1
    MPS = 2


cpu_state = CPUState.CPU if cpu_mode() else CPUState.MPS if mps_mode() else CPUState.GPU
vram_state = VRAMState.DISABLED if cpu_state == CPUState.CPU else (
    VRAMState.SHARED if cpu_state == CPUState.MPS else VRAMState.NORMAL_VRAM)
set_vram_to = VRAMState.NORMAL_VRAM
lowvram_available = True
xpu_available = False
directml_enabled = False
XFORMERS_VERSION = ""
XFORMERS_ENABLED_VAE = False
ENABLE_PYTORCH_ATTENTION = True
FORCE_FP32 = bool(args.force_fp32)
PRIORITIZE_FP16 = False
SUPPORT_FP8_OPS = False
DISABLE_SMART_MEMORY = bool(getattr(args, "disable_smart_memory", False))
WINDOWS = platform.system() == "Windows"
EXTRA_RESERVED_VRAM = 0
MIN_WEIGHT_MEMORY_RATIO = 0.0
NUM_STREAMS = 0
STREAMS: dict = {}
stream_counters: dict = {}
interrupt_processing = False
interrupt_processing_mutex = threading.RLock()
torch_version = torch.version.__version__
total_vram = get_total_memory(get_torch_device()) / (1024 * 1024)
total_ram = system_memory()[0] / (1024 * 1024)


def is_nvidia() -> bool:
    return cpu_state == CPUState.GPU and torch.version.cuda is not None


def is_amd() -> bool:
    return cpu_state == CPUState.GPU and torch.version.hip is not None


def is_ascend_npu() -> bool:
    return False


def is_mlu() -> bool:
    return False


def is_ixuca() -> bool:
    return False


def amd_min_version(device: Any = None, min_rdna_version: int = 0) -> bool:
    return False


def mac_version() -> tuple[int, ...] | None:
    release = platform.mac_ver()[0]
    return tuple(int(part) for part in release.split(".")) if release else None


def extra_reserved_memory() -> int:
    return EXTRA_RESERVED_VRAM


def minimum_inference_memory() -> int:
    """Bytes kept free for activations when loading weights (ComfyUI keeps about 0.8 GiB)."""
    return int(0.8 * 1024 * 1024 * 1024) + extra_reserved_memory()


def maximum_vram_for_weights(device: Any = None) -> int:
    return get_total_memory(device) - minimum_inference_memory()


def offloaded_memory(loaded_models: list, device: Any) -> int:
    """Bytes of the given loaded models' weights that are not on their device (always 0 for Kiln's runs)."""
    return 0


def use_more_memory(extra_memory: int, loaded_models: list, device: Any) -> None:
    """ComfyUI moves more of partly loaded models onto the GPU; Kiln places weights once per run, so nothing."""


def cleanup_models_gc() -> None:
    gc.collect()
    soft_empty_cache()


def force_channels_last() -> bool:
    return False


def extended_fp16_support() -> bool:
    return cpu_state == CPUState.GPU


def supports_fp8_compute(device: Any = None) -> bool:
    if not is_nvidia():
        return False
    major, minor = torch.cuda.get_device_capability(device)
    return (major, minor) >= (8, 9)


def pytorch_attention_flash_attention() -> bool:
    return is_nvidia()


def unet_inital_load_device(parameters: int, dtype: torch.dtype) -> torch.device:
    """Where a diffusion model's weights are first loaded (ComfyUI's spelling of "initial")."""
    return unet_offload_device()


def text_encoder_initial_device(load_device: Any, offload_device: Any, model_size: int = 0) -> Any:
    return offload_device
