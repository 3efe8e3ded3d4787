"""ComfyUI's `comfy.ldm.wan.model`, as faces: Kiln does not carry ComfyUI's `wan` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `wan` network code (Kiln's models are diffusers modules)"

AdaLayerNorm = unsupported_class(__name__, 'AdaLayerNorm', 'embedding_dim, output_dim=, norm_elementwise_affine=, norm_eps=, dtype=, device=, operations=', _REASON)
AudioCrossAttentionWrapper = unsupported_class(__name__, 'AudioCrossAttentionWrapper', 'dim, kv_dim, num_heads, qk_norm=, eps=, operation_settings=', _REASON)
AudioInjector_WAN = unsupported_class(__name__, 'AudioInjector_WAN', 'dim=, num_heads=, inject_layer=, root_net=, enable_adain=, adain_dim=, adain_mode=, dtype=, device=, operations=', _REASON)
AudioProjModel = unsupported_class(__name__, 'AudioProjModel', 'seq_len=, blocks=, channels=, intermediate_dim=, output_dim=, context_tokens=, device=, dtype=, operations=', _REASON)
CameraWanModel = unsupported_class(__name__, 'CameraWanModel', 'model_type=, patch_size=, text_len=, in_dim=, dim=, ffn_dim=, freq_dim=, text_dim=, out_dim=, num_heads=, num_layers=, window_size=, qk_norm=, cross_attn_norm=, eps=, flf_pos_embed_token_number=, image_model=, in_dim_control_adapter=, device=, dtype=, operations=', _REASON)
CausalAudioEncoder = unsupported_class(__name__, 'CausalAudioEncoder', 'dim=, num_layers=, out_dim=, video_rate=, num_token=, need_global=, dtype=, device=, operations=', _REASON)
CausalConv1d = unsupported_class(__name__, 'CausalConv1d', 'chan_in, chan_out, kernel_size=, stride=, dilation=, pad_mode=, operations=, **kwargs', _REASON)
DummyAdapterLayer = unsupported_class(__name__, 'DummyAdapterLayer', 'layer', _REASON)
FramePackMotioner = unsupported_class(__name__, 'FramePackMotioner', 'inner_dim=, num_heads=, zip_frame_buckets=, drop_mode=, dtype=, device=, operations=', _REASON)
Head = unsupported_class(__name__, 'Head', 'dim, out_dim, patch_size, eps=, operation_settings=', _REASON)
HumoWanModel = unsupported_class(__name__, 'HumoWanModel', 'model_type=, patch_size=, text_len=, in_dim=, dim=, ffn_dim=, freq_dim=, text_dim=, out_dim=, num_heads=, num_layers=, window_size=, qk_norm=, cross_attn_norm=, eps=, flf_pos_embed_token_number=, image_model=, audio_token_num=, device=, dtype=, operations=', _REASON)
MLPProj = unsupported_class(__name__, 'MLPProj', 'in_dim, out_dim, flf_pos_embed_token_number=, operation_settings=', _REASON)
MotionEncoder_tc = unsupported_class(__name__, 'MotionEncoder_tc', 'in_dim, hidden_dim, num_heads, need_global=, dtype=, device=, operations=', _REASON)
VaceWanAttentionBlock = unsupported_class(__name__, 'VaceWanAttentionBlock', 'cross_attn_type, dim, ffn_dim, num_heads, window_size=, qk_norm=, cross_attn_norm=, eps=, block_id=, operation_settings=', _REASON)
VaceWanModel = unsupported_class(__name__, 'VaceWanModel', 'model_type=, patch_size=, text_len=, in_dim=, dim=, ffn_dim=, freq_dim=, text_dim=, out_dim=, num_heads=, num_layers=, window_size=, qk_norm=, cross_attn_norm=, eps=, flf_pos_embed_token_number=, image_model=, vace_layers=, vace_in_dim=, device=, dtype=, operations=', _REASON)
WAN_CROSSATTENTION_CLASSES = UnsupportedValue(__name__, 'WAN_CROSSATTENTION_CLASSES', _REASON)
WanAttentionBlock = unsupported_class(__name__, 'WanAttentionBlock', 'cross_attn_type, dim, ffn_dim, num_heads, window_size=, qk_norm=, cross_attn_norm=, eps=, operation_settings=', _REASON)
WanAttentionBlockAudio = unsupported_class(__name__, 'WanAttentionBlockAudio', 'cross_attn_type, dim, ffn_dim, num_heads, window_size=, qk_norm=, cross_attn_norm=, eps=, operation_settings=', _REASON)
WanCamAdapter = unsupported_class(__name__, 'WanCamAdapter', 'in_dim, out_dim, kernel_size, stride, num_residual_blocks=, operation_settings=', _REASON)
WanCamResidualBlock = unsupported_class(__name__, 'WanCamResidualBlock', 'dim, operation_settings=', _REASON)
WanI2VCrossAttention = unsupported_class(__name__, 'WanI2VCrossAttention', 'dim, num_heads, window_size=, qk_norm=, eps=, operation_settings=', _REASON)
WanModel = unsupported_class(__name__, 'WanModel', 'model_type=, patch_size=, text_len=, in_dim=, dim=, ffn_dim=, freq_dim=, text_dim=, out_dim=, num_heads=, num_layers=, window_size=, qk_norm=, cross_attn_norm=, eps=, flf_pos_embed_token_number=, in_dim_ref_conv=, wan_attn_block_class=, image_model=, device=, dtype=, operations=', _REASON)
WanModel_S2V = unsupported_class(__name__, 'WanModel_S2V', 'model_type=, patch_size=, text_len=, in_dim=, dim=, ffn_dim=, freq_dim=, text_dim=, out_dim=, num_heads=, num_layers=, window_size=, qk_norm=, cross_attn_norm=, eps=, audio_dim=, num_audio_token=, enable_adain=, cond_dim=, audio_inject_layers=, adain_mode=, framepack_drop_mode=, image_model=, device=, dtype=, operations=', _REASON)
WanSelfAttention = unsupported_class(__name__, 'WanSelfAttention', 'dim, num_heads, window_size=, qk_norm=, eps=, kv_dim=, operation_settings=', _REASON)
WanT2VCrossAttention = unsupported_class(__name__, 'WanT2VCrossAttention', None, _REASON)
WanT2VCrossAttentionGather = unsupported_class(__name__, 'WanT2VCrossAttentionGather', None, _REASON)
repeat_e = unsupported_function(__name__, 'repeat_e', 'e, x', _REASON)
sinusoidal_embedding_1d = unsupported_function(__name__, 'sinusoidal_embedding_1d', 'dim, position', _REASON)
