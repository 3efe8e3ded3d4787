"""EasyCache and LazyCache: skip model evaluations whose output can be predicted from the last one computed.

EasyCache (Zhou et al. 2025, "Less is Enough: Training-Free Video Diffusion Acceleration via Runtime-Adaptive
Caching", arXiv 2507.02860) watches the diffusion network. After each evaluated step it keeps the step's
`output - input` per conditioning (the cache), a subsample (every `subsample_factor`-th row and column) of the
first conditioning's input and output, and the mean |output|. From the second evaluated step on it knows the
transformation rate k = mean|Δ output| / mean|Δ input| between the last two evaluations. At each later step it
predicts the relative output change k · mean|Δ input| / mean|output| since the last evaluation and adds it to a
running sum; while the sum stays under `reuse_threshold`, the network is not run: the output is the input plus the
cached difference. Once the sum reaches the threshold the step is evaluated and the sum starts again from 0.

LazyCache applies the same rule one level up, to the guider's whole prediction (all conditionings and CFG
together) in `predict_noise`, so it works with any model and guider.

Both act only between the sigmas of `start_percent` and `end_percent` of the run; steps at or below the end
sigma are always evaluated. The state lives in a holder (`EasyCacheHolder`, `LazyCacheHolder`) that the node puts
into the model's transformer_options; each sampling run works on a fresh copy of it.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

import comfy.model_management
import comfy.model_patcher
import comfy.patcher_extension
from comfy_api.latest import ComfyExtension, io

__all__ = ["EasyCacheExtension", "EasyCacheHolder", "EasyCacheNode", "LazyCacheHolder", "LazyCacheNode",
           "comfy_entrypoint", "easycache_calc_cond_batch_wrapper", "easycache_forward_wrapper",
           "easycache_sample_wrapper", "lazycache_predict_noise_wrapper"]

HOLDER_KEY = "easycache"  # where the holder sits in transformer_options, and the wrappers' key


class EasyCacheHolder:
    """Settings and per-run state of EasyCache. `reuse_threshold`: the largest predicted relative output change
    that may be skipped; `start_percent` / `end_percent`: the part of the run it acts on; `subsample_factor`:
    the stride of the subsample the changes are measured on; `offload_cache_diff`: keep the cached differences
    on the offload device."""

    name = "EasyCache"

    def __init__(self, reuse_threshold: float, start_percent: float, end_percent: float, subsample_factor: int,
                 offload_cache_diff: bool, verbose: bool = False):
        self.reuse_threshold = reuse_threshold
        self.start_percent = start_percent
        self.end_percent = end_percent
        self.subsample_factor = subsample_factor
        self.offload_cache_diff = offload_cache_diff
        self.verbose = verbose
        self.start_t: float | None = None  # sigmas: acts at sigma <= start_t, down to sigma > end_t
        self.end_t: float | None = None
        self.output_channels: int | None = None  # the latent's channels (the input may carry concat channels)
        self.reset()

    def reset(self) -> EasyCacheHolder:
        """Forget everything learned in a run."""
        self.first_cond_uuid = None
        self.skip_current_step = False
        self.x_prev_subsampled: torch.Tensor | None = None
        self.output_prev_subsampled: torch.Tensor | None = None
        self.output_prev_norm: torch.Tensor | None = None
        self.relative_transformation_rate: torch.Tensor | None = None
        self.cumulative_change_rate: torch.Tensor | float = 0.0
        self.uuid_cache_diffs: dict[Any, torch.Tensor] = {}
        self.total_steps_skipped = 0
        self.output_change_rates: list[float] = []
        self.approx_output_change_rates: list[float] = []
        self.x_metadata: tuple | None = None
        return self

    def clone(self) -> EasyCacheHolder:
        """A holder with the same settings and no state."""
        return type(self)(self.reuse_threshold, self.start_percent, self.end_percent, self.subsample_factor,
                          self.offload_cache_diff, self.verbose)

    def prepare_timesteps(self, model_sampling: Any) -> EasyCacheHolder:
        """Turn start_percent / end_percent into sigmas of `model_sampling`."""
        self.start_t = model_sampling.percent_to_sigma(self.start_percent)
        self.end_t = model_sampling.percent_to_sigma(self.end_percent)
        return self

    def in_window(self, sigmas: torch.Tensor) -> bool:
        """Whether the step at `sigmas` [B] has reached start_percent."""
        return bool(sigmas[0] <= self.start_t)

    def is_past_end_timestep(self, sigmas: torch.Tensor) -> bool:
        """Whether the step at `sigmas` [B] is at or past end_percent (always evaluated, state untouched)."""
        return bool(sigmas[0] <= self.end_t)

    def check_metadata(self, x: torch.Tensor) -> None:
        """Start over when the input's shape, dtype or device changes (a new run sharing the holder)."""
        metadata = (tuple(x.shape), x.dtype, x.device)
        if self.x_metadata is not None and self.x_metadata != metadata:
            logging.warning("%s: the input changed from %s to %s; starting over.", self.name, self.x_metadata,
                            metadata)
            settings = (self.start_t, self.end_t, self.output_channels)
            self.reset()
            self.start_t, self.end_t, self.output_channels = settings
        self.x_metadata = metadata

    def subsample(self, x: torch.Tensor, uuids: list | None = None) -> torch.Tensor:
        """Every subsample_factor-th row and column of `x` (of the first conditioning's part of the batch when
        `uuids` name the batch's parts)."""
        if uuids is not None:
            part = x.shape[0] // len(uuids)
            index = uuids.index(self.first_cond_uuid)
            x = x[index * part:(index + 1) * part]
        if self.subsample_factor > 1:
            x = x[..., ::self.subsample_factor, ::self.subsample_factor]
        return x

    def should_skip(self, x_subsampled: torch.Tensor) -> tuple[bool, torch.Tensor | None]:
        """Add this step's predicted output change to the running sum; (whether to reuse the cache, the input
        change since the last evaluation, None before one)."""
        input_change = None
        if self.x_prev_subsampled is not None:
            input_change = (x_subsampled - self.x_prev_subsampled).flatten().abs().mean()
        if self.output_prev_norm is None or self.relative_transformation_rate is None:
            return False, input_change
        self.cumulative_change_rate = self.cumulative_change_rate + (
            self.relative_transformation_rate * input_change / self.output_prev_norm)
        skip = bool(self.cumulative_change_rate < self.reuse_threshold)
        if self.verbose:
            logging.info("%s [verbose]: %s; accumulated change %s, threshold %s", self.name,
                         "reusing the cache" if skip else "evaluating", float(self.cumulative_change_rate),
                         self.reuse_threshold)
        if not skip:
            self.cumulative_change_rate = 0.0
        return skip, input_change

    def record(self, x_subsampled: torch.Tensor, output: torch.Tensor, output_subsampled: torch.Tensor,
               input_change: torch.Tensor | None) -> None:
        """Learn from an evaluated step: the transformation rate since the last one and the new references."""
        if self.output_prev_norm is not None:
            output_change = (output_subsampled - self.output_prev_subsampled).flatten().abs().mean()
            if self.verbose:
                self.output_change_rates.append(float(output_change / self.output_prev_norm))
                if self.relative_transformation_rate is not None and input_change is not None:
                    self.approx_output_change_rates.append(
                        float(self.relative_transformation_rate * input_change / self.output_prev_norm))
                logging.info("%s [verbose]: output changed by %s", self.name, self.output_change_rates[-1])
            if input_change is not None:
                self.relative_transformation_rate = output_change / input_change
        self.x_prev_subsampled = x_subsampled.clone()
        self.output_prev_subsampled = output_subsampled.clone()
        self.output_prev_norm = output.flatten().abs().mean()

    def _store(self, difference: torch.Tensor) -> torch.Tensor:
        if self.offload_cache_diff:
            return difference.to(comfy.model_management.unet_offload_device())
        return difference

    def update_cache_diff(self, output: torch.Tensor, x: torch.Tensor, uuids: list) -> None:
        """Keep `output - x` of each conditioning (the batch holds equal parts in `uuids`' order)."""
        if output.shape[1:] != x.shape[1:]:  # an output smaller than the input: compare the overlap
            output = output[(slice(None),) + tuple(slice(0, size) for size in x.shape[1:])]
            x = x[(slice(None),) + tuple(slice(0, size) for size in output.shape[1:])]
        part = x.shape[0] // len(uuids)
        for index, uuid in enumerate(uuids):
            rows = slice(index * part, (index + 1) * part)
            self.uuid_cache_diffs[uuid] = self._store(output[rows] - x[rows])

    def has_cache_diff(self, uuids: list) -> bool:
        return all(uuid in self.uuid_cache_diffs for uuid in uuids)

    def apply_cache_diff(self, x: torch.Tensor, uuids: list) -> torch.Tensor:
        """The skipped step's output, written into `x` (the network's input) and returned: each part of `x` plus
        the sum of the cached differences of all of `uuids` (not only its own). Both are what ComfyUI 0.3.64 does,
        measured on it: with cond and uncond in one batch both parts get x + diff(cond) + diff(uncond); and where
        the network's input is the model's own input (flow models: no input scaling), the denoised prediction
        x - sigma * output then sees the changed x."""
        if self.first_cond_uuid in uuids:
            self.total_steps_skipped += 1
        part = x.shape[0] // len(uuids)
        total = sum(self.uuid_cache_diffs[uuid].to(x.device) for uuid in uuids)
        for index in range(len(uuids)):
            x[index * part:(index + 1) * part] += total
        return x


