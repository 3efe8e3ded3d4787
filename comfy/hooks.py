"""ComfyUI's `comfy.hooks`: hooks carried by conditioning, chiefly LoRAs applied to the model only while the
conditionings that carry them are evaluated, at a strength scheduled over the steps by keyframes.

The objects are data: a `HookGroup` (what a `HOOKS` socket carries) holds hooks; a `WeightHook` holds a LoRA's
tensors and its model/CLIP strengths; every hook has a `HookKeyframeGroup` that says, step by step, which
`HookKeyframe`'s strength multiplies it. Conditioning entries carry their group under the "hooks" key
(`set_hooks_for_conditioning` and the `set_conds_props*` helpers the hook nodes use). What sampling does with them
is `comfy.hooked_weights`.

Identity, as ComfyUI defines it: a hook's clones share its `hook_ref` and compare equal; clones also share the
keyframe group (so a schedule advanced during sampling is seen by every clone); a group compares by identity, so
conditionings that share one group object are evaluated together.

Names whose machinery Kiln lacks (object-patch, additional-model, transformer-option and injection hooks, a
LoRA registered on a patcher ahead of sampling) are faces that raise UnsupportedError (comfy/unsupported.py).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from typing import Any

import torch


class EnumHookMode(enum.Enum):
    """Whether hooked weights may be cached between hook-group switches (speed) or not (memory)."""

    MinVram = "minvram"
    MaxSpeed = "maxspeed"


class EnumHookType(enum.Enum):
    """What a hook changes."""

    Weight = "weight"
    ObjectPatch = "object_patch"
    AdditionalModels = "add_models"
    TransformerOptions = "transformer_options"
    Injections = "add_injections"


class EnumWeightTarget(enum.Enum):
    """Which model a weight hook is being registered on."""

    Model = "model"
    Clip = "clip"


class EnumHookScope(enum.Enum):
    """Whether a hook acts on every conditioning of the run or only on those carrying it (weight hooks: always
    the latter)."""

    AllConditioning = "all_conditioning"
    HookedOnly = "hooked_only"


class _HookRef:
    """The identity a hook shares with its clones."""


def default_should_register(hook: Hook, model: Any, model_options: dict, target_dict: dict,
                            registered: HookGroup) -> bool:
    """Every hook is registered unless its `custom_should_register` says otherwise."""
    return True


def create_target_dict(target: EnumWeightTarget | None = None, **kwargs: Any) -> dict:
    """{"target": target, **kwargs}, without "target" when it is None: what a hook is being registered for."""
    target_dict = {} if target is None else {"target": target}
    target_dict.update(kwargs)
    return target_dict


# ---------------------------------------------------------------------------------------------- keyframes


class HookKeyframe:
    """From `start_percent` of the run on, the hook's strength is multiplied by `strength`, for at least
    `guarantee_steps` steps once reached. `start_t` is the sigma of `start_percent` (set when sampling starts)."""

    def __init__(self, strength: float, start_percent: float = 0.0, guarantee_steps: int = 1):
        self.strength = strength
        self.start_percent = float(start_percent)
        self.start_t = 999999999.9
        self.guarantee_steps = guarantee_steps

    def get_effective_guarantee_steps(self, max_sigma: torch.Tensor | float) -> int:
        """The steps this keyframe is held once reached: none when it starts before the run's first sigma (a
        run that starts part-way through the schedule passes it at once)."""
        return 0 if self.start_t > max_sigma else self.guarantee_steps

    def clone(self) -> HookKeyframe:
        copy = HookKeyframe(self.strength, self.start_percent, self.guarantee_steps)
        copy.start_t = self.start_t
        return copy


class HookKeyframeGroup:
    """A hook's schedule: keyframes in order of `start_percent` (equal ones keep the order they were added in)
    and, during sampling, which one is current. With no keyframes the strength is 1."""

    def __init__(self):
        self.keyframes: list[HookKeyframe] = []
        self._current_keyframe: HookKeyframe | None = None
        self._current_used_steps = 0
        self._current_index = 0
        self._current_strength: float | None = None
        self._curr_t: Any = -1.0

    @property
    def strength(self) -> float:
        return self._current_keyframe.strength if self._current_keyframe is not None else 1.0

    def reset(self) -> None:
        """Back to the first keyframe, as at the start of a run. (The sigma last stepped on is kept, as in
        ComfyUI, whose reset clears a differently named attribute.)"""
        self._current_keyframe = None
        self._current_used_steps = 0
        self._current_index = 0
        self._current_strength = None
        self._set_first_as_current()

    def add(self, keyframe: HookKeyframe) -> None:
        self.keyframes = get_sorted_list_via_attr([*self.keyframes, keyframe], "start_percent")
        self._set_first_as_current()

    def _set_first_as_current(self) -> None:
        self._current_keyframe = self.keyframes[0] if self.keyframes else None

    def has_guarantee_steps(self) -> bool:
        return any(keyframe.guarantee_steps > 0 for keyframe in self.keyframes)

    def has_index(self, index: int) -> bool:
        return 0 <= index < len(self.keyframes)

    def is_empty(self) -> bool:
        return not self.keyframes

    def clone(self) -> HookKeyframeGroup:
        copy = HookKeyframeGroup()
        copy.keyframes = [keyframe.clone() for keyframe in self.keyframes]
        copy._set_first_as_current()
        return copy

    def initialize_timesteps(self, model: Any) -> None:
        """Each keyframe's `start_t`: the sigma of its start_percent on `model` (a BaseModel)."""
        for keyframe in self.keyframes:
            keyframe.start_t = model.model_sampling.percent_to_sigma(keyframe.start_percent)

    def prepare_current_keyframe(self, curr_t: Any, transformer_options: dict) -> bool:
        """Step the schedule to sigma `curr_t` (once per sigma): when the current keyframe has been held its
        guaranteed steps, the later keyframes whose start sigma is at or above `curr_t` are taken in turn, up to
        the first that guarantees steps. `transformer_options["sample_sigmas"]` is the run's schedule. True when
        the keyframe (and its strength) changed."""
        if self.is_empty() or curr_t == self._curr_t:
            return False
        max_sigma = torch.max(transformer_options["sample_sigmas"])
        previous_index, previous_strength = self._current_index, self._current_strength
        if self._current_used_steps >= self._current_keyframe.get_effective_guarantee_steps(max_sigma):
            for index in range(self._current_index + 1, len(self.keyframes)):
                candidate = self.keyframes[index]
                if candidate.start_t < curr_t:  # starts later in the run (sigmas fall as sampling goes on)
                    break
                self._current_index = index
                self._current_keyframe = candidate
                self._current_strength = candidate.strength
                self._current_used_steps = 0
                if candidate.get_effective_guarantee_steps(max_sigma) > 0:
                    break
        self._current_used_steps += 1
        self._curr_t = curr_t
        return previous_index != self._current_index and previous_strength != self._current_strength


