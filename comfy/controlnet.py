"""ComfyUI's `comfy.controlnet`: loading ControlNets, T2I-Adapters and Control-LoRAs, and the CONTROL_NET objects
custom nodes build on (`ControlBase`, `ControlNet`, `T2IAdapter`, `ControlLora`, `StrengthType`).

A thin face over `comfy.guidance`: `formats` recognises the file, the family modules build the network
(`sd_controlnet`, `t2i_adapter`, `mmdit_controlnet`, `flux_controlnet`), `control` holds the objects.
"""

from __future__ import annotations

import os
from typing import Any

import torch

import comfy.model_management
import comfy.utils
from comfy.guidance import formats
from comfy.guidance.control import (
    ControlBase,
    ControlFamilyError,
    ControlNet,
    StrengthType,
    T2IAdapter,
    broadcast_image_to,
)
from comfy.guidance.sd_controlnet import UNION_CONTROLNET_TYPES, ControlLora

__all__ = ["ControlBase", "ControlFamilyError", "ControlLora", "ControlNet", "StrengthType", "T2IAdapter",
           "UNION_CONTROLNET_TYPES", "broadcast_image_to", "load_controlnet", "load_controlnet_state_dict",
           "load_t2i_adapter"]


def _network_dtype() -> torch.dtype:
    """The dtype control networks are held in: the diffusion models' (fp32 on the CPU, fp16 on a GPU)."""
    return comfy.model_management.unet_dtype(comfy.model_management.get_torch_device())


def load_controlnet_state_dict(state_dict: dict[str, Any], model: Any = None, model_options: dict | None = None,
                               source_name: str = "ControlNet") -> ControlBase:
    """The CONTROL_NET of a ControlNet / T2I-Adapter / Control-LoRA state dict, its format recognised from its
    keys. `model` (DiffControlNetLoader) is the model a "difference" ControlNet's deltas are added to.
    Raises `formats.GuidanceFormatError` for other files."""
    model_options = model_options or {}
    control = formats.detect_control(state_dict)
    dtype = model_options.get("dtype") or _network_dtype()
    if control.kind == "control_lora":
        control_lora = ControlLora(control.state_dict, model_options=model_options)
        control_lora.made_for = formats.control_lora_family_group(control.state_dict)
        return control_lora
    if control.kind in ("sd_original", "sd_diffusers", "sd_union"):
        from comfy.guidance import sd_controlnet

        if control.kind == "sd_original" and "difference" in control.state_dict:
            control = formats.ControlFormat(control.kind, _add_model_weights(control.state_dict, model, source_name),
                                            control.prefix)
        loaded: ControlNet = sd_controlnet.load(control, source_name, dtype)
        loaded.global_average_pooling = bool(model_options.get("global_average_pooling", False))
        return loaded
    if control.kind in ("sd3_diffusers", "sd35"):
        from comfy.guidance import mmdit_controlnet

        return mmdit_controlnet.load(control, source_name, dtype)
    if control.kind in ("flux_xlabs", "flux_mistoline", "flux_instantx"):
        from comfy.guidance import flux_controlnet

        return flux_controlnet.load(control, source_name, dtype)
    return load_t2i_adapter(control.state_dict, model_options, source_name, kind=control.kind)


def load_t2i_adapter(t2i_data: dict[str, Any], model_options: dict | None = None, source_name: str = "T2I-Adapter",
                     kind: str | None = None) -> T2IAdapter:
    """A T2I-Adapter CONTROL_NET from its state dict (TencentARC's or diffusers' names)."""
    from comfy.guidance import t2i_adapter

    if kind is None:
        detected = formats.detect_t2i_adapter(dict(t2i_data))
        kind, t2i_data = detected.kind, detected.state_dict
    network = t2i_adapter.load(kind, t2i_data, source_name, dtype=torch.float32)
    adapter = T2IAdapter(network, network.input_channels)
    adapter.made_for = "SDXL" if kind == "t2i_xl" else "SD1.x"
    return adapter


def load_controlnet(ckpt_path: str, model: Any = None, model_options: dict | None = None) -> ControlBase:
    """ControlNetLoader / DiffControlNetLoader: the CONTROL_NET in a file. Like ComfyUI, a file whose name ends in
    `_shuffle` pools its residuals over the image (the shuffle ControlNet's global average pooling)."""
    options = dict(model_options or {})
    if "global_average_pooling" not in options:
        stem = os.path.splitext(ckpt_path)[0]
        if stem.endswith("_shuffle") or stem.endswith("_shuffle_fp16"):
            options["global_average_pooling"] = True
    state_dict = comfy.utils.load_torch_file(ckpt_path, safe_load=True)
    return load_controlnet_state_dict(state_dict, model=model, model_options=options,
                                      source_name=os.path.basename(ckpt_path))


def _add_model_weights(control_weights: dict[str, torch.Tensor], model: Any, source_name: str
                       ) -> dict[str, torch.Tensor]:
    """A "difference" ControlNet (DiffControlNetLoader): each control weight plus the model's UNet weight of the
    same original name."""
    import logging

    from comfy.families.unet import unet_ldm_names

    if model is None:
        logging.warning("%s is a difference ControlNet but no model was given: it will very likely not work "
                        "(load it with DiffControlNetLoader).", source_name)
        return control_weights
    comfy.model_management.load_models_gpu([model])
    network = model.model.diffusion_model
    state = network.state_dict()
    original = {name: key for key, name in unet_ldm_names(list(state), dict(network.config)).items()}
    added = dict(control_weights)
    for key, value in control_weights.items():
        parameter = original.get(key)
        if parameter is not None and key != "difference":
            added[key] = value + state[parameter].to(value)
    return added


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln's ControlNets are comfy.guidance modules and these variants (SD3.5, FLUX, HunyuanDiT, Qwen, Control-LoRA ops) are not supported"

ControlLoraOps = unsupported_class(__name__, 'ControlLoraOps', None, _REASON)
ControlNetSD35 = unsupported_class(__name__, 'ControlNetSD35', None, _REASON)
controlnet_config = unsupported_function(__name__, 'controlnet_config', 'sd, model_options=', _REASON)
controlnet_load_state_dict = unsupported_function(__name__, 'controlnet_load_state_dict', 'control_model, sd', _REASON)
convert_mistoline = unsupported_function(__name__, 'convert_mistoline', 'sd', _REASON)
load_controlnet_flux_instantx = unsupported_function(__name__, 'load_controlnet_flux_instantx', 'sd, model_options=', _REASON)
load_controlnet_flux_xlabs_mistoline = unsupported_function(__name__, 'load_controlnet_flux_xlabs_mistoline', 'sd, mistoline=, model_options=', _REASON)
load_controlnet_hunyuandit = unsupported_function(__name__, 'load_controlnet_hunyuandit', 'controlnet_data, model_options=', _REASON)
load_controlnet_mmdit = unsupported_function(__name__, 'load_controlnet_mmdit', 'sd, model_options=', _REASON)
load_controlnet_qwen_instantx = unsupported_function(__name__, 'load_controlnet_qwen_instantx', 'sd, model_options=', _REASON)
load_controlnet_sd35 = unsupported_function(__name__, 'load_controlnet_sd35', 'sd, model_options=', _REASON)
