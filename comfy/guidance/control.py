"""ComfyUI's CONTROL_NET objects: a control network bound to a hint image, a strength and a step range.

ControlNetApply* nodes put a copy of the loaded control (`ControlNet.copy()`: the network and its patcher are
shared, the hint and settings are the copy's own) into each conditioning entry under `"control"`, chained to the
control that entry already had (`previous_controlnet`). Sampling calls `pre_run(model, percent_to_sigma)` once,
`get_control(x, sigma, conds, batched, transformer_options)` on every model call, and `cleanup()` at the end.
`get_control` evaluates the whole chain and returns ComfyUI's residual dict:

    {"input": [...], "middle": [...], "output": [...]}

lists of tensors (or None) in the order ComfyUI's networks pop them: for the SD UNet "output" holds one residual
per input block (added to the skip connections), "middle" one for the middle block and "input" the T2I-Adapter
features (popped from the end, so the last entry goes to the first input block); FLUX.1 reads "input" per double
block and "output" per single block, SD3 "output" per joint block. `unet_residual_kwargs`,
`flux_residual_kwargs` and `mmdit_residual_kwargs` turn that dict into the keyword arguments of the diffusers
networks Kiln runs.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable
from typing import Any

import torch

import comfy.model_management
import comfy.utils


class StrengthType(enum.Enum):
    """How `strength` scales the residuals: all alike, or (LINEAR_UP) residual i of n by strength ** (n - i)."""

    CONSTANT = 1
    LINEAR_UP = 2


def broadcast_image_to(tensor: torch.Tensor, target_batch_size: int, batched_number: int) -> torch.Tensor:
    """A hint batch fitted to a model batch of `target_batch_size` made of `batched_number` conditioning runs:
    each run gets the first `target // batched` hints (repeated when there are fewer)."""
    if tensor.shape[0] == 1:
        return tensor
    per_run = target_batch_size // batched_number
    tensor = tensor[:per_run]
    if per_run > tensor.shape[0]:
        whole, rest = divmod(per_run, tensor.shape[0])
        tensor = torch.cat([tensor] * whole + [tensor[:rest]], dim=0)
    if tensor.shape[0] == target_batch_size:
        return tensor
    return torch.cat([tensor] * batched_number, dim=0)


class ControlBase:
    """What every control shares: the hint, strength, step range and the chain to the previous control.

    `cond_hint_original` is the hint as given ([B, C, H, W], 0..1); `cond_hint` the hint resized (and, for
    latent-space nets, encoded) for the current latent, rebuilt when the latent size changes.
    `timestep_percent_range` (start, end) becomes the sigma range `timestep_range` in `pre_run`.
    """

    def __init__(self) -> None:
        self.cond_hint_original: torch.Tensor | None = None
        self.cond_hint: torch.Tensor | None = None
        self.strength = 1.0
        self.timestep_percent_range = (0.0, 1.0)
        self.latent_format: Any = None
        self.vae: Any = None
        self.global_average_pooling = False
        self.timestep_range: tuple[float, float] | None = None
        self.compression_ratio = 8
        self.upscale_algorithm = "nearest-exact"
        self.extra_args: dict[str, Any] = {}
        self.previous_controlnet: ControlBase | None = None
        self.extra_conds: list[str] = []
        self.strength_type = StrengthType.CONSTANT
        self.concat_mask = False
        self.extra_concat_orig: list[torch.Tensor] = []
        self.extra_concat: Any = None
        self.extra_hooks: Any = None
        self.preprocess_image: Callable[[torch.Tensor], torch.Tensor] = _unchanged
        # The model family the network was made for (None: any), checked against the sampled model in pre_run.
        self.made_for: str | None = None

    # -- settings -------------------------------------------------------------------------------------------

    def set_cond_hint(self, cond_hint: torch.Tensor, strength: float = 1.0,
                      timestep_percent_range: tuple[float, float] = (0.0, 1.0), vae: Any = None,
                      extra_concat: list[torch.Tensor] | None = None) -> ControlBase:
        """Bind the hint [B, C, H, W] (0..1), strength and (start, end) fractions of the sampling; `vae` encodes
        the hint for latent-space nets; `extra_concat` adds channels to it (the inpainting nets' mask)."""
        self.cond_hint_original = cond_hint
        self.strength = strength
        self.timestep_percent_range = timestep_percent_range
        if self.latent_format is not None:
            if vae is None:
                logging.warning("This ControlNet works on latents and needs a VAE: connect one to the apply node.")
            self.vae = vae
        self.extra_concat_orig = list(extra_concat or [])
        if self.concat_mask and not self.extra_concat_orig:
            self.extra_concat_orig.append(torch.tensor([[[[1.0]]]]))
        return self

    def set_previous_controlnet(self, controlnet: ControlBase | None) -> ControlBase:
        self.previous_controlnet = controlnet
        return self

    def set_extra_arg(self, argument: str, value: Any = None) -> None:
        self.extra_args[argument] = value

    def copy_to(self, other: ControlBase) -> None:
        """Give `other` this control's settings (the hint too; not the chain)."""
        other.cond_hint_original = self.cond_hint_original
        other.strength = self.strength
        other.timestep_percent_range = self.timestep_percent_range
        other.global_average_pooling = self.global_average_pooling
        other.compression_ratio = self.compression_ratio
        other.upscale_algorithm = self.upscale_algorithm
        other.latent_format = self.latent_format
        other.extra_args = dict(self.extra_args)
        other.vae = self.vae
        other.extra_conds = list(self.extra_conds)
        other.strength_type = self.strength_type
        other.concat_mask = self.concat_mask
        other.extra_concat_orig = list(self.extra_concat_orig)
        other.extra_hooks = self.extra_hooks.clone() if self.extra_hooks else None
        other.preprocess_image = self.preprocess_image
        other.made_for = self.made_for

    # -- a sampling run ---------------------------------------------------------------------------------------

    def pre_run(self, model: Any, percent_to_timestep_function: Callable[[float], float]) -> None:
        """Before sampling: turn the percent range into sigmas, for this control and the ones it chains to."""
        check_family(self, model)
        self.timestep_range = (percent_to_timestep_function(self.timestep_percent_range[0]),
                               percent_to_timestep_function(self.timestep_percent_range[1]))
        if self.previous_controlnet is not None:
            self.previous_controlnet.pre_run(model, percent_to_timestep_function)

    def cleanup(self) -> None:
        """After sampling: drop what the run computed (the resized hint)."""
        if self.previous_controlnet is not None:
            self.previous_controlnet.cleanup()
        self.cond_hint = None
        self.extra_concat = None
        self.timestep_range = None

    def get_models(self) -> list[Any]:
        """The model patchers sampling must load with the diffusion model (the chain's networks)."""
        return self.previous_controlnet.get_models() if self.previous_controlnet is not None else []

    def get_extra_hooks(self) -> list[Any]:
        hooks = [self.extra_hooks] if self.extra_hooks is not None else []
        if self.previous_controlnet is not None:
            hooks += self.previous_controlnet.get_extra_hooks()
        return hooks

    def inference_memory_requirements(self, dtype: torch.dtype) -> int:
        """Bytes the chain needs beyond its loaded weights while it runs."""
        if self.previous_controlnet is not None:
            return self.previous_controlnet.inference_memory_requirements(dtype)
        return 0

    def outside_range(self, sigma: torch.Tensor) -> bool:
        """Whether the current sigma lies outside this control's step range (it then contributes nothing)."""
        if self.timestep_range is None:
            return False
        return bool(sigma[0] > self.timestep_range[0] or sigma[0] < self.timestep_range[1])

    def control_merge(self, control: dict[str, list], control_prev: dict[str, list] | None,
                      output_dtype: torch.dtype | None) -> dict[str, list]:
        """This control's residuals scaled by its strength (averaged over the image first with global average
        pooling), plus the previous controls' residuals entry by entry."""
        out: dict[str, list] = {"input": [], "middle": [], "output": []}
        for key, residuals in control.items():
            scaled: set[int] = set()  # a tensor listed twice (FLUX.1's repeated blocks) is scaled once
            for index, residual in enumerate(residuals):
                if residual is not None:
                    if self.global_average_pooling:
                        residual = torch.mean(residual, dim=(2, 3), keepdim=True).repeat(
                            1, 1, residual.shape[2], residual.shape[3])
                    if id(residual) not in scaled:
                        scaled.add(id(residual))
                        if self.strength_type == StrengthType.CONSTANT:
                            residual *= self.strength
                        elif self.strength_type == StrengthType.LINEAR_UP:
                            residual *= self.strength ** float(len(residuals) - index)
                    if output_dtype is not None and residual.dtype != output_dtype:
                        residual = residual.to(output_dtype)
                out[key].append(residual)
        if control_prev is not None:
            for key in ("input", "middle", "output"):
                merged = out[key]
                for index, previous in enumerate(control_prev.get(key, [])):
                    if index >= len(merged):
                        merged.append(previous)
                    elif previous is not None:
                        merged[index] = previous if merged[index] is None else previous + merged[index]
        return out

    def get_control(self, x_noisy: torch.Tensor, t: torch.Tensor, cond: dict[str, Any], batched_number: int,
                    transformer_options: dict[str, Any]) -> dict[str, list] | None:
        raise NotImplementedError


def _unchanged(image: torch.Tensor) -> torch.Tensor:
    return image


class ControlNet(ControlBase):
    """A control network run on the noisy latent at every step it is active.

    control_model: a module called as `control_model(x=, hint=, timesteps=, context=, **extra)` that returns
    the residual dict (the `comfy.guidance` network wrappers); it has `dtype`. compression_ratio: pixels per
    latent pixel of the hint (8; 1 for nets that read the hint's latent). latent_format: set for nets that read
    the VAE-encoded hint (SD3, FLUX.1 InstantX). extra_conds: the model inputs passed on (SDXL's pooled and
    size embedding, FLUX.1's pooled vector and guidance).
    """

    def __init__(self, control_model: Any = None, global_average_pooling: bool = False, compression_ratio: int = 8,
                 latent_format: Any = None, load_device: torch.device | None = None,
                 manual_cast_dtype: torch.dtype | None = None, extra_conds: list[str] | None = None,
                 strength_type: StrengthType = StrengthType.CONSTANT, concat_mask: bool = False,
                 preprocess_image: Callable[[torch.Tensor], torch.Tensor] = _unchanged):
        super().__init__()
        self.control_model = control_model
        self.load_device = load_device or comfy.model_management.get_torch_device()
        self.control_model_wrapped = None
        if control_model is not None:
            from comfy.model_patcher import ModelPatcher

            self.control_model_wrapped = ModelPatcher(control_model, load_device=self.load_device,
                                                      offload_device=comfy.model_management.unet_offload_device())
        self.compression_ratio = compression_ratio
        self.global_average_pooling = global_average_pooling
        self.model_sampling_current: Any = None
        self.manual_cast_dtype = manual_cast_dtype
        self.latent_format = latent_format
        self.extra_conds += list(extra_conds) if extra_conds is not None else ["y"]
        self.strength_type = strength_type
        self.concat_mask = concat_mask
        self.preprocess_image = preprocess_image

    def compute_dtype(self) -> torch.dtype:
        return self.manual_cast_dtype or self.control_model.dtype

    def prepare_hint(self, x_noisy: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The hint for a latent shaped like `x_noisy`: resized to its pixel size (centre crop), preprocessed,
        VAE-encoded and put in model space for latent-space nets, with the extra channels appended."""
        compression_ratio = self.compression_ratio
        if self.vae is not None:
            compression_ratio *= self.vae.spacial_compression_encode()
        elif self.latent_format is not None:
            raise ValueError("This ControlNet needs a VAE but none was provided: use an apply node with a vae input "
                             "(ControlNetApplyAdvanced, ControlNetApplySD3) and connect one.")
        hint = comfy.utils.common_upscale(self.cond_hint_original, x_noisy.shape[-1] * compression_ratio,
                                          x_noisy.shape[-2] * compression_ratio, self.upscale_algorithm, "center")
        hint = self.preprocess_image(hint)
        if self.vae is not None:
            hint = self.vae.encode(hint.movedim(1, -1))
        if self.latent_format is not None:
            hint = self.latent_format.process_in(hint)
        if self.extra_concat_orig:
            extra = []
            for channels in self.extra_concat_orig:
                channels = comfy.utils.common_upscale(channels.to(hint.device), hint.shape[-1], hint.shape[-2],
                                                      self.upscale_algorithm, "center")
                extra.append(comfy.utils.repeat_to_batch_size(channels, hint.shape[0]))
            hint = torch.cat([hint, *extra], dim=1)
        return hint.to(device=x_noisy.device, dtype=dtype)

    def get_control(self, x_noisy, t, cond, batched_number, transformer_options):
        control_prev = None
        if self.previous_controlnet is not None:
            control_prev = self.previous_controlnet.get_control(x_noisy, t, cond, batched_number,
                                                                transformer_options)
        if self.outside_range(t):
            return control_prev
        dtype = self.compute_dtype()
        ratio = self.compression_ratio
        if (self.cond_hint is None or x_noisy.shape[2] * ratio != self.cond_hint.shape[2]
                or x_noisy.shape[3] * ratio != self.cond_hint.shape[3]):
            self.cond_hint = self.prepare_hint(x_noisy, dtype)
        if x_noisy.shape[0] != self.cond_hint.shape[0]:
            self.cond_hint = broadcast_image_to(self.cond_hint, x_noisy.shape[0], batched_number)
        context = cond.get("crossattn_controlnet", cond["c_crossattn"])
        extra = dict(self.extra_args)
        for name in self.extra_conds:
            value = cond.get(name)
            if value is not None:
                extra[name] = value.to(device=x_noisy.device, dtype=dtype) if isinstance(value, torch.Tensor) \
                    else value
        timestep = self.model_sampling_current.timestep(t)
        x_input = self.model_sampling_current.calculate_input(t, x_noisy)
        control = self.control_model(x=x_input.to(dtype), hint=self.cond_hint, timesteps=timestep.to(dtype),
                                     context=context.to(device=x_noisy.device, dtype=dtype), **extra)
        return self.control_merge(control, control_prev, output_dtype=None)

    def copy(self) -> ControlNet:
        copied = type(self).__new__(type(self))
        ControlNet.__init__(copied, None, global_average_pooling=self.global_average_pooling,
                            load_device=self.load_device, manual_cast_dtype=self.manual_cast_dtype)
        copied.control_model = self.control_model
        copied.control_model_wrapped = self.control_model_wrapped
        self.copy_to(copied)
        return copied

    def get_models(self) -> list[Any]:
        models = super().get_models()
        if self.control_model_wrapped is not None:
            models.append(self.control_model_wrapped)
        return models

    def pre_run(self, model, percent_to_timestep_function):
        super().pre_run(model, percent_to_timestep_function)
        self.model_sampling_current = model.model_sampling

    def cleanup(self) -> None:
        self.model_sampling_current = None
        super().cleanup()


class T2IAdapter(ControlBase):
    """A T2I-Adapter: a small network run once on the hint, whose features are added in the UNet's input
    blocks at every active step. t2i_model: the adapter module (returns the residual dict, has
    `unshuffle_amount` and `input_channels`)."""

    def __init__(self, t2i_model: Any, channels_in: int, compression_ratio: int = 8,
                 upscale_algorithm: str = "nearest-exact", device: torch.device | None = None):
        super().__init__()
        self.t2i_model = t2i_model
        self.channels_in = channels_in
        self.control_input: dict[str, list] | None = None
        self.compression_ratio = compression_ratio
        self.upscale_algorithm = upscale_algorithm
        self.device = device or comfy.model_management.get_torch_device()

    def scale_image_to(self, width: int, height: int) -> tuple[int, int]:
        """The hint size for a latent of width x height pixels: rounded up to the adapter's pixel unshuffle."""
        unshuffle = self.t2i_model.unshuffle_amount
        return math.ceil(width / unshuffle) * unshuffle, math.ceil(height / unshuffle) * unshuffle

    def get_control(self, x_noisy, t, cond, batched_number, transformer_options):
        control_prev = None
        if self.previous_controlnet is not None:
            control_prev = self.previous_controlnet.get_control(x_noisy, t, cond, batched_number,
                                                                transformer_options)
        if self.outside_range(t):
            return control_prev
        ratio = self.compression_ratio
        if (self.cond_hint is None or x_noisy.shape[2] * ratio != self.cond_hint.shape[2]
                or x_noisy.shape[3] * ratio != self.cond_hint.shape[3]):
            self.control_input = None
            width, height = self.scale_image_to(x_noisy.shape[3] * ratio, x_noisy.shape[2] * ratio)
            self.cond_hint = comfy.utils.common_upscale(self.cond_hint_original, width, height,
                                                        self.upscale_algorithm, "center").float().to(self.device)
            if self.channels_in == 1 and self.cond_hint.shape[1] > 1:
                self.cond_hint = torch.mean(self.cond_hint, 1, keepdim=True)
        if x_noisy.shape[0] != self.cond_hint.shape[0]:
            self.cond_hint = broadcast_image_to(self.cond_hint, x_noisy.shape[0], batched_number)
        if self.control_input is None:
            self.t2i_model.to(device=self.device, dtype=x_noisy.dtype)
            self.control_input = self.t2i_model(self.cond_hint.to(x_noisy.dtype))
            self.t2i_model.to(comfy.model_management.unet_offload_device())
        control_input = {key: [None if value is None else value.clone() for value in values]
                         for key, values in self.control_input.items()}
        return self.control_merge(control_input, control_prev, x_noisy.dtype)

    def copy(self) -> T2IAdapter:
        copied = T2IAdapter(self.t2i_model, self.channels_in, self.compression_ratio, self.upscale_algorithm,
                            self.device)
        self.copy_to(copied)
        return copied

    def cleanup(self) -> None:
        self.control_input = None
        super().cleanup()


# --- family checks -------------------------------------------------------------------------------------------


class ControlFamilyError(ValueError):
    """A control network made for another model family than the one being sampled."""


def check_family(control: ControlBase, model: Any) -> None:
    """Raise ControlFamilyError naming both families when `control` was made for another family than `model`."""
    from comfy.guidance import formats

    if control.made_for is None:
        return
    model_family = getattr(model, "family", None)
    model_group = formats.family_group(model_family) if model_family else None
    if model_group is not None and model_group != control.made_for:
        raise ControlFamilyError(
            f"This {type(control).__name__} was made for {control.made_for} models, but the model being sampled is "
            f"{model_group} ({model_family}): load a control network made for {model_group}.")


# --- residuals into the diffusers networks ---------------------------------------------------------------


def _zero_if_none(value: torch.Tensor | None) -> torch.Tensor:
    # diffusers adds every residual it is given; a 0-d zero broadcasts to any shape
    return value if value is not None else torch.zeros(())


def unet_residual_kwargs(control: dict[str, list] | None, batch_size: int | None = None) -> dict[str, Any]:
    """The `UNet2DConditionModel` keyword arguments for ComfyUI's residual dict: "output" (one per input block,
    added to the skip connections) -> `down_block_additional_residuals`, "middle" ->
    `mid_block_additional_residual`, the T2I-Adapter's "input" features (added at the end of each level) ->
    `down_intrablock_additional_residuals`, with an adapter's middle feature last when there is no ControlNet.
    `batch_size`: the UNet's batch, to which an adapter's features (computed once for a one-image hint) are
    expanded (diffusers adds the middle feature only when its shape equals the sample's; ComfyUI broadcasts)."""
    if not control:
        return {}
    kwargs: dict[str, Any] = {}
    output = list(control.get("output") or [])
    middle = [value for value in control.get("middle") or [] if value is not None]
    intrablock = [value for value in reversed(control.get("input") or []) if value is not None]
    if output:
        kwargs["down_block_additional_residuals"] = tuple(_zero_if_none(value) for value in output)
        kwargs["mid_block_additional_residual"] = middle[-1] if middle else torch.zeros(())
    elif middle:
        intrablock.append(middle[-1])
    if intrablock:
        if batch_size is not None:
            intrablock = [value.expand(batch_size, *value.shape[1:]) if value.shape[0] == 1 else value
                          for value in intrablock]
        kwargs["down_intrablock_additional_residuals"] = intrablock
    return kwargs


def flux_residual_kwargs(control: dict[str, list] | None, double_blocks: int, single_blocks: int
                         ) -> dict[str, Any]:
    """The `FluxTransformer2DModel` keyword arguments for ComfyUI's residual dict: "input" entry i is added
    after double block i, "output" entry i after single block i (to the image tokens)."""
    if not control:
        return {}
    kwargs: dict[str, Any] = {}
    double = list(control.get("input") or [])[:double_blocks]
    single = list(control.get("output") or [])[:single_blocks]
    if double:
        double += [None] * (double_blocks - len(double))
        kwargs["controlnet_block_samples"] = [_zero_if_none(value) for value in double]
    if single:
        single += [None] * (single_blocks - len(single))
        kwargs["controlnet_single_block_samples"] = [_zero_if_none(value) for value in single]
    return kwargs


def mmdit_residual_kwargs(control: dict[str, list] | None, joint_blocks: int) -> dict[str, Any]:
    """The `SD3Transformer2DModel` keyword arguments for ComfyUI's residual dict: "output" entry i is added
    to the image tokens after joint block i."""
    if not control:
        return {}
    output = list(control.get("output") or [])[:joint_blocks]
    if not output:
        return {}
    output += [None] * (joint_blocks - len(output))
    return {"block_controlnet_hidden_states": [_zero_if_none(value) for value in output]}