class InterpolationMethod:
    """How CreateHookKeyframesInterpolated spaces its strengths between the first and the last."""

    LINEAR = "linear"
    EASE_IN = "ease_in"
    EASE_OUT = "ease_out"
    EASE_IN_OUT = "ease_in_out"

    _LIST = [LINEAR, EASE_IN, EASE_OUT, EASE_IN_OUT]

    @classmethod
    def get_weights(cls, num_from: float, num_to: float, length: int, method: str,
                    reverse: bool = False) -> torch.Tensor:
        """`length` values from `num_from` to `num_to` along `method`'s curve (reversed with `reverse`)."""
        position = torch.linspace(0, 1, length)
        span = num_to - num_from
        if method == cls.LINEAR:
            weights = torch.linspace(num_from, num_to, length)
        elif method == cls.EASE_IN:
            weights = span * position ** 2 + num_from
        elif method == cls.EASE_OUT:
            weights = span * (1 - (1 - position) ** 2) + num_from
        elif method == cls.EASE_IN_OUT:
            weights = span * ((1 - torch.cos(position * math.pi)) / 2) + num_from
        else:
            raise ValueError(f"Unrecognized interpolation method '{method}'.")
        return weights.flip(dims=(0,)) if reverse else weights


def get_sorted_list_via_attr(objects: list, attr: str) -> list:
    """`objects` sorted by attribute `attr`, objects with equal values kept in their given order."""
    if not objects:
        return objects
    return sorted(objects, key=lambda item: getattr(item, attr))


