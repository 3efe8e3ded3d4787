"""ComfyUI's `comfy_extras.nodes_advanced_samplers`, as faces: Kiln does not implement this `nodes_advanced_samplers` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_advanced_samplers` node yet'

AdvancedSamplersExtension = unsupported_class(__name__, 'AdvancedSamplersExtension', None, _REASON)
SamplerEulerCFGpp = unsupported_class(__name__, 'SamplerEulerCFGpp', None, _REASON)
SamplerLCMUpscale = unsupported_class(__name__, 'SamplerLCMUpscale', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
sample_euler_pp = unsupported_function(__name__, 'sample_euler_pp', 'model, x, sigmas, extra_args=, callback=, disable=', _REASON)
sample_lcm_upscale = unsupported_function(__name__, 'sample_lcm_upscale', 'model, x, sigmas, extra_args=, callback=, disable=, total_upscale=, upscale_method=, upscale_steps=', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
