"""GLIGEN: boxes with a phrase each ("grounding tokens") steer where things appear.

A GLIGEN file holds a `position_net` (each box's corners, Fourier-embedded, with the phrase's pooled CLIP-L
embedding, through an MLP to one token per box) and one gated self-attention `fuser` per UNet transformer block
(in ComfyUI's order: input blocks, middle block, output blocks). Sampling runs each fuser as the block's
`middle_patch` (after self-attention): the visual tokens attend over themselves and the grounding tokens, and
tanh(alpha)-gated results are added (`comfy.samplers` installs the patch for the conditionings that carry
`gligen`). GLIGENTextBoxApply adds the boxes; up to 30 per conditioning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

import comfy.ops
from comfy.ldm.modules.attention import CrossAttention, FeedForward

ops = comfy.ops.manual_cast
MAX_OBJECTS = 30
SD1_KEY_DIM = 768  # CLIP-L's width: SD1.x GLIGEN files use 8 heads; others 64-wide heads
BLOCK_KINDS = ("input_blocks", "middle_block", "output_blocks")
FUSER_INFIX = ".fuser."
POSITION_NET_PREFIX = "position_net."


class GatedSelfAttentionDense(torch.nn.Module):
    """One fuser: x [B, N, query_dim] and grounding tokens [B, 30, context_dim] -> x with the gated attention
    over [x, projected tokens] (visual rows only) and the gated feed-forward added."""

    def __init__(self, query_dim: int, context_dim: int, n_heads: int, d_head: int):
        super().__init__()
        self.linear = ops.Linear(context_dim, query_dim)
        self.attn = CrossAttention(query_dim=query_dim, context_dim=query_dim, heads=n_heads, dim_head=d_head,
                                   operations=ops)
        self.ff = FeedForward(query_dim, glu=True, operations=ops)
        self.norm1 = ops.LayerNorm(query_dim)
        self.norm2 = ops.LayerNorm(query_dim)
        self.alpha_attn = torch.nn.Parameter(torch.tensor(0.0))
        self.alpha_dense = torch.nn.Parameter(torch.tensor(0.0))
        self.scale = 1

    def forward(self, x: torch.Tensor, objs: torch.Tensor) -> torch.Tensor:
        visual_tokens = x.shape[1]
        grounding = self.linear(objs)
        attended = self.attn(self.norm1(torch.cat([x, grounding], dim=1)))[:, :visual_tokens, :]
        x = x + self.scale * torch.tanh(self.alpha_attn) * attended
        return x + self.scale * torch.tanh(self.alpha_dense) * self.ff(self.norm2(x))


class FourierEmbedder:
    """sin and cos of x at `num_freqs` frequencies temperature^(i / num_freqs), concatenated per frequency:
    [sin(f0 x), cos(f0 x), sin(f1 x), ...] along `cat_dim`."""

    def __init__(self, num_freqs: int = 64, temperature: float = 100):
        self.num_freqs = num_freqs
        self.temperature = temperature
        self.freq_bands = temperature ** (torch.arange(num_freqs) / num_freqs)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, cat_dim: int = -1) -> torch.Tensor:
        parts = []
        for frequency in self.freq_bands:
            parts += [torch.sin(frequency * x), torch.cos(frequency * x)]
        return torch.cat(parts, cat_dim)


class PositionNet(torch.nn.Module):
    """Boxes [B, N, 4] (x1, y1, x2, y2 in 0..1), masks [B, N] and phrase embeddings [B, N, in_dim] -> grounding
    tokens [B, N, out_dim]; masked-out slots use the learned null phrase and position."""

    def __init__(self, in_dim: int, out_dim: int, fourier_freqs: int = 8):
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.fourier_embedder = FourierEmbedder(num_freqs=fourier_freqs)
        self.position_dim = fourier_freqs * 2 * 4  # sin and cos of 4 coordinates
        self.linears = torch.nn.Sequential(ops.Linear(in_dim + self.position_dim, 512), torch.nn.SiLU(),
                                           ops.Linear(512, 512), torch.nn.SiLU(), ops.Linear(512, out_dim))
        self.null_positive_feature = torch.nn.Parameter(torch.zeros([in_dim]))
        self.null_position_feature = torch.nn.Parameter(torch.zeros([self.position_dim]))

    def forward(self, boxes: torch.Tensor, masks: torch.Tensor, positive_embeddings: torch.Tensor) -> torch.Tensor:
        masks = masks.unsqueeze(-1)
        positions = self.fourier_embedder(boxes)
        null_phrase = self.null_positive_feature.to(boxes.device, boxes.dtype).view(1, 1, -1)
        null_position = self.null_position_feature.to(boxes.device, boxes.dtype).view(1, 1, -1)
        phrases = positive_embeddings * masks + (1 - masks) * null_phrase
        positions = positions * masks + (1 - masks) * null_position
        return self.linears(torch.cat([phrases, positions], dim=-1))


class Gligen(torch.nn.Module):
    """The fusers (`module_list`, indexed by the UNet's transformer index) and the position net; `set_position`
    and `set_empty` give the `middle_patch` for one conditioning at one latent size."""

    def __init__(self, modules: list[torch.nn.Module], position_net: PositionNet, key_dim: int):
        super().__init__()
        self.module_list = torch.nn.ModuleList(modules)
        self.position_net = position_net
        self.key_dim = key_dim
        self.max_objs = MAX_OBJECTS
        self.current_device = torch.device("cpu")

    def _set_position(self, boxes: torch.Tensor, masks: torch.Tensor, positive_embeddings: torch.Tensor):
        objs = self.position_net(boxes, masks, positive_embeddings)

        def middle_patch(x: torch.Tensor, extra_options: dict) -> torch.Tensor:
            fuser = self.module_list[extra_options["transformer_index"]]
            return fuser(x, objs.to(device=x.device, dtype=x.dtype))

        return middle_patch

    def set_position(self, latent_image_shape: tuple, position_params: list, device: Any):
        """`position_params`: (pooled phrase embedding [1, key_dim], height, width, y, x) per box, in latent
        pixels; boxes become fractions of the latent's size, unused slots up to 30 are masked."""
        batch, _, height, width = latent_image_shape
        masks = torch.zeros([self.max_objs])
        boxes, phrases = [], []
        for phrase, box_height, box_width, top, left in position_params:
            masks[len(boxes)] = 1.0
            boxes.append(torch.tensor((left / width, top / height, (left + box_width) / width,
                                       (top + box_height) / height)).unsqueeze(0))
            phrases.append(phrase)
        if len(boxes) < self.max_objs:
            boxes.append(torch.zeros([self.max_objs - len(boxes), 4]))
            phrases.append(torch.zeros([self.max_objs - len(phrases), self.key_dim]))
        box_batch = torch.cat(boxes).unsqueeze(0).repeat(batch, 1, 1)
        phrase_batch = torch.cat(phrases).unsqueeze(0).repeat(batch, 1, 1)
        return self._set_position(box_batch.to(device), masks.unsqueeze(0).repeat(batch, 1).to(device),
                                  phrase_batch.to(device))

    def set_empty(self, latent_image_shape: tuple, device: Any):
        batch = latent_image_shape[0]
        return self._set_position(torch.zeros([self.max_objs, 4]).repeat(batch, 1, 1).to(device),
                                  torch.zeros([self.max_objs]).repeat(batch, 1).to(device),
                                  torch.zeros([self.max_objs, self.key_dim]).repeat(batch, 1, 1).to(device))


def _fuser_state_dicts(sd: Mapping[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    """Each fuser's weights, in ComfyUI's order: block kinds, then block numbers 0..19."""
    fusers = []
    for kind in BLOCK_KINDS:
        for number in range(20):
            address = f"{kind}.{number}."
            weights = {key.split(FUSER_INFIX)[-1]: value for key, value in sd.items()
                       if address in key and FUSER_INFIX in key}
            if weights:
                fusers.append(weights)
    return fusers


def load_gligen(sd: Mapping[str, torch.Tensor]) -> Gligen:
    """A `Gligen` from a GLIGEN state dict (ValueError when it has no position net or no fusers)."""
    if f"{POSITION_NET_PREFIX}null_positive_feature" not in sd:
        raise ValueError("not a GLIGEN file: no position_net.null_positive_feature")
    modules, key_dim = [], SD1_KEY_DIM
    for weights in _fuser_state_dicts(sd):
        query_dim, key_dim = weights["linear.weight"].shape
        # ComfyUI's rule (8 heads for SD1.x, else 64-wide heads), at least one head for reduced test models
        heads = 8 if key_dim == SD1_KEY_DIM else max(1, query_dim // 64)
        fuser = GatedSelfAttentionDense(query_dim, key_dim, heads, query_dim // heads)
        fuser.load_state_dict({key: value.float() for key, value in weights.items()}, strict=False)
        modules.append(fuser)
    if not modules:
        raise ValueError("not a GLIGEN file: no transformer-block fusers (keys with '.fuser.')")
    position_weights = {key[len(POSITION_NET_PREFIX):]: value.float() for key, value in sd.items()
                        if key.startswith(POSITION_NET_PREFIX)}
    position_net = PositionNet(position_weights["null_positive_feature"].shape[0],
                               position_weights["linears.4.weight"].shape[0])
    position_net.load_state_dict(position_weights, strict=False)
    return Gligen(modules, position_net, key_dim).eval().requires_grad_(False)
