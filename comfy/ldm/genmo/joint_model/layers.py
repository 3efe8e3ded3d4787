"""ComfyUI's `comfy.ldm.genmo.joint_model.layers`, as faces: Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import UnsupportedValue, unsupported_class

_REASON = "Kiln does not carry ComfyUI's `genmo` network code (Kiln's models are diffusers modules)"

FeedForward = unsupported_class(__name__, 'FeedForward', 'in_features, hidden_size, multiple_of, ffn_dim_multiplier, device=, dtype=, operations=', _REASON)
PatchEmbed = unsupported_class(__name__, 'PatchEmbed', 'patch_size=, in_chans=, embed_dim=, norm_layer=, flatten=, bias=, dynamic_img_pad=, dtype=, device=, operations=', _REASON)
TimestepEmbedder = unsupported_class(__name__, 'TimestepEmbedder', 'hidden_size, frequency_embedding_size=, *, bias=, timestep_scale=, dtype=, device=, operations=', _REASON)
to_2tuple = UnsupportedValue(__name__, 'to_2tuple', _REASON)
