"""ControlNet helper nodes: choosing a ControlNet-union's control type (SetUnionControlNetType) and applying an
inpainting ControlNet with its mask (ControlNetInpaintingAliMamaApply)."""

from __future__ import annotations

import comfy.utils
from comfy.guidance.sd_controlnet import UNION_CONTROLNET_TYPES
from core_nodes.controlnet import ControlNetApplyAdvanced

_STRENGTH = {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01}
_PERCENT = {"min": 0.0, "max": 1.0, "step": 0.001}


class SetUnionControlNetType:
    """A copy of the CONTROL_NET that a ControlNet-union runs as one control type ("auto": no type, the union
    guesses from the hint)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"control_net": ("CONTROL_NET",),
                             "type": (["auto", *UNION_CONTROLNET_TYPES],)}}

    CATEGORY = "conditioning/controlnet"
    RETURN_TYPES = ("CONTROL_NET",)
    FUNCTION = "set_controlnet_type"

    def set_controlnet_type(self, control_net, type):  # noqa: A002  (ComfyUI's input name)
        copied = control_net.copy()
        number = UNION_CONTROLNET_TYPES.get(type)
        copied.set_extra_arg("control_type", [] if number is None else [number])
        return (copied,)


class ControlNetInpaintingAliMamaApply(ControlNetApplyAdvanced):
    """ControlNetApplyAdvanced for inpainting nets that read a mask beside the image (Alimama's FLUX.1 net): the
    masked area of the image is blanked and the kept-area mask is appended to the encoded hint. Other nets get
    the image as it is."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"positive": ("CONDITIONING",), "negative": ("CONDITIONING",),
                             "control_net": ("CONTROL_NET",), "vae": ("VAE",), "image": ("IMAGE",),
                             "mask": ("MASK",), "strength": ("FLOAT", _STRENGTH),
                             "start_percent": ("FLOAT", {"default": 0.0, **_PERCENT}),
                             "end_percent": ("FLOAT", {"default": 1.0, **_PERCENT})}}

    FUNCTION = "apply_inpaint_controlnet"
    CATEGORY = "conditioning/controlnet"

    def apply_inpaint_controlnet(self, positive, negative, control_net, vae, image, mask, strength, start_percent,
                                 end_percent):
        extra_concat = []
        if control_net.concat_mask:
            keep = 1.0 - mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1]))
            # the image keeps only the unmasked pixels (the mask resized to the image, rounded to 0/1)
            keep_pixels = comfy.utils.common_upscale(keep, image.shape[2], image.shape[1], "bilinear",
                                                     "center").round()
            image = image * keep_pixels.movedim(1, -1).repeat(1, 1, 1, image.shape[3])
            extra_concat = [keep]
        return self.apply_controlnet(positive, negative, control_net, image, strength, start_percent, end_percent,
                                     vae=vae, extra_concat=extra_concat)


NODE_CLASS_MAPPINGS = {
    "SetUnionControlNetType": SetUnionControlNetType,
    "ControlNetInpaintingAliMamaApply": ControlNetInpaintingAliMamaApply,
}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}
