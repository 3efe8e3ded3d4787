"""Advanced model nodes: override how a model interprets its noise schedule and network output, rescale its
classifier-free guidance (RescaleCFG), and pick the dtype its network computes in (ModelComputeDtype)."""

from __future__ import annotations

import torch

import comfy.latent_formats
import comfy.model_sampling
from nodes import MAX_RESOLUTION


def _implemented(name: str) -> type | None:
    """comfy.model_sampling's class `name`, None when Kiln lacks it (absent, or only a face that raises)."""
    value = getattr(comfy.model_sampling, name, None)
    return None if value is None or getattr(value, "__kiln_unsupported__", None) else value


# The parameterisation each `sampling` choice selects; None marks ComfyUI choices Kiln's model library lacks.
_PARAMETERISATIONS: dict[str, type | None] = {
    "eps": comfy.model_sampling.EPS,
    "v_prediction": comfy.model_sampling.V_PREDICTION,
    "lcm": _implemented("LCM"),
    "x0": comfy.model_sampling.X0,
    "img_to_img": _implemented("IMG_TO_IMG"),
}


def _patched_with_sampling(model, model_sampling):
    """A clone of the model patcher `model` that samples with `model_sampling`; the original is untouched."""
    patched = model.clone()
    patched.add_object_patch("model_sampling", model_sampling)
    return patched


class ModelSamplingDiscrete:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "sampling": (list(_PARAMETERISATIONS), {"tooltip": "What the network predicts: noise (eps), "
                                                               "velocity (v_prediction), or the clean image."}),
            "zsnr": ("BOOLEAN", {"default": False, "tooltip": "Rescale the schedule to zero terminal SNR."}),
        }}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "advanced/model"

    def patch(self, model, sampling, zsnr):
        parameterisation = _PARAMETERISATIONS.get(sampling)
        if parameterisation is None:
            supported = [name for name, value in _PARAMETERISATIONS.items() if value is not None]
            raise ValueError(f"ModelSamplingDiscrete: sampling {sampling!r} is not supported by Kiln yet; "
                             f"choose one of {supported}.")
        schedule = comfy.model_sampling.ModelSamplingDiscrete
        if sampling == "lcm":
            schedule = getattr(comfy.model_sampling, "ModelSamplingDiscreteDistilled", schedule)
        sampling_class = comfy.model_sampling.model_sampling_class(parameterisation, schedule)
        model_sampling = sampling_class(getattr(model.model, "model_config", None), zsnr=zsnr)
        model_sampling.zsnr = zsnr  # read by CheckpointSave, which then marks the file with a `ztsnr` key
        return (_patched_with_sampling(model, model_sampling),)


class ModelSamplingSD3:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "shift": ("FLOAT", {"default": 3.0, "min": 0.0, "max": 100.0, "step": 0.01,
                                "tooltip": "Timestep shift: higher values spend more of the steps at high noise."}),
        }}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "advanced/model"
    DESCRIPTION = "Samples the model as a rectified-flow model (SD3's schedule) with the given timestep shift."

    def patch(self, model, shift, multiplier=1000):
        sampling_class = comfy.model_sampling.model_sampling_class(comfy.model_sampling.CONST,
                                                                   comfy.model_sampling.ModelSamplingDiscreteFlow)
        model_sampling = sampling_class(getattr(model.model, "model_config", None))
        model_sampling.set_parameters(shift=shift, multiplier=multiplier)
        return (_patched_with_sampling(model, model_sampling),)


