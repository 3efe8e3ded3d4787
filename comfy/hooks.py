"""ComfyUI's `comfy.hooks`, as faces: Kiln has no hook system (scheduled LoRA and conditioning hooks).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = "Kiln has no hook system (scheduled LoRA and conditioning hooks)"

AdditionalModelsHook = unsupported_class(__name__, 'AdditionalModelsHook', 'models=, key=', _REASON)
EnumHookMode = unsupported_class(__name__, 'EnumHookMode', None, _REASON)
EnumHookScope = unsupported_class(__name__, 'EnumHookScope', None, _REASON)
EnumHookType = unsupported_class(__name__, 'EnumHookType', None, _REASON)
EnumWeightTarget = unsupported_class(__name__, 'EnumWeightTarget', None, _REASON)
Hook = unsupported_class(__name__, 'Hook', 'hook_type=, hook_ref=, hook_id=, hook_keyframe=, hook_scope=', _REASON)
HookGroup = unsupported_class(__name__, 'HookGroup', '', _REASON)
HookKeyframe = unsupported_class(__name__, 'HookKeyframe', 'strength, start_percent=, guarantee_steps=', _REASON)
HookKeyframeGroup = unsupported_class(__name__, 'HookKeyframeGroup', '', _REASON)
InjectionsHook = unsupported_class(__name__, 'InjectionsHook', 'key=, injections=, hook_scope=', _REASON)
InterpolationMethod = unsupported_class(__name__, 'InterpolationMethod', None, _REASON)
ObjectPatchHook = unsupported_class(__name__, 'ObjectPatchHook', 'object_patches=, hook_scope=', _REASON)
TransformerOptionsHook = unsupported_class(__name__, 'TransformerOptionsHook', 'transformers_dict=, hook_scope=', _REASON)
WeightHook = unsupported_class(__name__, 'WeightHook', 'strength_model=, strength_clip=', _REASON)
WrapperHook = UnsupportedValue(__name__, 'WrapperHook', _REASON)
combine_conditioning = unsupported_function(__name__, 'combine_conditioning', 'conds', _REASON)
combine_with_new_conds = unsupported_function(__name__, 'combine_with_new_conds', 'conds, new_conds', _REASON)
conditioning_set_values_with_hooks = unsupported_function(__name__, 'conditioning_set_values_with_hooks', 'conditioning, values=, append_hooks=, cache=', _REASON)
create_hook_lora = unsupported_function(__name__, 'create_hook_lora', 'lora, strength_model, strength_clip', _REASON)
create_hook_model_as_lora = unsupported_function(__name__, 'create_hook_model_as_lora', 'weights_model, weights_clip, strength_model, strength_clip', _REASON)
create_target_dict = unsupported_function(__name__, 'create_target_dict', 'target=, **kwargs', _REASON)
create_transformer_options_from_hooks = unsupported_function(__name__, 'create_transformer_options_from_hooks', 'model, hooks, transformer_options=', _REASON)
default_should_register = unsupported_function(__name__, 'default_should_register', 'hook, model, model_options, target_dict, registered', _REASON)
get_patch_weights_from_model = unsupported_function(__name__, 'get_patch_weights_from_model', 'model, discard_model_sampling=', _REASON)
get_sorted_list_via_attr = unsupported_function(__name__, 'get_sorted_list_via_attr', 'objects, attr', _REASON)
load_hook_lora_for_models = unsupported_function(__name__, 'load_hook_lora_for_models', 'model, clip, lora, strength_model, strength_clip', _REASON)
set_conds_props = unsupported_function(__name__, 'set_conds_props', 'conds, strength, set_cond_area, mask=, hooks=, timesteps_range=, append_hooks=', _REASON)
set_conds_props_and_combine = unsupported_function(__name__, 'set_conds_props_and_combine', 'conds, new_conds, strength=, set_cond_area=, mask=, hooks=, timesteps_range=, append_hooks=', _REASON)
set_default_conds_and_combine = unsupported_function(__name__, 'set_default_conds_and_combine', 'conds, new_conds, hooks=, timesteps_range=, append_hooks=', _REASON)
set_hooks_for_conditioning = unsupported_function(__name__, 'set_hooks_for_conditioning', 'cond, hooks, append_hooks=, cache=', _REASON)
set_mask_for_conditioning = unsupported_function(__name__, 'set_mask_for_conditioning', 'cond, mask, set_cond_area, strength', _REASON)
set_timesteps_for_conditioning = unsupported_function(__name__, 'set_timesteps_for_conditioning', 'cond, timestep_range', _REASON)
