"""ComfyUI's hook nodes: make hooks (a LoRA as a hook), schedule their strength over the steps with keyframes,
combine them, and attach them (with a mask, a strength and a step range) to conditioning. The sampler applies a
hook's LoRA only while the conditionings carrying it are evaluated (`comfy.hooked_weights`).

Thin faces over `comfy.hooks`; the interfaces are ComfyUI 0.3.64's (`/object_info`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import torch

import comfy.hooks
import comfy.utils
import folder_paths
from comfy.hooks import HookGroup, HookKeyframe, HookKeyframeGroup

_STRENGTH = ("FLOAT", {"default": 1.0, "min": -20.0, "max": 20.0, "step": 0.01})
_PERCENT_START = ("FLOAT", {"default": 0.0, "min": 0.0, "max": 1.0, "step": 0.001})
_PERCENT_END = ("FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0, "step": 0.001})
_COND_STRENGTH = ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.01})
_COND_AREA = (["default", "mask bounds"],)
_PROPERTIES = {"mask": ("MASK",), "hooks": ("HOOKS",), "timesteps": ("TIMESTEPS_RANGE",)}
_PAIR = ("positive", "negative")


class _HookNode:
    """What every hook node shares: ComfyUI marks them experimental."""

    EXPERIMENTAL = True


# ---------------------------------------------------------------------------------------------- attach


class ConditioningSetProperties(_HookNode):
    NodeId = "ConditioningSetProperties"
    NodeName = "Cond Set Props"
    RETURN_TYPES = ("CONDITIONING",)
    CATEGORY = "advanced/hooks/cond single"
    FUNCTION = "set_properties"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"cond_NEW": ("CONDITIONING",), "strength": _COND_STRENGTH, "set_cond_area": _COND_AREA},
                "optional": dict(_PROPERTIES)}

    def set_properties(self, cond_NEW: list, strength: float, set_cond_area: str, mask: torch.Tensor | None = None,
                       hooks: HookGroup | None = None, timesteps: tuple | None = None) -> tuple:
        return tuple(comfy.hooks.set_conds_props([cond_NEW], strength, set_cond_area, mask=mask, hooks=hooks,
                                                 timesteps_range=timesteps))


class ConditioningSetPropertiesAndCombine(_HookNode):
    NodeId = "ConditioningSetPropertiesAndCombine"
    NodeName = "Cond Set Props Combine"
    RETURN_TYPES = ("CONDITIONING",)
    CATEGORY = "advanced/hooks/cond single"
    FUNCTION = "set_properties"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"cond": ("CONDITIONING",), "cond_NEW": ("CONDITIONING",), "strength": _COND_STRENGTH,
                             "set_cond_area": _COND_AREA},
                "optional": dict(_PROPERTIES)}

    def set_properties(self, cond: list, cond_NEW: list, strength: float, set_cond_area: str,
                       mask: torch.Tensor | None = None, hooks: HookGroup | None = None,
                       timesteps: tuple | None = None) -> tuple:
        return tuple(comfy.hooks.set_conds_props_and_combine([cond], [cond_NEW], strength, set_cond_area, mask=mask,
                                                             hooks=hooks, timesteps_range=timesteps))


class PairConditioningSetProperties(_HookNode):
    NodeId = "PairConditioningSetProperties"
    NodeName = "Cond Pair Set Props"
    RETURN_TYPES = ("CONDITIONING", "CONDITIONING")
    RETURN_NAMES = _PAIR
    CATEGORY = "advanced/hooks/cond pair"
    FUNCTION = "set_properties"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"positive_NEW": ("CONDITIONING",), "negative_NEW": ("CONDITIONING",),
                             "strength": _COND_STRENGTH, "set_cond_area": _COND_AREA},
                "optional": dict(_PROPERTIES)}

    def set_properties(self, positive_NEW: list, negative_NEW: list, strength: float, set_cond_area: str,
                       mask: torch.Tensor | None = None, hooks: HookGroup | None = None,
                       timesteps: tuple | None = None) -> tuple:
        return tuple(comfy.hooks.set_conds_props([positive_NEW, negative_NEW], strength, set_cond_area, mask=mask,
                                                 hooks=hooks, timesteps_range=timesteps))


class PairConditioningSetPropertiesAndCombine(_HookNode):
    NodeId = "PairConditioningSetPropertiesAndCombine"
    NodeName = "Cond Pair Set Props Combine"
    RETURN_TYPES = ("CONDITIONING", "CONDITIONING")
    RETURN_NAMES = _PAIR
    CATEGORY = "advanced/hooks/cond pair"
    FUNCTION = "set_properties"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"positive": ("CONDITIONING",), "negative": ("CONDITIONING",),
                             "positive_NEW": ("CONDITIONING",), "negative_NEW": ("CONDITIONING",),
                             "strength": _COND_STRENGTH, "set_cond_area": _COND_AREA},
                "optional": dict(_PROPERTIES)}

    def set_properties(self, positive: list, negative: list, positive_NEW: list, negative_NEW: list,
                       strength: float, set_cond_area: str, mask: torch.Tensor | None = None,
                       hooks: HookGroup | None = None, timesteps: tuple | None = None) -> tuple:
        return tuple(comfy.hooks.set_conds_props_and_combine([positive, negative], [positive_NEW, negative_NEW],
                                                             strength, set_cond_area, mask=mask, hooks=hooks,
                                                             timesteps_range=timesteps))


class PairConditioningCombine(_HookNode):
    NodeId = "PairConditioningCombine"
    NodeName = "Cond Pair Combine"
    RETURN_TYPES = ("CONDITIONING", "CONDITIONING")
    RETURN_NAMES = _PAIR
    CATEGORY = "advanced/hooks/cond pair"
    FUNCTION = "combine"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {name: ("CONDITIONING",)
                             for name in ("positive_A", "negative_A", "positive_B", "negative_B")}}

    def combine(self, positive_A: list, negative_A: list, positive_B: list, negative_B: list) -> tuple:
        return tuple(comfy.hooks.set_conds_props_and_combine([positive_A, negative_A], [positive_B, negative_B]))


class PairConditioningSetDefaultAndCombine(_HookNode):
    NodeId = "PairConditioningSetDefaultCombine"
    NodeName = "Cond Pair Set Default Combine"
    RETURN_TYPES = ("CONDITIONING", "CONDITIONING")
    RETURN_NAMES = _PAIR
    CATEGORY = "advanced/hooks/cond pair"
    FUNCTION = "set_default_and_combine"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {name: ("CONDITIONING",)
                             for name in ("positive", "negative", "positive_DEFAULT", "negative_DEFAULT")},
                "optional": {"hooks": ("HOOKS",)}}

    def set_default_and_combine(self, positive: list, negative: list, positive_DEFAULT: list,
                                negative_DEFAULT: list, hooks: HookGroup | None = None) -> tuple:
        return tuple(comfy.hooks.set_default_conds_and_combine([positive, negative],
                                                               [positive_DEFAULT, negative_DEFAULT], hooks=hooks))


class ConditioningSetDefaultAndCombine(_HookNode):
    NodeId = "ConditioningSetDefaultCombine"
    NodeName = "Cond Set Default Combine"
    RETURN_TYPES = ("CONDITIONING",)
    CATEGORY = "advanced/hooks/cond single"
    FUNCTION = "set_default_and_combine"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"cond": ("CONDITIONING",), "cond_DEFAULT": ("CONDITIONING",)},
                "optional": {"hooks": ("HOOKS",)}}

    def set_default_and_combine(self, cond: list, cond_DEFAULT: list, hooks: HookGroup | None = None) -> tuple:
        return tuple(comfy.hooks.set_default_conds_and_combine([cond], [cond_DEFAULT], hooks=hooks))


class ConditioningTimestepsRange(_HookNode):
    NodeId = "ConditioningTimestepsRange"
    NodeName = "Timesteps Range"
    RETURN_TYPES = ("TIMESTEPS_RANGE", "TIMESTEPS_RANGE", "TIMESTEPS_RANGE")
    RETURN_NAMES = ("TIMESTEPS_RANGE", "BEFORE_RANGE", "AFTER_RANGE")
    CATEGORY = "advanced/hooks"
    FUNCTION = "create_range"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"start_percent": _PERCENT_START, "end_percent": _PERCENT_END}}

    def create_range(self, start_percent: float, end_percent: float) -> tuple:
        """The range, the part of the run before it and the part after it."""
        return (start_percent, end_percent), (0.0, start_percent), (end_percent, 1.0)


class SetClipHooks(_HookNode):
    NodeId = "SetClipHooks"
    NodeName = "Set CLIP Hooks"
    RETURN_TYPES = ("CLIP",)
    CATEGORY = "advanced/hooks/clip"
    FUNCTION = "apply_hooks"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"clip": ("CLIP",), "apply_to_conds": ("BOOLEAN", {"default": True}),
                             "schedule_clip": ("BOOLEAN", {"default": False})},
                "optional": {"hooks": ("HOOKS",)}}

    def apply_hooks(self, clip: Any, schedule_clip: bool, apply_to_conds: bool,
                    hooks: HookGroup | None = None) -> tuple:
        """A clone of `clip` that encodes with the hooks' LoRAs at their CLIP strengths: at full strength, or with
        `schedule_clip` once per span of their keyframe schedule (comfy.clip_object's
        encode_from_tokens_scheduled); with `apply_to_conds` its conditionings carry the hooks to the sampler."""
        if hooks is None:
            return (clip,)
        clip = clip.clone()
        if apply_to_conds:
            clip.apply_hooks_to_conds = hooks
        clip.patcher.forced_hooks = hooks.clone()
        clip.use_clip_schedule = schedule_clip
        if not schedule_clip:
            clip.patcher.forced_hooks.set_keyframes_on_hooks(None)
        return (clip,)


class SetModelHooksOnCond(_HookNode):
    """Not registered (as in ComfyUI): the conditioning with the hooks added."""

    RETURN_TYPES = ("CONDITIONING",)
    CATEGORY = "advanced/hooks/manual"
    FUNCTION = "attach_hook"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"conditioning": ("CONDITIONING",), "hooks": ("HOOKS",)}}

    def attach_hook(self, conditioning: list, hooks: HookGroup) -> tuple:
        return (comfy.hooks.set_hooks_for_conditioning(conditioning, hooks),)


# ---------------------------------------------------------------------------------------------- create


class CreateHookLora(_HookNode):
    NodeId = "CreateHookLora"
    NodeName = "Create Hook LoRA"
    RETURN_TYPES = ("HOOKS",)
    CATEGORY = "advanced/hooks/create"
    FUNCTION = "create_hook"

    def __init__(self):
        self.loaded_lora: tuple[str, dict] | None = None  # (path, tensors) of the last file read

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"lora_name": (folder_paths.get_filename_list("loras"),), "strength_model": _STRENGTH,
                             "strength_clip": _STRENGTH},
                "optional": {"prev_hooks": ("HOOKS",)}}

    def create_hook(self, lora_name: str, strength_model: float, strength_clip: float,
                    prev_hooks: HookGroup | None = None) -> tuple:
        """`prev_hooks` plus a hook of the LoRA file; `prev_hooks` alone when both strengths are 0."""
        if prev_hooks is None:
            prev_hooks = HookGroup()
        if strength_model == 0 and strength_clip == 0:
            return (prev_hooks,)
        path = folder_paths.get_full_path_or_raise("loras", lora_name)
        if self.loaded_lora is None or self.loaded_lora[0] != path:
            self.loaded_lora = (path, comfy.utils.load_torch_file(path, safe_load=True))
        hooks = comfy.hooks.create_hook_lora(self.loaded_lora[1], strength_model, strength_clip)
        return (prev_hooks.clone_and_combine(hooks),)


class CreateHookLoraModelOnly(CreateHookLora):
    NodeId = "CreateHookLoraModelOnly"
    NodeName = "Create Hook LoRA (MO)"
    FUNCTION = "create_hook_model_only"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"lora_name": (folder_paths.get_filename_list("loras"),), "strength_model": _STRENGTH},
                "optional": {"prev_hooks": ("HOOKS",)}}

    def create_hook_model_only(self, lora_name: str, strength_model: float,
                               prev_hooks: HookGroup | None = None) -> tuple:
        return self.create_hook(lora_name, strength_model, 0, prev_hooks)


class CreateHookModelAsLora(_HookNode):
    NodeId = "CreateHookModelAsLora"
    NodeName = "Create Hook Model as LoRA"
    RETURN_TYPES = ("HOOKS",)
    CATEGORY = "advanced/hooks/create"
    FUNCTION = "create_hook"

    def __init__(self):
        self.loaded_weights: tuple[str, dict | None, dict | None] | None = None  # (path, model, CLIP weights)

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"ckpt_name": (folder_paths.get_filename_list("checkpoints"),),
                             "strength_model": _STRENGTH, "strength_clip": _STRENGTH},
                "optional": {"prev_hooks": ("HOOKS",)}}

    def create_hook(self, ckpt_name: str, strength_model: float, strength_clip: float,
                    prev_hooks: HookGroup | None = None) -> tuple:
        """`prev_hooks` plus a hook moving the model and CLIP towards the checkpoint's weights by the strengths."""
        import comfy.sd

        if prev_hooks is None:
            prev_hooks = HookGroup()
        path = folder_paths.get_full_path_or_raise("checkpoints", ckpt_name)
        if self.loaded_weights is None or self.loaded_weights[0] != path:
            model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(
                path, output_vae=True, output_clip=True, embedding_directory=folder_paths.get_folder_paths("embeddings"))
            self.loaded_weights = (path, comfy.hooks.get_patch_weights_from_model(model),
                                   comfy.hooks.get_patch_weights_from_model(clip.patcher if clip else None))
        hooks = comfy.hooks.create_hook_model_as_lora(self.loaded_weights[1], self.loaded_weights[2], strength_model,
                                                      strength_clip)
        return (prev_hooks.clone_and_combine(hooks),)


