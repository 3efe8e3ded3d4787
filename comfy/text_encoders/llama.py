"""ComfyUI's `comfy.text_encoders.llama`, as faces: Kiln has no `llama` text encoder.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = 'Kiln has no `llama` text encoder'

Attention = unsupported_class(__name__, 'Attention', 'config, device=, dtype=, ops=', _REASON)
BaseLlama = unsupported_class(__name__, 'BaseLlama', None, _REASON)
Gemma2_2B = unsupported_class(__name__, 'Gemma2_2B', 'config_dict, dtype, device, operations', _REASON)
Gemma2_2B_Config = unsupported_class(__name__, 'Gemma2_2B_Config', None, _REASON)
Gemma3_4B = unsupported_class(__name__, 'Gemma3_4B', 'config_dict, dtype, device, operations', _REASON)
Gemma3_4B_Config = unsupported_class(__name__, 'Gemma3_4B_Config', None, _REASON)
Llama2 = unsupported_class(__name__, 'Llama2', 'config_dict, dtype, device, operations', _REASON)
Llama2Config = unsupported_class(__name__, 'Llama2Config', None, _REASON)
Llama2_ = unsupported_class(__name__, 'Llama2_', 'config, device=, dtype=, ops=', _REASON)
MLP = unsupported_class(__name__, 'MLP', 'config, device=, dtype=, ops=', _REASON)
Qwen25_3B = unsupported_class(__name__, 'Qwen25_3B', 'config_dict, dtype, device, operations', _REASON)
Qwen25_3BConfig = unsupported_class(__name__, 'Qwen25_3BConfig', None, _REASON)
Qwen25_7BVLI = unsupported_class(__name__, 'Qwen25_7BVLI', 'config_dict, dtype, device, operations', _REASON)
Qwen25_7BVLI_Config = unsupported_class(__name__, 'Qwen25_7BVLI_Config', None, _REASON)
RMSNorm = unsupported_class(__name__, 'RMSNorm', 'dim, eps=, add=, device=, dtype=', _REASON)
TransformerBlock = unsupported_class(__name__, 'TransformerBlock', 'config, index, device=, dtype=, ops=', _REASON)
TransformerBlockGemma2 = unsupported_class(__name__, 'TransformerBlockGemma2', 'config, index, device=, dtype=, ops=', _REASON)
apply_rope = unsupported_function(__name__, 'apply_rope', 'xq, xk, freqs_cis', _REASON)
precompute_freqs_cis = unsupported_function(__name__, 'precompute_freqs_cis', 'head_dim, position_ids, theta, rope_scale=, rope_dims=, device=', _REASON)
rotate_half = unsupported_function(__name__, 'rotate_half', 'x', _REASON)
