"""ComfyUI's `comfy_extras.nodes_video_model`, as faces: Kiln does not implement this `nodes_video_model` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = 'Kiln does not implement this `nodes_video_model` node yet'

ConditioningSetAreaPercentageVideo = unsupported_class(__name__, 'ConditioningSetAreaPercentageVideo', None, _REASON)
ImageOnlyCheckpointLoader = unsupported_class(__name__, 'ImageOnlyCheckpointLoader', None, _REASON)
ImageOnlyCheckpointSave = unsupported_class(__name__, 'ImageOnlyCheckpointSave', None, _REASON)
NODE_CLASS_MAPPINGS: dict = {}
NODE_DISPLAY_NAME_MAPPINGS: dict = {}
SVD_img2vid_Conditioning = unsupported_class(__name__, 'SVD_img2vid_Conditioning', None, _REASON)
VideoLinearCFGGuidance = unsupported_class(__name__, 'VideoLinearCFGGuidance', None, _REASON)
VideoTriangleCFGGuidance = unsupported_class(__name__, 'VideoTriangleCFGGuidance', None, _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