class CreateHookModelAsLoraModelOnly(CreateHookModelAsLora):
    NodeId = "CreateHookModelAsLoraModelOnly"
    NodeName = "Create Hook Model as LoRA (MO)"
    FUNCTION = "create_hook_model_only"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"ckpt_name": (folder_paths.get_filename_list("checkpoints"),),
                             "strength_model": _STRENGTH},
                "optional": {"prev_hooks": ("HOOKS",)}}

    def create_hook_model_only(self, ckpt_name: str, strength_model: float,
                               prev_hooks: HookGroup | None = None) -> tuple:
        return self.create_hook(ckpt_name, strength_model, 0.0, prev_hooks)


# ---------------------------------------------------------------------------------------------- schedule


class SetHookKeyframes(_HookNode):
    NodeId = "SetHookKeyframes"
    NodeName = "Set Hook Keyframes"
    RETURN_TYPES = ("HOOKS",)
    CATEGORY = "advanced/hooks/scheduling"
    FUNCTION = "set_hook_keyframes"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"hooks": ("HOOKS",)}, "optional": {"hook_kf": ("HOOK_KEYFRAMES",)}}

    def set_hook_keyframes(self, hooks: HookGroup, hook_kf: HookKeyframeGroup | None = None) -> tuple:
        """A copy of `hooks` scheduled by `hook_kf` (the hooks unchanged without it)."""
        if hook_kf is not None:
            hooks = hooks.clone()
            hooks.set_keyframes_on_hooks(hook_kf)
        return (hooks,)


