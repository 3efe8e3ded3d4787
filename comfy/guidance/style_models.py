"""Style models: image-derived tokens appended to the text conditioning (StyleModelLoader / StyleModelApply).

FLUX.1 Redux maps SigLIP's image tokens [B, 729, 1152] through two linear layers (1152 -> 12288, SiLU, -> 4096)
to T5-sized tokens [B, 729, 4096]. The T2I-Adapter style model (`style_embedding`) is recognised but not built.
"""

from __future__ import annotations

from typing import Any

import torch

from comfy.guidance import formats

REDUX_IMAGE_WIDTH = 1152  # SigLIP so400m's token width
REDUX_TEXT_WIDTH = 4096  # T5-XXL's, which FLUX.1 reads


class ReduxImageEncoder(torch.nn.Module):
    """FLUX.1 Redux: SigLIP image tokens -> text-width tokens (`redux_up`, SiLU, `redux_down`)."""

    def __init__(self, redux_dim: int = REDUX_IMAGE_WIDTH, txt_in_features: int = REDUX_TEXT_WIDTH,
                 device: Any = None, dtype: torch.dtype | None = None):
        super().__init__()
        self.redux_dim = redux_dim
        self.device = device
        self.dtype = dtype
        self.redux_up = torch.nn.Linear(redux_dim, 3 * txt_in_features, device=device, dtype=dtype)
        self.redux_down = torch.nn.Linear(3 * txt_in_features, txt_in_features, device=device, dtype=dtype)

    def forward(self, sigclip_embeds: torch.Tensor) -> torch.Tensor:
        weight_dtype = self.redux_up.weight.dtype
        hidden = torch.nn.functional.silu(self.redux_up(sigclip_embeds.to(weight_dtype)))
        return self.redux_down(hidden).to(sigclip_embeds.dtype)


class StyleModel:
    """ComfyUI's STYLE_MODEL: `get_cond(clip_vision_output)` gives the tokens to append, [B, N, width]."""

    def __init__(self, model: torch.nn.Module, device: Any = "cpu"):
        self.model = model

    @torch.no_grad()
    def get_cond(self, clip_vision_output: Any) -> torch.Tensor:
        return self.model(clip_vision_output.last_hidden_state)


def load_style_model(ckpt_path: str) -> StyleModel:
    """The style model in a `style_models` file; `formats.GuidanceFormatError` names the file otherwise."""
    import comfy.utils

    state_dict = comfy.utils.load_torch_file(ckpt_path, safe_load=True)
    if formats.STYLE_REDUX_MARKER in state_dict:
        model = ReduxImageEncoder(redux_dim=state_dict["redux_up.weight"].shape[1],
                                  txt_in_features=state_dict["redux_down.weight"].shape[0])
        model.load_state_dict({key: value.float() for key, value in state_dict.items()})
        return StyleModel(model.eval().requires_grad_(False))
    if formats.STYLE_T2I_MARKER in state_dict:
        raise formats.GuidanceFormatError(f"{ckpt_path}: T2I-Adapter style models are not supported yet "
                                          "(FLUX.1 Redux is)")
    raise formats.GuidanceFormatError(f"{ckpt_path}: not a style model (no {formats.STYLE_REDUX_MARKER!r} "
                                      f"or {formats.STYLE_T2I_MARKER!r} key)")


def _widened_mask(mask: torch.Tensor | None, batch: int, text_tokens: int, new_tokens: int, reference_tokens: int,
                  bias: torch.Tensor) -> torch.Tensor:
    """An additive attention mask over [text, new style tokens, reference] from one over [text, reference]
    (default: all zeros; a boolean mask becomes 0 / -inf): the old entries keep their places, the columns of
    the new tokens get `bias` in the text and reference rows, and their own rows stay 0."""
    old = text_tokens + reference_tokens
    if mask is None:
        mask = torch.zeros((batch, old, old), dtype=torch.float16)
    elif mask.dtype == torch.bool:
        mask = torch.log(mask.to(torch.float16))
    size = old + new_tokens
    widened = torch.zeros((batch, size, size), dtype=torch.float16)
    kept = [slice(0, text_tokens), slice(text_tokens + new_tokens, size)]
    source = [slice(0, text_tokens), slice(text_tokens, old)]
    for rows, old_rows in zip(kept, source, strict=True):
        for columns, old_columns in zip(kept, source, strict=True):
            widened[:, rows, columns] = mask[:, old_rows, old_columns]
    new_columns = slice(text_tokens, text_tokens + new_tokens)
    for rows in kept:
        widened[:, rows, new_columns] = bias
    return widened


def apply_style_model(conditioning: list, style_model: StyleModel, clip_vision_output: Any, strength: float,
                      strength_type: str) -> list:
    """StyleModelApply: every conditioning's tokens followed by the style tokens of all pictures in the batch
    (as one sequence). "multiply" scales the tokens by `strength`; "attn_bias" leaves them and biases attention
    to them by log(strength) through the conditioning's `attention_mask` (also widened when one is there)."""
    tokens = style_model.get_cond(clip_vision_output).flatten(start_dim=0, end_dim=1).unsqueeze(0)
    if strength_type == "multiply":
        tokens = tokens * strength
    new_tokens = tokens.shape[1]
    # log of the strength in float32 (-inf at 0), then stored in the float16 mask
    bias = torch.log(torch.tensor([strength if strength_type == "attn_bias" else 1.0], dtype=torch.float32))
    out = []
    for text, options in conditioning:
        options = options.copy()
        if "attention_mask" in options or (strength_type == "attn_bias" and strength != 1.0):
            reference_shape = options.get("attention_mask_img_shape", (1, 1))
            mask = _widened_mask(options.get("attention_mask"), text.shape[0], text.shape[1], new_tokens,
                                 reference_shape[0] * reference_shape[1], bias)
            options["attention_mask"] = mask.to(text.device)
            options["attention_mask_img_shape"] = reference_shape
        out.append([torch.cat((text, tokens.to(text.device, text.dtype)), dim=1), options])
    return out
