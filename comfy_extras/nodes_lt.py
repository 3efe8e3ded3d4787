"""ComfyUI's `comfy_extras.nodes_lt`, as faces: Kiln does not implement this `nodes_lt` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_lt` node yet'

EmptyLTXVLatentVideo = unsupported_class(__name__, 'EmptyLTXVLatentVideo', None, _REASON)
LTXVAddGuide = unsupported_class(__name__, 'LTXVAddGuide', None, _REASON)
LTXVConditioning = unsupported_class(__name__, 'LTXVConditioning', None, _REASON)
LTXVCropGuides = unsupported_class(__name__, 'LTXVCropGuides', None, _REASON)
LTXVImgToVideo = unsupported_class(__name__, 'LTXVImgToVideo', None, _REASON)
LTXVPreprocess = unsupported_class(__name__, 'LTXVPreprocess', None, _REASON)
LTXVScheduler = unsupported_class(__name__, 'LTXVScheduler', None, _REASON)
LtxvExtension = unsupported_class(__name__, 'LtxvExtension', None, _REASON)
ModelSamplingLTXV = unsupported_class(__name__, 'ModelSamplingLTXV', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
conditioning_get_any_value = unsupported_function(__name__, 'conditioning_get_any_value', 'conditioning, key, default=', _REASON)
decode_single_frame = unsupported_function(__name__, 'decode_single_frame', 'video_file', _REASON)
encode_single_frame = unsupported_function(__name__, 'encode_single_frame', 'output_file, image_array, crf', _REASON)
get_keyframe_idxs = unsupported_function(__name__, 'get_keyframe_idxs', 'cond', _REASON)
get_noise_mask = unsupported_function(__name__, 'get_noise_mask', 'latent', _REASON)
preprocess = unsupported_function(__name__, 'preprocess', 'image, crf=', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