class ModelSamplingAuraFlow(ModelSamplingSD3):
    """ModelSamplingSD3 with timesteps in 0..1 (multiplier 1): the schedule of AuraFlow, and the node ComfyUI's
    Qwen-Image, Chroma and Lumina 2 templates shift with."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "shift": ("FLOAT", {"default": 1.73, "min": 0.0, "max": 100.0, "step": 0.01}),
        }}

    FUNCTION = "patch_aura"
    DESCRIPTION = ""

    def patch_aura(self, model, shift):
        return self.patch(model, shift, multiplier=1.0)


def flux_resolution_shift(max_shift: float, base_shift: float, width: int, height: int) -> float:
    """Flux's resolution-dependent shift for an image of `width` x `height` pixels: linear in its image-token count
    `width*height/256` (one token per 2x2 patch of the 1/8-size latent), through (256 tokens, base_shift) and
    (4096 tokens, max_shift); it extrapolates outside that range (64x64 gives 0.459375 for 1.15 / 0.5)."""
    low_tokens, high_tokens = 256, 4096
    slope = (max_shift - base_shift) / (high_tokens - low_tokens)
    intercept = base_shift - slope * low_tokens
    return (width * height / (8 * 8 * 2 * 2)) * slope + intercept


class ModelSamplingFlux:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "max_shift": ("FLOAT", {"default": 1.15, "min": 0.0, "max": 100.0, "step": 0.01,
                                    "tooltip": "Shift at 4096 image tokens (1024x1024)."}),
            "base_shift": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 100.0, "step": 0.01,
                                     "tooltip": "Shift at 256 image tokens (256x256)."}),
            "width": ("INT", {"default": 1024, "min": 16, "max": MAX_RESOLUTION, "step": 8,
                              "tooltip": "Width of the image to generate, in pixels."}),
            "height": ("INT", {"default": 1024, "min": 16, "max": MAX_RESOLUTION, "step": 8,
                               "tooltip": "Height of the image to generate, in pixels."}),
        }}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "advanced/model"
    DESCRIPTION = "Samples the model with Flux's schedule, its shift set by the image size."

    def patch(self, model, max_shift, base_shift, width, height):
        sampling_class = comfy.model_sampling.model_sampling_class(comfy.model_sampling.CONST,
                                                                   comfy.model_sampling.ModelSamplingFlux)
        model_sampling = sampling_class(getattr(model.model, "model_config", None))
        model_sampling.set_parameters(shift=flux_resolution_shift(max_shift, base_shift, width, height))
        return (_patched_with_sampling(model, model_sampling),)


# sampling choice -> (parameterisation, sigma_data, latent format or None); None marks choices Kiln lacks
_CONTINUOUS_EDM_CHOICES: dict[str, tuple[type, float, type | None] | None] = {
    "v_prediction": (comfy.model_sampling.V_PREDICTION, 1.0, None),
    "edm": (comfy.model_sampling.EDM, 0.5, None),
    "edm_playground_v2.5": (comfy.model_sampling.EDM, 0.5, comfy.latent_formats.SDXL_Playground_2_5),
    "eps": (comfy.model_sampling.EPS, 1.0, None),
    "cosmos_rflow": None,
}


def _continuous_sampling(model, node: str, schedule: type, choice: tuple[type, float, type | None] | None,
                         sampling: str, sigma_max: float, sigma_min: float):
    if choice is None:
        raise ValueError(f"{node}: sampling {sampling!r} is not supported by Kiln yet (it needs the Cosmos "
                         f"rectified-flow schedule); choose another sampling.")
    parameterisation, sigma_data, latent_format = choice
    model_sampling = comfy.model_sampling.model_sampling_class(parameterisation, schedule)(
        getattr(model.model, "model_config", None))
    model_sampling.set_parameters(sigma_min, sigma_max, sigma_data)
    patched = _patched_with_sampling(model, model_sampling)
    if latent_format is not None:
        patched.add_object_patch("latent_format", latent_format())
    return patched


class ModelSamplingContinuousEDM:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "sampling": (list(_CONTINUOUS_EDM_CHOICES),),
            "sigma_max": ("FLOAT", {"default": 120.0, "min": 0.0, "max": 1000.0, "step": 0.001, "round": False}),
            "sigma_min": ("FLOAT", {"default": 0.002, "min": 0.0, "max": 1000.0, "step": 0.001, "round": False}),
        }}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "advanced/model"

    def patch(self, model, sampling, sigma_max, sigma_min):
        return (_continuous_sampling(model, "ModelSamplingContinuousEDM",
                                     comfy.model_sampling.ModelSamplingContinuousEDM,
                                     _CONTINUOUS_EDM_CHOICES.get(sampling), sampling, sigma_max, sigma_min),)


class ModelSamplingContinuousV:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "sampling": (["v_prediction"],),
            "sigma_max": ("FLOAT", {"default": 500.0, "min": 0.0, "max": 1000.0, "step": 0.001, "round": False}),
            "sigma_min": ("FLOAT", {"default": 0.03, "min": 0.0, "max": 1000.0, "step": 0.001, "round": False}),
        }}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "advanced/model"

    def patch(self, model, sampling, sigma_max, sigma_min):
        choice = (comfy.model_sampling.V_PREDICTION, 1.0, None) if sampling == "v_prediction" else None
        return (_continuous_sampling(model, "ModelSamplingContinuousV", comfy.model_sampling.ModelSamplingContinuousV,
                                     choice, sampling, sigma_max, sigma_min),)


def rescaled_cfg(args: dict, multiplier: float) -> torch.Tensor:
    """The `sampler_cfg_function` of RescaleCFG (Lin et al. 2024, "Common Diffusion Noise Schedules and Sample
    Steps are Flawed", section 3.4): CFG done on v-predictions, its result rescaled per sample to the standard
    deviation of the conditional v-prediction, blended with the plain result by `multiplier`. Returns the noise
    prediction (x - denoised) that CFG expects, `[B, C, H, W]`."""
    cond, uncond = args["cond"], args["uncond"]
    cond_scale = args["cond_scale"]
    x_orig = args["input"]
    sigma = args["sigma"]
    sigma = sigma.view(sigma.shape[:1] + (1,) * (cond.ndim - 1))
    # the eps-model's input scaled to unit variance, and the v-predictions of both passes
    x = x_orig / (sigma * sigma + 1.0)
    cond = ((x - (x_orig - cond)) * (sigma ** 2 + 1.0) ** 0.5) / sigma
    uncond = ((x - (x_orig - uncond)) * (sigma ** 2 + 1.0) ** 0.5) / sigma
    guided = uncond + cond_scale * (cond - uncond)
    dims = list(range(1, cond.ndim))
    rescaled = guided * (cond.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True))
    blended = multiplier * rescaled + (1.0 - multiplier) * guided
    return x_orig - (x - blended * sigma / (sigma * sigma + 1.0) ** 0.5)


class RescaleCFG:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {
            "model": ("MODEL",),
            "multiplier": ("FLOAT", {"default": 0.7, "min": 0.0, "max": 1.0, "step": 0.01}),
        }}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "advanced/model"

    def patch(self, model, multiplier):
        patched = model.clone()
        patched.set_model_sampler_cfg_function(lambda args: rescaled_cfg(args, multiplier))
        return (patched,)


# ModelComputeDtype's choices; None: the dtype the model was loaded to compute in.
COMPUTE_DTYPES: dict[str, torch.dtype | None] = {
    "default": None, "fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class ModelComputeDtype:
    """A clone of the model whose network computes in another dtype: its input, text context and every layer's
    weights are cast to it per call (the stored weights are unchanged), and its output is read back in float32."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",), "dtype": (list(COMPUTE_DTYPES),)}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "patch"
    CATEGORY = "advanced/debug/model"

    def patch(self, model, dtype):
        patched = model.clone()
        patched.set_model_compute_dtype(COMPUTE_DTYPES[dtype])
        return (patched,)


NODE_CLASS_MAPPINGS = {
    "ModelSamplingDiscrete": ModelSamplingDiscrete,
    "ModelSamplingSD3": ModelSamplingSD3,
    "ModelSamplingAuraFlow": ModelSamplingAuraFlow,
    "ModelSamplingFlux": ModelSamplingFlux,
    "ModelSamplingContinuousEDM": ModelSamplingContinuousEDM,
    "ModelSamplingContinuousV": ModelSamplingContinuousV,
    "RescaleCFG": RescaleCFG,
    "ModelComputeDtype": ModelComputeDtype,
}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402, F401 - ComfyUI's public name here

_REASON = 'Kiln does not implement this `nodes_model_advanced` node yet'

from comfy.model_sampling import LCM, ModelSamplingDiscreteDistilled  # noqa: E402, F401 - ComfyUI's public name here

ModelSamplingStableCascade = unsupported_class(__name__, 'ModelSamplingStableCascade', None, _REASON)
