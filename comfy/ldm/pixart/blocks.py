"""ComfyUI's `comfy.ldm.pixart.blocks`, as faces: Kiln does not carry ComfyUI's `pixart` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `pixart` network code (Kiln's models are diffusers modules)"

AttentionKVCompress = unsupported_class(__name__, 'AttentionKVCompress', 'dim, num_heads=, qkv_bias=, sampling=, sr_ratio=, qk_norm=, dtype=, device=, operations=, **kwargs', _REASON)
CaptionEmbedder = unsupported_class(__name__, 'CaptionEmbedder', 'in_channels, hidden_size, uncond_prob, act_layer=, token_num=, dtype=, device=, operations=', _REASON)
CaptionEmbedderDoubleBr = unsupported_class(__name__, 'CaptionEmbedderDoubleBr', 'in_channels, hidden_size, uncond_prob, act_layer=, token_num=, dtype=, device=, operations=', _REASON)
DecoderLayer = unsupported_class(__name__, 'DecoderLayer', 'hidden_size, decoder_hidden_size, dtype=, device=, operations=', _REASON)
FinalLayer = unsupported_class(__name__, 'FinalLayer', 'hidden_size, patch_size, out_channels, dtype=, device=, operations=', _REASON)
LabelEmbedder = unsupported_class(__name__, 'LabelEmbedder', 'num_classes, hidden_size, dropout_prob, dtype=, device=, operations=', _REASON)
MaskFinalLayer = unsupported_class(__name__, 'MaskFinalLayer', 'final_hidden_size, c_emb_size, patch_size, out_channels, dtype=, device=, operations=', _REASON)
MultiHeadCrossAttention = unsupported_class(__name__, 'MultiHeadCrossAttention', 'd_model, num_heads, attn_drop=, proj_drop=, dtype=, device=, operations=, **kwargs', _REASON)
SizeEmbedder = unsupported_class(__name__, 'SizeEmbedder', 'hidden_size, frequency_embedding_size=, dtype=, device=, operations=', _REASON)
T2IFinalLayer = unsupported_class(__name__, 'T2IFinalLayer', 'hidden_size, patch_size, out_channels, dtype=, device=, operations=', _REASON)
modulate = unsupported_function(__name__, 'modulate', 'x, shift, scale', _REASON)
t2i_modulate = unsupported_function(__name__, 't2i_modulate', 'x, shift, scale', _REASON)
