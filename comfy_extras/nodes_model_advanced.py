"""Advanced model nodes: override how a model interprets its noise schedule and network output."""

from __future__ import annotations

import comfy.model_sampling

# The parameterisation each `sampling` choice selects; None marks ComfyUI choices Kiln's model library lacks.
_PARAMETERISATIONS: dict[str, type | None] = {
    "eps": comfy.model_sampling.EPS,
    "v_prediction": comfy.model_sampling.V_PREDICTION,
    "lcm": getattr(comfy.model_sampling, "LCM", None),
    "x0": comfy.model_sampling.X0,
    "img_to_img": getattr(comfy.model_sampling, "IMG_TO_IMG", None),
}


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
        patched = model.clone()
        patched.add_object_patch("model_sampling", model_sampling)
        return (patched,)


NODE_CLASS_MAPPINGS = {"ModelSamplingDiscrete": ModelSamplingDiscrete}

NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}