# ---------------------------------------------------------------------------------------------- hooks


class Hook:
    """A hook: its type, the identity it shares with its clones (`hook_ref`), its keyframe schedule and scope."""

    def __init__(self, hook_type: EnumHookType | None = None, hook_ref: _HookRef | None = None,
                 hook_id: str | None = None, hook_keyframe: HookKeyframeGroup | None = None,
                 hook_scope: EnumHookScope = EnumHookScope.AllConditioning):
        self.hook_type = hook_type
        self.hook_ref = hook_ref if hook_ref else _HookRef()
        self.hook_id = hook_id
        self.hook_keyframe = hook_keyframe if hook_keyframe else HookKeyframeGroup()
        self.hook_scope = hook_scope
        self.custom_should_register: Callable[..., bool] = default_should_register

    @property
    def strength(self) -> float:
        """The current keyframe's strength (1 without keyframes)."""
        return self.hook_keyframe.strength

    def initialize_timesteps(self, model: Any) -> None:
        self.reset()
        self.hook_keyframe.initialize_timesteps(model)

    def reset(self) -> None:
        self.hook_keyframe.reset()

    def clone(self) -> Hook:
        copy = self.__class__()
        copy.hook_type = self.hook_type
        copy.hook_ref = self.hook_ref
        copy.hook_id = self.hook_id
        copy.hook_keyframe = self.hook_keyframe  # shared: see the module docstring
        copy.hook_scope = self.hook_scope
        copy.custom_should_register = self.custom_should_register
        return copy

    def should_register(self, model: Any, model_options: dict, target_dict: dict, registered: HookGroup) -> bool:
        return self.custom_should_register(self, model, model_options, target_dict, registered)

    def add_hook_patches(self, model: Any, model_options: dict, target_dict: dict, registered: HookGroup) -> bool:
        raise NotImplementedError("add_hook_patches should be defined for Hook subclasses")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hook) and self.__class__ == other.__class__ and self.hook_ref == other.hook_ref

    def __hash__(self) -> int:
        return hash(self.hook_ref)


class WeightHook(Hook):
    """A LoRA as a hook: `weights` (the LoRA file's tensors, mapped onto the model when sampling starts) applied
    at `strength_model` on the diffusion model and `strength_clip` on the text encoder, each times the current
    keyframe's strength."""

    def __init__(self, strength_model: float = 1.0, strength_clip: float = 1.0):
        super().__init__(hook_type=EnumHookType.Weight, hook_scope=EnumHookScope.HookedOnly)
        self.weights: dict | None = None
        self.weights_clip: dict | None = None
        self.need_weight_init = True
        self._strength_model = strength_model
        self._strength_clip = strength_clip

    @property
    def strength_model(self) -> float:
        return self._strength_model * self.strength

    @property
    def strength_clip(self) -> float:
        return self._strength_clip * self.strength

    def add_hook_patches(self, model: Any, model_options: dict, target_dict: dict, registered: HookGroup) -> bool:
        """Register this hook for a run on `model`: Kiln maps the LoRA onto the model's weights itself when
        sampling starts (`comfy.hooked_weights`), so registering only records the hook in `registered`."""
        if not self.should_register(model, model_options, target_dict, registered):
            return False
        registered.add(self)
        return True

    def clone(self) -> WeightHook:
        copy = super().clone()
        copy.weights = self.weights
        copy.weights_clip = self.weights_clip
        copy.need_weight_init = self.need_weight_init
        copy._strength_model = self._strength_model
        copy._strength_clip = self._strength_clip
        return copy