class CreateHookKeyframe(_HookNode):
    NodeId = "CreateHookKeyframe"
    NodeName = "Create Hook Keyframe"
    RETURN_TYPES = ("HOOK_KEYFRAMES",)
    RETURN_NAMES = ("HOOK_KF",)
    CATEGORY = "advanced/hooks/scheduling"
    FUNCTION = "create_hook_keyframe"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"strength_mult": _STRENGTH, "start_percent": _PERCENT_START},
                "optional": {"prev_hook_kf": ("HOOK_KEYFRAMES",)}}

    def create_hook_keyframe(self, strength_mult: float, start_percent: float,
                             prev_hook_kf: HookKeyframeGroup | None = None) -> tuple:
        keyframes = prev_hook_kf.clone() if prev_hook_kf is not None else HookKeyframeGroup()
        keyframes.add(HookKeyframe(strength=strength_mult, start_percent=start_percent))
        return (keyframes,)


def _add_spread_keyframes(previous: HookKeyframeGroup | None, strengths: Iterable[Any], percents: torch.Tensor,
                          print_keyframes: bool) -> HookKeyframeGroup:
    """`previous` (copied) plus one keyframe per (percent, strength); the first holds one step, the others none."""
    keyframes = previous.clone() if previous is not None else HookKeyframeGroup()
    for index, (percent, strength) in enumerate(zip(percents, strengths, strict=False)):
        keyframes.add(HookKeyframe(strength=strength, start_percent=percent, guarantee_steps=1 if index == 0 else 0))
        if print_keyframes:
            logging.info(f"Hook Keyframe - start_percent:{percent} = {strength}")
    return keyframes


