"""ComfyUI's `comfy_extras.nodes_easycache`, as faces: Kiln does not implement this `nodes_easycache` node yet.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln does not implement this `nodes_easycache` node yet'

EasyCacheExtension = unsupported_class(__name__, 'EasyCacheExtension', None, _REASON)
EasyCacheHolder = unsupported_class(__name__, 'EasyCacheHolder', 'reuse_threshold, start_percent, end_percent, subsample_factor, offload_cache_diff, verbose=', _REASON)
EasyCacheNode = unsupported_class(__name__, 'EasyCacheNode', None, _REASON)
LazyCacheHolder = unsupported_class(__name__, 'LazyCacheHolder', 'reuse_threshold, start_percent, end_percent, subsample_factor, offload_cache_diff, verbose=', _REASON)
LazyCacheNode = unsupported_class(__name__, 'LazyCacheNode', None, _REASON)
comfy_entrypoint = unsupported_function(__name__, 'comfy_entrypoint', '', _REASON)
easycache_calc_cond_batch_wrapper = unsupported_function(__name__, 'easycache_calc_cond_batch_wrapper', 'executor, *args, **kwargs', _REASON)
easycache_forward_wrapper = unsupported_function(__name__, 'easycache_forward_wrapper', 'executor, *args, **kwargs', _REASON)
easycache_sample_wrapper = unsupported_function(__name__, 'easycache_sample_wrapper', 'executor, *args, **kwargs', _REASON)
lazycache_predict_noise_wrapper = unsupported_function(__name__, 'lazycache_predict_noise_wrapper', 'executor, *args, **kwargs', _REASON)

__kiln_faces__ = True  # the node loader imports this module and registers none of its names