class LazyCacheHolder(EasyCacheHolder):
    """EasyCache's rule on the guider's prediction: the same settings; the batch is one part."""

    name = "LazyCache"

    def subsample(self, x: torch.Tensor, uuids: list | None = None) -> torch.Tensor:
        return super().subsample(x)

    def update_cache_diff(self, output: torch.Tensor, x: torch.Tensor, uuids: list | None = None) -> None:
        super().update_cache_diff(output, x, [None])

    def has_cache_diff(self, uuids: list | None = None) -> bool:
        return None in self.uuid_cache_diffs

    def apply_cache_diff(self, x: torch.Tensor, uuids: list | None = None) -> torch.Tensor:
        self.total_steps_skipped += 1
        return x + self.uuid_cache_diffs[None].to(x.device)


def _transformer_options(args: tuple, kwargs: dict) -> dict:
    """The transformer_options of a diffusion network call: the last positional argument or a keyword."""
    if args and isinstance(args[-1], dict):
        return args[-1]
    return kwargs["transformer_options"]


def easycache_sample_wrapper(executor: Any, *args: Any, **kwargs: Any) -> Any:
    """OUTER_SAMPLE wrapper: the run gets a fresh copy of the holder, set to the model's sigmas; afterwards the
    steps saved are logged. Args as `CFGGuider.outer_sample` (noise, latent_image, sampler, sigmas, ...)."""
    guider = executor.class_obj
    original_options = guider.model_options
    guider.model_options = comfy.model_patcher.create_model_options_clone(original_options)
    transformer_options = guider.model_options["transformer_options"]
    model = guider.model_patcher.model
    holder = transformer_options[HOLDER_KEY].clone().prepare_timesteps(model.model_sampling)
    holder.output_channels = model.latent_format.latent_channels
    transformer_options[HOLDER_KEY] = holder
    logging.info("%s on: reuse_threshold %s, start_percent %s, end_percent %s", holder.name,
                 holder.reuse_threshold, holder.start_percent, holder.end_percent)
    try:
        return executor(*args, **kwargs)
    finally:
        sigmas = args[3] if len(args) > 3 else kwargs["sigmas"]
        steps = len(sigmas) - 1
        if holder.verbose:
            logging.info("%s [verbose]: output change rates %s; predicted %s", holder.name,
                         holder.output_change_rates, holder.approx_output_change_rates)
        evaluated = max(steps - holder.total_steps_skipped, 1)
        logging.info("%s: reused the cache at %d of %d steps (%.2fx fewer evaluations)", holder.name,
                     holder.total_steps_skipped, steps, steps / evaluated)
        holder.reset()
        guider.model_options = original_options


