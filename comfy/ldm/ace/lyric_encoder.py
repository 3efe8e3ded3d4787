"""ComfyUI's `comfy.ldm.ace.lyric_encoder`, as faces: Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `ace` network code (Kiln's models are diffusers modules)"

ACTIVATION_CLASSES = UnsupportedValue(__name__, 'ACTIVATION_CLASSES', _REASON)
ATTENTION_CLASSES = UnsupportedValue(__name__, 'ATTENTION_CLASSES', _REASON)
ConformerEncoder = unsupported_class(__name__, 'ConformerEncoder', 'input_size, output_size=, attention_heads=, linear_units=, num_blocks=, dropout_rate=, positional_dropout_rate=, attention_dropout_rate=, input_layer=, pos_enc_layer_type=, normalize_before=, static_chunk_size=, use_dynamic_chunk=, use_dynamic_left_chunk=, positionwise_conv_kernel_size=, macaron_style=, selfattention_layer_type=, activation_type=, use_cnn_module=, cnn_module_kernel=, causal=, cnn_module_norm=, key_bias=, dtype=, device=, operations=', _REASON)
ConformerEncoderLayer = unsupported_class(__name__, 'ConformerEncoderLayer', 'size, self_attn, feed_forward=, feed_forward_macaron=, conv_module=, dropout_rate=, normalize_before=, dtype=, device=, operations=', _REASON)
ConvolutionModule = unsupported_class(__name__, 'ConvolutionModule', 'channels, kernel_size=, activation=, norm=, causal=, bias=, dtype=, device=, operations=', _REASON)
EspnetRelPositionalEncoding = unsupported_class(__name__, 'EspnetRelPositionalEncoding', 'd_model, dropout_rate, max_len=', _REASON)
LinearEmbed = unsupported_class(__name__, 'LinearEmbed', 'idim, odim, dropout_rate, pos_enc_class, dtype=, device=, operations=', _REASON)
MultiHeadedAttention = unsupported_class(__name__, 'MultiHeadedAttention', 'n_head, n_feat, dropout_rate, key_bias=, dtype=, device=, operations=', _REASON)
PositionwiseFeedForward = unsupported_class(__name__, 'PositionwiseFeedForward', 'idim, hidden_units, dropout_rate, activation=, dtype=, device=, operations=', _REASON)
RelPositionMultiHeadedAttention = unsupported_class(__name__, 'RelPositionMultiHeadedAttention', 'n_head, n_feat, dropout_rate, key_bias=, dtype=, device=, operations=', _REASON)
Swish = unsupported_class(__name__, 'Swish', None, _REASON)
add_optional_chunk_mask = unsupported_function(__name__, 'add_optional_chunk_mask', 'xs, masks, use_dynamic_chunk, use_dynamic_left_chunk, decoding_chunk_size, static_chunk_size, num_decoding_left_chunks, enable_full_context=', _REASON)
make_pad_mask = unsupported_function(__name__, 'make_pad_mask', 'lengths, max_len=', _REASON)
subsequent_chunk_mask = unsupported_function(__name__, 'subsequent_chunk_mask', 'size, chunk_size, num_left_chunks=, device=', _REASON)
subsequent_mask = unsupported_function(__name__, 'subsequent_mask', 'size, device=', _REASON)