class HookGroup:
    """The hooks a `HOOKS` socket carries, each once (by identity), in the order added."""

    def __init__(self):
        self.hooks: list[Hook] = []
        self._hook_dict: dict[EnumHookType, list[Hook]] = {}

    def __len__(self) -> int:
        return len(self.hooks)

    def add(self, hook: Hook) -> None:
        if hook not in self.hooks:
            self.hooks.append(hook)
            self._hook_dict.setdefault(hook.hook_type, []).append(hook)

    def remove(self, hook: Hook) -> None:
        if hook in self.hooks:
            self.hooks.remove(hook)
            self._hook_dict[hook.hook_type].remove(hook)

    def get_type(self, hook_type: EnumHookType) -> list[Hook]:
        return self._hook_dict.get(hook_type, [])

    def contains(self, hook: Hook) -> bool:
        return hook in self.hooks

    def is_subset_of(self, other: HookGroup) -> bool:
        return set(self.hooks).issubset(set(other.hooks))

    def new_with_common_hooks(self, other: HookGroup) -> HookGroup:
        common = HookGroup()
        for hook in self.hooks:
            if other.contains(hook):
                common.add(hook.clone())
        return common

    def clone(self) -> HookGroup:
        copy = HookGroup()
        for hook in self.hooks:
            copy.add(hook.clone())
        return copy

    def clone_and_combine(self, other: HookGroup | None) -> HookGroup:
        combined = self.clone()
        for hook in other.hooks if other is not None else ():
            combined.add(hook.clone())
        return combined

    def set_keyframes_on_hooks(self, hook_kf: HookKeyframeGroup | None) -> None:
        """Give every hook (one shared copy of) `hook_kf` as its schedule; None clears the schedules."""
        schedule = hook_kf.clone() if hook_kf is not None else HookKeyframeGroup()
        for hook in self.hooks:
            hook.hook_keyframe = schedule

    def reset(self) -> None:
        for hook in self.hooks:
            hook.reset()

    def get_hooks_for_clip_schedule(self) -> list[tuple[tuple[float, float], list[tuple[WeightHook, Any]]]]:
        """The spans of the run (start, end percent) over which every weight hook's keyframe stays the same, each
        with (hook, its keyframe there; None: no keyframes, strength 1). A hook's keyframe changes where a later
        keyframe of another strength starts; keyframes starting together count as the last of them."""
        spans_by_hook: dict[WeightHook, list[tuple[tuple[float, float], HookKeyframe | None]]] = {}
        for hook in self.get_type(EnumHookType.Weight):
            keyframes = hook.hook_keyframe.keyframes
            if not keyframes:
                spans_by_hook[hook] = [((0.0, 1.0), None)]
                continue
            spans = []
            held = keyframes[0]
            for keyframe in keyframes:
                if keyframe.start_percent == held.start_percent:
                    held = keyframe
                elif keyframe.start_percent > held.start_percent and not math.isclose(keyframe.strength,
                                                                                      held.strength):
                    spans.append(((held.start_percent, keyframe.start_percent), held))
                    held = keyframe
            if not math.isclose(held.start_percent, 1.0):
                spans.append(((held.start_percent, 1.0), held))
            spans_by_hook[hook] = spans
        boundaries = sorted({0.0} | {edge for spans in spans_by_hook.values() for span, _ in spans for edge in span})
        schedule = []
        for start, end in zip(boundaries[:-1], boundaries[1:], strict=True):
            chosen = []
            for hook, spans in spans_by_hook.items():
                keyframe = next((held for (span_start, span_end), held in spans
                                 if span_start < end and span_end > start), None)
                chosen.append((hook, keyframe))
            schedule.append(((start, end), chosen))
        return schedule

    @staticmethod
    def combine_all_hooks(hooks_list: list[HookGroup | None], require_count: int = 0) -> HookGroup | None:
        """One group of every hook in `hooks_list` (Nones skipped): None for none, the group itself for one,
        else a new combined group. Fewer than `require_count` groups is an error."""
        present = [group for group in hooks_list if group is not None]
        if len(present) < require_count:
            raise Exception(f"Need at least {require_count} hooks to combine, but only had {len(present)}.")
        if not present:
            return None
        if len(present) == 1:
            return present[0]
        combined = present[0].clone()
        for group in present[1:]:
            combined = combined.clone_and_combine(group)
        return combined


def create_hook_lora(lora: dict[str, torch.Tensor], strength_model: float, strength_clip: float) -> HookGroup:
    """A group of one WeightHook holding `lora` (a LoRA file's tensors) at the given strengths."""
    hook = WeightHook(strength_model=strength_model, strength_clip=strength_clip)
    hook.weights = lora
    group = HookGroup()
    group.add(hook)
    return group