class CreateHookKeyframesInterpolated(_HookNode):
    NodeId = "CreateHookKeyframesInterpolated"
    NodeName = "Create Hook Keyframes Interp."
    RETURN_TYPES = ("HOOK_KEYFRAMES",)
    RETURN_NAMES = ("HOOK_KF",)
    CATEGORY = "advanced/hooks/scheduling"
    FUNCTION = "create_hook_keyframes"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        strength = ("FLOAT", {"default": 1.0, "min": 0.0, "max": 10.0, "step": 0.001})
        return {"required": {"strength_start": strength, "strength_end": strength,
                             "interpolation": (comfy.hooks.InterpolationMethod._LIST,),
                             "start_percent": _PERCENT_START, "end_percent": _PERCENT_END,
                             "keyframes_count": ("INT", {"default": 5, "min": 2, "max": 100, "step": 1}),
                             "print_keyframes": ("BOOLEAN", {"default": False})},
                "optional": {"prev_hook_kf": ("HOOK_KEYFRAMES",)}}

    def create_hook_keyframes(self, strength_start: float, strength_end: float, interpolation: str,
                              start_percent: float, end_percent: float, keyframes_count: int,
                              print_keyframes: bool = False, prev_hook_kf: HookKeyframeGroup | None = None) -> tuple:
        """`keyframes_count` keyframes evenly spaced from start_percent to end_percent, strengths along
        `interpolation` from strength_start to strength_end."""
        method = comfy.hooks.InterpolationMethod
        percents = method.get_weights(start_percent, end_percent, keyframes_count, method.LINEAR)
        strengths = method.get_weights(strength_start, strength_end, keyframes_count, interpolation)
        return (_add_spread_keyframes(prev_hook_kf, strengths, percents, print_keyframes),)


