"""ComfyUI's `comfy.cldm.dit_embedder`, as faces: Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks.

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln's ControlNets and T2I-Adapters are diffusers-based (comfy.guidance), not ComfyUI's networks"

ControlNetEmbedder = unsupported_class(__name__, 'ControlNetEmbedder', 'img_size, patch_size, in_chans, attention_head_dim, num_attention_heads, adm_in_channels, num_layers, main_model_double, double_y_emb, device, dtype, pos_embed_max_size=, operations=', _REASON)
