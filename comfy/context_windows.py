"""ComfyUI's `comfy.context_windows`, as faces: Kiln has no context-window sampling.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = "Kiln has no context-window sampling"

CONTEXT_MAPPING = UnsupportedValue(__name__, 'CONTEXT_MAPPING', _REASON)
ContextFuseMethod = unsupported_class(__name__, 'ContextFuseMethod', None, _REASON)
ContextFuseMethods = unsupported_class(__name__, 'ContextFuseMethods', None, _REASON)
ContextHandlerABC = unsupported_class(__name__, 'ContextHandlerABC', '', _REASON)
ContextResults = UnsupportedValue(__name__, 'ContextResults', _REASON)
ContextSchedule = unsupported_class(__name__, 'ContextSchedule', None, _REASON)
ContextSchedules = unsupported_class(__name__, 'ContextSchedules', None, _REASON)
ContextWindowABC = unsupported_class(__name__, 'ContextWindowABC', '', _REASON)
FUSE_MAPPING = UnsupportedValue(__name__, 'FUSE_MAPPING', _REASON)
IndexListCallbacks = unsupported_class(__name__, 'IndexListCallbacks', None, _REASON)
IndexListContextHandler = unsupported_class(__name__, 'IndexListContextHandler', 'context_schedule, fuse_method, context_length=, context_overlap=, context_stride=, closed_loop=, dim=', _REASON)
IndexListContextWindow = unsupported_class(__name__, 'IndexListContextWindow', 'index_list, dim=', _REASON)
create_prepare_sampling_wrapper = unsupported_function(__name__, 'create_prepare_sampling_wrapper', 'model', _REASON)
create_weights_flat = unsupported_function(__name__, 'create_weights_flat', 'length, **kwargs', _REASON)
create_weights_overlap_linear = unsupported_function(__name__, 'create_weights_overlap_linear', 'length, full_length, idxs, handler, **kwargs', _REASON)
create_weights_pyramid = unsupported_function(__name__, 'create_weights_pyramid', 'length, **kwargs', _REASON)
create_windows_batched = unsupported_function(__name__, 'create_windows_batched', 'num_frames, handler, model_options', _REASON)
create_windows_default = unsupported_function(__name__, 'create_windows_default', 'num_frames, handler', _REASON)
create_windows_static_standard = unsupported_function(__name__, 'create_windows_static_standard', 'num_frames, handler, model_options', _REASON)
create_windows_uniform_looped = unsupported_function(__name__, 'create_windows_uniform_looped', 'num_frames, handler, model_options', _REASON)
create_windows_uniform_standard = unsupported_function(__name__, 'create_windows_uniform_standard', 'num_frames, handler, model_options', _REASON)
does_window_roll_over = unsupported_function(__name__, 'does_window_roll_over', 'window, num_frames', _REASON)
get_context_weights = unsupported_function(__name__, 'get_context_weights', 'length, full_length, idxs, handler, sigma=', _REASON)
get_matching_context_schedule = unsupported_function(__name__, 'get_matching_context_schedule', 'context_schedule', _REASON)
get_matching_fuse_method = unsupported_function(__name__, 'get_matching_fuse_method', 'fuse_method', _REASON)
get_missing_indexes = unsupported_function(__name__, 'get_missing_indexes', 'windows, num_frames', _REASON)
get_shape_for_dim = unsupported_function(__name__, 'get_shape_for_dim', 'x_in, dim', _REASON)
match_weights_to_dim = unsupported_function(__name__, 'match_weights_to_dim', 'weights, x_in, dim, device=', _REASON)
ordered_halving = unsupported_function(__name__, 'ordered_halving', 'val', _REASON)
shift_window_to_end = unsupported_function(__name__, 'shift_window_to_end', 'window, num_frames', _REASON)
shift_window_to_start = unsupported_function(__name__, 'shift_window_to_start', 'window, num_frames', _REASON)