class CreateHookKeyframesFromFloats(_HookNode):
    NodeId = "CreateHookKeyframesFromFloats"
    NodeName = "Create Hook Keyframes From Floats"
    RETURN_TYPES = ("HOOK_KEYFRAMES",)
    RETURN_NAMES = ("HOOK_KF",)
    CATEGORY = "advanced/hooks/scheduling"
    FUNCTION = "create_hook_keyframes"

    @classmethod
    def INPUT_TYPES(cls) -> dict:
        return {"required": {"floats_strength": ("FLOATS", {"default": -1, "min": -1, "step": 0.001,
                                                            "forceInput": True}),
                             "start_percent": _PERCENT_START, "end_percent": _PERCENT_END,
                             "print_keyframes": ("BOOLEAN", {"default": False})},
                "optional": {"prev_hook_kf": ("HOOK_KEYFRAMES",)}}

    def create_hook_keyframes(self, floats_strength: float | list[float], start_percent: float, end_percent: float,
                              prev_hook_kf: HookKeyframeGroup | None = None, print_keyframes: bool = False) -> tuple:
        """One keyframe per strength, evenly spaced from start_percent to end_percent."""
        if type(floats_strength) in (float, int):
            floats_strength = [float(floats_strength)]
        elif not isinstance(floats_strength, Iterable):
            raise Exception(f"floats_strength must be either an iterable input or a float, but was"
                            f"{type(floats_strength).__repr__}.")
        method = comfy.hooks.InterpolationMethod
        percents = method.get_weights(start_percent, end_percent, len(floats_strength), method.LINEAR)
        return (_add_spread_keyframes(prev_hook_kf, floats_strength, percents, print_keyframes),)


# ---------------------------------------------------------------------------------------------- combine


def _combine_node(node_id: str, letters: str) -> type:
    """A CombineHooks node of `len(letters)` optional HOOKS inputs hooks_A, hooks_B, ..."""

    class CombineHooksNode(_HookNode):
        NodeId = node_id
        NodeName = f"Combine Hooks [{len(letters)}]"
        RETURN_TYPES = ("HOOKS",)
        CATEGORY = "advanced/hooks/combine"
        FUNCTION = "combine_hooks"

        @classmethod
        def INPUT_TYPES(cls) -> dict:
            return {"required": {}, "optional": {f"hooks_{letter}": ("HOOKS",) for letter in letters}}

        def combine_hooks(self, **hooks: HookGroup | None) -> tuple:
            return (HookGroup.combine_all_hooks([hooks.get(f"hooks_{letter}") for letter in letters]),)

    return CombineHooksNode


CombineHooks = _combine_node("CombineHooks2", "AB")
CombineHooksFour = _combine_node("CombineHooks4", "ABCD")
CombineHooksEight = _combine_node("CombineHooks8", "ABCDEFGH")
CombineHooks.__name__ = CombineHooks.__qualname__ = "CombineHooks"
CombineHooksFour.__name__ = CombineHooksFour.__qualname__ = "CombineHooksFour"
CombineHooksEight.__name__ = CombineHooksEight.__qualname__ = "CombineHooksEight"


node_list = [
    CreateHookLora, CreateHookLoraModelOnly, CreateHookModelAsLora, CreateHookModelAsLoraModelOnly,
    SetHookKeyframes, CreateHookKeyframe, CreateHookKeyframesInterpolated, CreateHookKeyframesFromFloats,
    CombineHooks, CombineHooksFour, CombineHooksEight,
    ConditioningSetProperties, ConditioningSetPropertiesAndCombine, PairConditioningSetProperties,
    PairConditioningSetPropertiesAndCombine, ConditioningSetDefaultAndCombine, PairConditioningSetDefaultAndCombine,
    PairConditioningCombine, SetClipHooks, ConditioningTimestepsRange,
]
NODE_CLASS_MAPPINGS = {node.NodeId: node for node in node_list}
NODE_DISPLAY_NAME_MAPPINGS = {node.NodeId: node.NodeName for node in node_list}