def create_hook_model_as_lora(weights_model: dict | None, weights_clip: dict | None, strength_model: float,
                              strength_clip: float) -> HookGroup:
    """A group of one WeightHook that moves the model (CLIP) towards another model's weights: each weight
    becomes weight + strength * (other - weight). `weights_model` / `weights_clip` are the other model's state
    dicts under the sampling model's and the CLIP's parameter names (`get_patch_weights_from_model`)."""
    hook = WeightHook(strength_model=strength_model, strength_clip=strength_clip)

    def as_patches(weights: dict | None) -> dict | None:
        return None if weights is None else {key: ("model_as_lora", (value,)) for key, value in weights.items()}

    hook.weights = as_patches(weights_model)
    hook.weights_clip = as_patches(weights_clip)
    hook.need_weight_init = False
    group = HookGroup()
    group.add(hook)
    return group


def get_patch_weights_from_model(model: Any, discard_model_sampling: bool = True) -> dict | None:
    """The state dict of a patcher's model (None for None), without its `model_sampling` entries unless
    `discard_model_sampling` is False: what CreateHookModelAsLora moves towards."""
    if model is None:
        return None
    weights = model.model.state_dict()
    if discard_model_sampling:
        weights = {key: value for key, value in weights.items() if not key.startswith("model_sampling")}
    return weights


def create_transformer_options_from_hooks(model: Any, hooks: HookGroup | None,
                                          transformer_options: dict | None = None) -> dict:
    """The transformer_options a hook group adds while its conditionings run: Kiln has no transformer-option
    hooks, so an empty dict for none or a CLIP patcher, else `transformer_options` (or {}) unchanged."""
    if hooks is None or getattr(model, "is_clip", False):
        return {}
    return transformer_options if transformer_options is not None else {}


# ---------------------------------------------------------------------------------------------- conditioning


def _set_values(conditioning: list, values: dict) -> list:
    """A copy of `conditioning` ([[tensor, options], ...]) with `values` set in each entry's (copied) options."""
    return [[tensor, {**options, **values}] for tensor, options in conditioning]


def _combined_hooks(options: dict, hooks: HookGroup, cache: dict) -> HookGroup:
    """`hooks` added to the group an entry already carries; one combined group per pair (through `cache`), so
    entries that carried the same group keep sharing one."""
    existing = options.get("hooks")
    if existing is None:
        return hooks
    pair = (existing, hooks)
    if pair not in cache:
        cache[pair] = existing.clone_and_combine(hooks)
    return cache[pair]


def conditioning_set_values_with_hooks(conditioning: list, values: dict | None = None, append_hooks: bool = True,
                                       cache: dict | None = None) -> list:
    """`node_helpers.conditioning_set_values`, except that a "hooks" value is added to each entry's own hooks
    (with `append_hooks`) instead of replacing them."""
    values = values or {}
    cache = {} if cache is None else cache
    result = []
    for tensor, options in conditioning:
        options = options.copy()
        for key, value in values.items():
            if append_hooks and key == "hooks":
                if value is not None:
                    options["hooks"] = _combined_hooks(options, value, cache)
            else:
                options[key] = value
        result.append([tensor, options])
    return result


def set_hooks_for_conditioning(cond: list, hooks: HookGroup | None, append_hooks: bool = True,
                               cache: dict | None = None) -> list:
    """`cond` with `hooks` on every entry (added to the entry's own, with `append_hooks`); unchanged for None."""
    if hooks is None:
        return cond
    return conditioning_set_values_with_hooks(cond, {"hooks": hooks}, append_hooks=append_hooks, cache=cache)


def set_timesteps_for_conditioning(cond: list, timestep_range: tuple[float, float] | None) -> list:
    """`cond` active only over (start_percent, end_percent); unchanged for None."""
    if timestep_range is None:
        return cond
    return _set_values(cond, {"start_percent": timestep_range[0], "end_percent": timestep_range[1]})


