"""ComfyUI's `comfy_extras.nodes_hooks`, as faces: Kiln does not implement this `nodes_hooks` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class

_REASON = 'Kiln does not implement this `nodes_hooks` node yet'

CombineHooks = unsupported_class(__name__, 'CombineHooks', None, _REASON)
CombineHooksEight = unsupported_class(__name__, 'CombineHooksEight', None, _REASON)
CombineHooksFour = unsupported_class(__name__, 'CombineHooksFour', None, _REASON)
ConditioningSetDefaultAndCombine = unsupported_class(__name__, 'ConditioningSetDefaultAndCombine', None, _REASON)
ConditioningSetProperties = unsupported_class(__name__, 'ConditioningSetProperties', None, _REASON)
ConditioningSetPropertiesAndCombine = unsupported_class(__name__, 'ConditioningSetPropertiesAndCombine', None, _REASON)
ConditioningTimestepsRange = unsupported_class(__name__, 'ConditioningTimestepsRange', None, _REASON)
CreateHookKeyframe = unsupported_class(__name__, 'CreateHookKeyframe', None, _REASON)
CreateHookKeyframesFromFloats = unsupported_class(__name__, 'CreateHookKeyframesFromFloats', None, _REASON)
CreateHookKeyframesInterpolated = unsupported_class(__name__, 'CreateHookKeyframesInterpolated', None, _REASON)
CreateHookLora = unsupported_class(__name__, 'CreateHookLora', '', _REASON)
CreateHookLoraModelOnly = unsupported_class(__name__, 'CreateHookLoraModelOnly', None, _REASON)
CreateHookModelAsLora = unsupported_class(__name__, 'CreateHookModelAsLora', '', _REASON)
CreateHookModelAsLoraModelOnly = unsupported_class(__name__, 'CreateHookModelAsLoraModelOnly', None, _REASON)
NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
PairConditioningCombine = unsupported_class(__name__, 'PairConditioningCombine', None, _REASON)
PairConditioningSetDefaultAndCombine = unsupported_class(__name__, 'PairConditioningSetDefaultAndCombine', None, _REASON)
PairConditioningSetProperties = unsupported_class(__name__, 'PairConditioningSetProperties', None, _REASON)
PairConditioningSetPropertiesAndCombine = unsupported_class(__name__, 'PairConditioningSetPropertiesAndCombine', None, _REASON)
SetClipHooks = unsupported_class(__name__, 'SetClipHooks', None, _REASON)
SetHookKeyframes = unsupported_class(__name__, 'SetHookKeyframes', None, _REASON)
SetModelHooksOnCond = unsupported_class(__name__, 'SetModelHooksOnCond', None, _REASON)
node_list = UnsupportedValue(__name__, 'node_list', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
