"""ComfyUI's `comfy.ldm.modules.diffusionmodules.openaimodel`, as faces: Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

import comfy.ops
from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `modules` network code (Kiln's models are diffusers modules)"

Downsample = unsupported_class(__name__, 'Downsample', 'channels, use_conv, dims=, out_channels=, padding=, dtype=, device=, operations=', _REASON)
ResBlock = unsupported_class(__name__, 'ResBlock', 'channels, emb_channels, dropout, out_channels=, use_conv=, use_scale_shift_norm=, dims=, use_checkpoint=, up=, down=, kernel_size=, exchange_temb_dims=, skip_t_emb=, dtype=, device=, operations=', _REASON)
Timestep = unsupported_class(__name__, 'Timestep', 'dim', _REASON)
TimestepBlock = unsupported_class(__name__, 'TimestepBlock', None, _REASON)
TimestepEmbedSequential = unsupported_class(__name__, 'TimestepEmbedSequential', None, _REASON)
UNetModel = unsupported_class(__name__, 'UNetModel', 'image_size, in_channels, model_channels, out_channels, num_res_blocks, dropout=, channel_mult=, conv_resample=, dims=, num_classes=, use_checkpoint=, dtype=, num_heads=, num_head_channels=, num_heads_upsample=, use_scale_shift_norm=, resblock_updown=, use_new_attention_order=, use_spatial_transformer=, transformer_depth=, context_dim=, n_embed=, legacy=, disable_self_attentions=, num_attention_blocks=, disable_middle_self_attn=, use_linear_in_transformer=, adm_in_channels=, transformer_depth_middle=, transformer_depth_output=, use_temporal_resblock=, use_temporal_attention=, time_context_dim=, extra_ff_mix_layer=, use_spatial_context=, merge_strategy=, merge_factor=, video_kernel_size=, disable_temporal_crossattention=, max_ddpm_temb_period=, attn_precision=, device=, operations=', _REASON)
Upsample = unsupported_class(__name__, 'Upsample', 'channels, use_conv, dims=, out_channels=, padding=, dtype=, device=, operations=', _REASON)
VideoResBlock = unsupported_class(__name__, 'VideoResBlock', 'channels, emb_channels, dropout, video_kernel_size=, merge_strategy=, merge_factor=, out_channels=, use_conv=, use_scale_shift_norm=, dims=, use_checkpoint=, up=, down=, dtype=, device=, operations=', _REASON)
apply_control = unsupported_function(__name__, 'apply_control', 'h, control, name', _REASON)
forward_timestep_embed = unsupported_function(__name__, 'forward_timestep_embed', 'ts, x, emb, context=, transformer_options=, output_shape=, time_context=, num_video_frames=, image_only_indicator=', _REASON)
ops = comfy.ops.disable_weight_init
