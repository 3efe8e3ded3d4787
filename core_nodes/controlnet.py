"""ControlNet nodes: loading a ControlNet / T2I-Adapter / Control-LoRA (ControlNetLoader, DiffControlNetLoader)
and applying it to conditioning (ControlNetApply, ControlNetApplyAdvanced).

Applying puts a copy of the CONTROL_NET (sharing the loaded network) into every conditioning entry, chained to
the control the entry already had; sampling evaluates the chain at every step (comfy/guidance/control.py).
"""

from __future__ import annotations

from typing import Any

import folder_paths

_STRENGTH = {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01}
_PERCENT = {"min": 0.0, "max": 1.0, "step": 0.001}


def _controlnet_module():
    import comfy.controlnet  # diffusers on first use

    return comfy.controlnet


class ControlNetLoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"control_net_name": (folder_paths.get_filename_list("controlnet"),)}}

    RETURN_TYPES = ("CONTROL_NET",)
    FUNCTION = "load_controlnet"
    CATEGORY = "loaders"

    def load_controlnet(self, control_net_name):
        path = folder_paths.get_full_path_or_raise("controlnet", control_net_name)
        return (_controlnet_module().load_controlnet(path),)


class DiffControlNetLoader:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"model": ("MODEL",),
                             "control_net_name": (folder_paths.get_filename_list("controlnet"),)}}

    RETURN_TYPES = ("CONTROL_NET",)
    FUNCTION = "load_controlnet"
    CATEGORY = "loaders"

    def load_controlnet(self, model, control_net_name):
        path = folder_paths.get_full_path_or_raise("controlnet", control_net_name)
        return (_controlnet_module().load_controlnet(path, model),)


class ControlNetApply:
    """The old apply node: one conditioning, the whole sampling, and the control also guides the negative
    (`control_apply_to_uncond`)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"conditioning": ("CONDITIONING",), "control_net": ("CONTROL_NET",),
                             "image": ("IMAGE",), "strength": ("FLOAT", _STRENGTH)}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "apply_controlnet"
    DEPRECATED = True
    CATEGORY = "conditioning/controlnet"

    def apply_controlnet(self, conditioning, control_net, image, strength):
        if strength == 0:
            return (conditioning,)
        hint = image.movedim(-1, 1)
        output = []
        for tensor, options in conditioning:
            options = options.copy()
            control = control_net.copy().set_cond_hint(hint, strength)
            if "control" in options:
                control.set_previous_controlnet(options["control"])
            options["control"] = control
            options["control_apply_to_uncond"] = True
            output.append([tensor, options])
        return (output,)


def apply_control(positive: list, negative: list, control_net: Any, image, strength: float, start_percent: float,
                  end_percent: float, vae: Any = None, extra_concat: list | None = None) -> tuple[list, list]:
    """ControlNetApplyAdvanced's work: both conditionings get the control, one copy per control already there
    (entries that shared a chain share the new link)."""
    if strength == 0:
        return positive, negative
    hint = image.movedim(-1, 1)
    copies: dict[int, Any] = {}
    results = []
    for conditioning in (positive, negative):
        output = []
        for tensor, options in conditioning:
            options = options.copy()
            previous = options.get("control")
            control = copies.get(id(previous))
            if control is None:
                control = control_net.copy().set_cond_hint(hint, strength, (start_percent, end_percent), vae=vae,
                                                           extra_concat=extra_concat or [])
                control.set_previous_controlnet(previous)
                copies[id(previous)] = control
            options["control"] = control
            options["control_apply_to_uncond"] = False
            output.append([tensor, options])
        results.append(output)
    return results[0], results[1]


class ControlNetApplyAdvanced:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"positive": ("CONDITIONING",), "negative": ("CONDITIONING",),
                             "control_net": ("CONTROL_NET",), "image": ("IMAGE",),
                             "strength": ("FLOAT", _STRENGTH),
                             "start_percent": ("FLOAT", {"default": 0.0, **_PERCENT}),
                             "end_percent": ("FLOAT", {"default": 1.0, **_PERCENT})},
                "optional": {"vae": ("VAE",)}}

    RETURN_TYPES = ("CONDITIONING", "CONDITIONING")
    RETURN_NAMES = ("positive", "negative")
    FUNCTION = "apply_controlnet"
    CATEGORY = "conditioning/controlnet"

    def apply_controlnet(self, positive, negative, control_net, image, strength, start_percent, end_percent,
                         vae=None, extra_concat=None):
        return apply_control(positive, negative, control_net, image, strength, start_percent, end_percent, vae,
                             extra_concat)


NODE_CLASS_MAPPINGS = {
    "ControlNetLoader": ControlNetLoader,
    "DiffControlNetLoader": DiffControlNetLoader,
    "ControlNetApply": ControlNetApply,
    "ControlNetApplyAdvanced": ControlNetApplyAdvanced,
}