def set_mask_for_conditioning(cond: list, mask: torch.Tensor | None, set_cond_area: str, strength: float) -> list:
    """`cond` limited to `mask` `[H, W]` or `[B, H, W]` at `strength`; "mask bounds" crops the area to the mask's
    bounding box. Unchanged for None."""
    if mask is None:
        return cond
    if mask.ndim < 3:
        mask = mask.unsqueeze(0)
    return _set_values(cond, {"mask": mask, "set_area_to_bounds": set_cond_area != "default",
                                          "mask_strength": strength})


def combine_conditioning(conds: list[list]) -> list:
    """The entries of several conditionings, in order, as one."""
    return [entry for cond in conds for entry in cond]


def combine_with_new_conds(conds: list[list], new_conds: list[list]) -> list[list]:
    """Pairwise `combine_conditioning` of two lists of conditionings."""
    return [combine_conditioning([cond, new]) for cond, new in zip(conds, new_conds, strict=False)]


def _with_properties(cond: list, hooks: HookGroup | None, append_hooks: bool, cache: dict,
                     mask: torch.Tensor | None, set_cond_area: str, strength: float,
                     timesteps_range: tuple[float, float] | None) -> list:
    cond = set_hooks_for_conditioning(cond, hooks, append_hooks=append_hooks, cache=cache)
    cond = set_mask_for_conditioning(cond, mask, set_cond_area, strength)
    return set_timesteps_for_conditioning(cond, timesteps_range)


def set_conds_props(conds: list[list], strength: float, set_cond_area: str, mask: torch.Tensor | None = None,
                    hooks: HookGroup | None = None, timesteps_range: tuple[float, float] | None = None,
                    append_hooks: bool = True) -> list[list]:
    """Each conditioning with the hooks, mask (at `strength`) and step range given (those not None)."""
    cache: dict = {}
    return [_with_properties(cond, hooks, append_hooks, cache, mask, set_cond_area, strength, timesteps_range)
            for cond in conds]


def set_conds_props_and_combine(conds: list[list], new_conds: list[list], strength: float = 1.0,
                                set_cond_area: str = "default", mask: torch.Tensor | None = None,
                                hooks: HookGroup | None = None, timesteps_range: tuple[float, float] | None = None,
                                append_hooks: bool = True) -> list[list]:
    """Each of `new_conds` with the properties given (as `set_conds_props`), appended to its partner in
    `conds`."""
    cache: dict = {}
    return [combine_conditioning([cond, _with_properties(new, hooks, append_hooks, cache, mask, set_cond_area,
                                                         strength, timesteps_range)])
            for cond, new in zip(conds, new_conds, strict=False)]


def set_default_conds_and_combine(conds: list[list], new_conds: list[list], hooks: HookGroup | None = None,
                                  timesteps_range: tuple[float, float] | None = None,
                                  append_hooks: bool = True) -> list[list]:
    """Each of `new_conds`, with the hooks and step range given, marked as the default (used where the other
    entries' masks leave weight uncovered) and appended to its partner in `conds`."""
    cache: dict = {}
    combined = []
    for cond, new in zip(conds, new_conds, strict=False):
        new = set_hooks_for_conditioning(new, hooks, append_hooks=append_hooks, cache=cache)
        new = _set_values(new, {"default": True})
        new = set_timesteps_for_conditioning(new, timesteps_range)
        combined.append(combine_conditioning([cond, new]))
    return combined


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function  # noqa: E402

_REASON = "Kiln's hooks are weight hooks (scheduled LoRAs) only"

AdditionalModelsHook = unsupported_class(__name__, 'AdditionalModelsHook', 'models=, key=', _REASON)
InjectionsHook = unsupported_class(__name__, 'InjectionsHook', 'key=, injections=, hook_scope=', _REASON)
ObjectPatchHook = unsupported_class(__name__, 'ObjectPatchHook', 'object_patches=, hook_scope=', _REASON)
TransformerOptionsHook = unsupported_class(__name__, 'TransformerOptionsHook', 'transformers_dict=, hook_scope=', _REASON)
WrapperHook = UnsupportedValue(__name__, 'WrapperHook', _REASON)
load_hook_lora_for_models = unsupported_function(__name__, 'load_hook_lora_for_models', 'model, clip, lora, strength_model, strength_clip', _REASON)