def easycache_calc_cond_batch_wrapper(executor: Any, *args: Any, **kwargs: Any) -> Any:
    """CALC_COND_BATCH wrapper: each step starts undecided (the first conditioning decides for the others)."""
    model_options = args[-1] if args and isinstance(args[-1], dict) else kwargs["model_options"]
    model_options["transformer_options"][HOLDER_KEY].skip_current_step = False
    return executor(*args, **kwargs)


def easycache_forward_wrapper(executor: Any, *args: Any, **kwargs: Any) -> Any:
    """DIFFUSION_MODEL wrapper: (x, timesteps, ..., transformer_options) → the network's output, or the input
    plus the cached difference when the step is skipped. The first conditioning of the run (its uuid) decides
    for the step; conditionings evaluated in later calls of the same step follow its decision."""
    transformer_options = _transformer_options(args, kwargs)
    holder: EasyCacheHolder = transformer_options[HOLDER_KEY]
    x = args[0][:, :holder.output_channels]
    sigmas = transformer_options["sigmas"]
    uuids = transformer_options["uuids"]
    if holder.is_past_end_timestep(sigmas):
        return executor(*args, **kwargs)
    input_change = None
    if holder.in_window(sigmas):
        holder.check_metadata(x)
        if holder.skip_current_step and holder.has_cache_diff(uuids):
            return holder.apply_cache_diff(x, uuids)
        if holder.first_cond_uuid is None:
            holder.first_cond_uuid = uuids[0]
        if holder.first_cond_uuid in uuids:
            skip, input_change = holder.should_skip(holder.subsample(x, uuids))
            if skip and holder.has_cache_diff(uuids):
                holder.skip_current_step = True
                return holder.apply_cache_diff(x, uuids)
    output = executor(*args, **kwargs)
    holder.update_cache_diff(output, x, uuids)
    if holder.first_cond_uuid in uuids:
        holder.record(holder.subsample(x, uuids), output, holder.subsample(output, uuids), input_change)
    return output


