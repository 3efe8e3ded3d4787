"""ComfyUI's `comfy.ldm.cascade.stage_b`, as faces: Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules)"

StageB = unsupported_class(__name__, 'StageB', 'c_in=, c_out=, c_r=, patch_size=, c_cond=, c_hidden=, nhead=, blocks=, block_repeat=, level_config=, c_clip=, c_clip_seq=, c_effnet=, c_pixels=, kernel_size=, dropout=, self_attn=, t_conds=, stable_cascade_stage=, dtype=, device=, operations=', _REASON)
