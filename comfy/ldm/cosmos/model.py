"""ComfyUI's `comfy.ldm.cosmos.model`, as faces: Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cosmos` network code (Kiln's models are diffusers modules)"

DataType = unsupported_class(__name__, 'DataType', None, _REASON)
GeneralDIT = unsupported_class(__name__, 'GeneralDIT', 'max_img_h, max_img_w, max_frames, in_channels, out_channels, patch_spatial, patch_temporal, concat_padding_mask=, block_config=, model_channels=, num_blocks=, num_heads=, mlp_ratio=, block_x_format=, crossattn_emb_channels=, use_cross_attn_mask=, pos_emb_cls=, pos_emb_learnable=, pos_emb_interpolation=, affline_emb_norm=, use_adaln_lora=, adaln_lora_dim=, rope_h_extrapolation_ratio=, rope_w_extrapolation_ratio=, rope_t_extrapolation_ratio=, extra_per_block_abs_pos_emb=, extra_per_block_abs_pos_emb_type=, extra_h_extrapolation_ratio=, extra_w_extrapolation_ratio=, extra_t_extrapolation_ratio=, image_model=, device=, dtype=, operations=', _REASON)