def lazycache_predict_noise_wrapper(executor: Any, *args: Any, **kwargs: Any) -> Any:
    """PREDICT_NOISE wrapper: (x, sigma, model_options, seed) → the guider's prediction, or x plus the cached
    difference when the step is skipped."""
    x, sigmas = args[0], args[1]
    model_options = args[2] if len(args) > 2 else kwargs["model_options"]
    holder: LazyCacheHolder = model_options["transformer_options"][HOLDER_KEY]
    if holder.is_past_end_timestep(sigmas):
        return executor(*args, **kwargs)
    input_change = None
    if holder.in_window(sigmas):
        holder.check_metadata(x)
        skip, input_change = holder.should_skip(holder.subsample(x))
        if skip and holder.has_cache_diff():
            return holder.apply_cache_diff(x)
    output = executor(*args, **kwargs)
    holder.update_cache_diff(output, x)
    holder.record(holder.subsample(x), output, holder.subsample(output), input_change)
    return output


def _cache_inputs(name: str) -> list:
    return [
        io.Model.Input("model", tooltip=f"The model to add {name} to."),
        io.Float.Input("reuse_threshold", min=0.0, default=0.2, max=3.0, step=0.01,
                       tooltip="The threshold for reusing cached steps."),
        io.Float.Input("start_percent", min=0.0, default=0.15, max=1.0, step=0.01,
                       tooltip=f"The relative sampling step to begin use of {name}."),
        io.Float.Input("end_percent", min=0.0, default=0.95, max=1.0, step=0.01,
                       tooltip=f"The relative sampling step to end use of {name}."),
        io.Boolean.Input("verbose", default=False, tooltip="Whether to log verbose information."),
    ]


def _with_cache(model: Any, holder: Any, wrappers: dict[str, Any]) -> Any:
    """A clone of `model` whose transformer_options carry the cache `holder`, sampled inside
    `easycache_sample_wrapper` and with the cache's own `wrappers` ({wrapper type: function})."""
    patched = model.clone()
    patched.model_options.setdefault("transformer_options", {})[HOLDER_KEY] = holder
    patched.add_wrapper_with_key(comfy.patcher_extension.WrappersMP.OUTER_SAMPLE, HOLDER_KEY,
                                 easycache_sample_wrapper)
    for wrapper_type, wrapper in wrappers.items():
        patched.add_wrapper_with_key(wrapper_type, HOLDER_KEY, wrapper)
    return patched


class EasyCacheNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="EasyCache",
            display_name="EasyCache",
            description="Native EasyCache implementation.",
            category="advanced/debug/model",
            is_experimental=True,
            inputs=_cache_inputs("EasyCache"),
            outputs=[io.Model.Output(tooltip="The model with EasyCache.")])

    @classmethod
    def execute(cls, model: Any, reuse_threshold: float, start_percent: float, end_percent: float,
                verbose: bool) -> io.NodeOutput:
        wrappers = comfy.patcher_extension.WrappersMP
        return io.NodeOutput(_with_cache(model, EasyCacheHolder(
            reuse_threshold, start_percent, end_percent, subsample_factor=8, offload_cache_diff=False,
            verbose=verbose), {wrappers.CALC_COND_BATCH: easycache_calc_cond_batch_wrapper,
                               wrappers.DIFFUSION_MODEL: easycache_forward_wrapper}))


class LazyCacheNode(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LazyCache",
            display_name="LazyCache",
            description="A homebrew version of EasyCache - even 'easier' version of EasyCache to implement. "
                        "Overall works worse than EasyCache, but better in some rare cases AND universal "
                        "compatibility with everything in ComfyUI.",
            category="advanced/debug/model",
            is_experimental=True,
            inputs=_cache_inputs("LazyCache"),
            outputs=[io.Model.Output(tooltip="The model with LazyCache.")])

    @classmethod
    def execute(cls, model: Any, reuse_threshold: float, start_percent: float, end_percent: float,
                verbose: bool) -> io.NodeOutput:
        return io.NodeOutput(_with_cache(model, LazyCacheHolder(
            reuse_threshold, start_percent, end_percent, subsample_factor=8, offload_cache_diff=False,
            verbose=verbose), {comfy.patcher_extension.WrappersMP.PREDICT_NOISE: lazycache_predict_noise_wrapper}))


class EasyCacheExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [EasyCacheNode, LazyCacheNode]


def comfy_entrypoint() -> EasyCacheExtension:
    return EasyCacheExtension()
