"""ComfyUI's `comfy.ldm.genmo.joint_model.asymm_models_joint`, as faces: Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class, unsupported_function

_REASON = "Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules)"

AsymmDiTJoint = unsupported_class(__name__, 'AsymmDiTJoint', '*, patch_size=, in_channels=, hidden_size_x=, hidden_size_y=, depth=, num_heads=, mlp_ratio_x=, mlp_ratio_y=, use_t5=, t5_feat_dim=, t5_token_length=, learn_sigma=, patch_embed_bias=, timestep_mlp_bias=, attend_to_padding=, timestep_scale=, use_extended_posenc=, posenc_preserve_area=, rope_theta=, image_model=, device=, dtype=, operations=, **block_kwargs', _REASON)
AsymmetricAttention = unsupported_class(__name__, 'AsymmetricAttention', 'dim_x, dim_y, num_heads=, qkv_bias=, qk_norm=, attn_drop=, update_y=, out_bias=, attend_to_padding=, softmax_scale=, device=, dtype=, operations=', _REASON)
AsymmetricJointBlock = unsupported_class(__name__, 'AsymmetricJointBlock', 'hidden_size_x, hidden_size_y, num_heads, *, mlp_ratio_x=, mlp_ratio_y=, update_y=, device=, dtype=, operations=, **block_kwargs', _REASON)
FinalLayer = unsupported_class(__name__, 'FinalLayer', 'hidden_size, patch_size, out_channels, device=, dtype=, operations=', _REASON)
modulated_rmsnorm = unsupported_function(__name__, 'modulated_rmsnorm', 'x, scale, eps=', _REASON)
residual_tanh_gated_rmsnorm = unsupported_function(__name__, 'residual_tanh_gated_rmsnorm', 'x, x_res, gate, eps=', _REASON)
