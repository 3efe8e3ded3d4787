"""ComfyUI's `comfy.cldm.cldm`, as faces: Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks"

ControlNet = unsupported_class(__name__, 'ControlNet', 'image_size, in_channels, model_channels, hint_channels, num_res_blocks, dropout=, channel_mult=, conv_resample=, dims=, num_classes=, use_checkpoint=, dtype=, num_heads=, num_head_channels=, num_heads_upsample=, use_scale_shift_norm=, resblock_updown=, use_new_attention_order=, use_spatial_transformer=, transformer_depth=, context_dim=, n_embed=, legacy=, disable_self_attentions=, num_attention_blocks=, disable_middle_self_attn=, use_linear_in_transformer=, adm_in_channels=, transformer_depth_middle=, transformer_depth_output=, attn_precision=, union_controlnet_num_control_type=, device=, operations=, **kwargs', _REASON)
ControlledUnetModel = unsupported_class(__name__, 'ControlledUnetModel', None, _REASON)
OptimizedAttention = unsupported_class(__name__, 'OptimizedAttention', 'c, nhead, dropout=, dtype=, device=, operations=', _REASON)
QuickGELU = unsupported_class(__name__, 'QuickGELU', None, _REASON)
ResBlockUnionControlnet = unsupported_class(__name__, 'ResBlockUnionControlnet', 'dim, nhead, dtype=, device=, operations=', _REASON)
