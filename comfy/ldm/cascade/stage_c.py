"""ComfyUI's `comfy.ldm.cascade.stage_c`, as faces: Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules).

Every name is importable with ComfyUI's kind and signature and raises UnsupportedError when used (comfy/unsupported.py).
"""

from comfy.unsupported import unsupported_class

_REASON = "Kiln does not carry ComfyUI's `cascade` network code (Kiln's models are diffusers modules)"

StageC = unsupported_class(__name__, 'StageC', 'c_in=, c_out=, c_r=, patch_size=, c_cond=, c_hidden=, nhead=, blocks=, block_repeat=, level_config=, c_clip_text=, c_clip_text_pooled=, c_clip_img=, c_clip_seq=, kernel_size=, dropout=, self_attn=, t_conds=, switch_level=, stable_cascade_stage=, dtype=, device=, operations=', _REASON)
UpDownBlock2d = unsupported_class(__name__, 'UpDownBlock2d', 'c_in, c_out, mode, enabled=, dtype=, device=, operations=', _REASON)
