"""Token Merging for Stable Diffusion (ToMe; Bolya & Hoffman 2023, arXiv 2303.17604), as ComfyUI's TomePatchModel
applies it to a self-attention's query input.

The latent grid's tokens are split into destinations, one per full 2x2 cell at a random place in it (drawn from
torch's global generator, which ComfyUI's noise preparation has just reseeded), and sources (all the others). Each
source is scored by its best cosine similarity to a destination; the `r` best-scoring sources are averaged into
their destinations, so the attention computes `r` fewer queries. Its output is then spread back over the whole grid:
a merged source takes its destination's value. Keys and values keep every token. The merge applies only at the
UNet's full resolution (the level whose token count is the latent's height x width).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

STRIDE = 2  # destinations: one per STRIDE x STRIDE cell


@dataclass(frozen=True)
class TokenMerge:
    """A merge plan for [B, N, C] sequences. Positions are token indices into the sequence; `kept`, `merged` index
    the sources (in `sources` order) and `targets` the destinations (in `destinations` order)."""

    destinations: torch.Tensor  # [1, D, 1]
    sources: torch.Tensor  # [1, S, 1]
    kept: torch.Tensor  # [B, S - r, 1] sources left as they are
    merged: torch.Tensor  # [B, r, 1] sources averaged into a destination
    targets: torch.Tensor  # [B, r, 1] the destination of each merged source

    def merge(self, x: torch.Tensor) -> torch.Tensor:
        """[B, N, C] -> [B, N - r, C]: the kept sources, then the destinations with their merged sources averaged in."""
        sources, destinations = _tokens_at(x, self.sources), _tokens_at(x, self.destinations)
        batch, _, channels = sources.shape
        kept = torch.gather(sources, -2, self.kept.expand(batch, self.kept.shape[1], channels))
        moving = torch.gather(sources, -2, self.merged.expand(batch, self.merged.shape[1], channels))
        destinations = destinations.scatter_reduce(-2, self.targets.expand(batch, self.targets.shape[1], channels),
                                                   moving, reduce="mean")
        return torch.cat([kept, destinations], dim=1)

    def unmerge(self, x: torch.Tensor) -> torch.Tensor:
        """[B, N - r, C] (a merged sequence, transformed) -> [B, N, C]: every token at its place again."""
        batch, _, channels = x.shape
        kept_count = self.kept.shape[1]
        kept, destinations = x[..., :kept_count, :], x[..., kept_count:, :]
        merged = torch.gather(destinations, -2, self.targets.expand(batch, self.targets.shape[1], channels))
        tokens = self.sources.shape[1] + self.destinations.shape[1]
        out = torch.zeros(batch, tokens, channels, device=x.device, dtype=x.dtype)
        sources = self.sources.expand(batch, self.sources.shape[1], 1)
        out.scatter_(-2, self.destinations.expand(batch, self.destinations.shape[1], channels), destinations)
        out.scatter_(-2, torch.gather(sources, 1, self.kept).expand(batch, kept_count, channels), kept)
        out.scatter_(-2, torch.gather(sources, 1, self.merged).expand(batch, self.merged.shape[1], channels), merged)
        return out


def _tokens_at(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """The tokens of `x` [B, N, C] at `positions` [1, K, 1]: [B, K, C]."""
    return torch.gather(x, 1, positions.expand(x.shape[0], positions.shape[1], x.shape[2]))


def _destination_marks(height: int, width: int, device: torch.device) -> torch.Tensor:
    """[height, width] int64: -1 at one random place of every full STRIDE x STRIDE cell, 0 elsewhere."""
    cells_y, cells_x = height // STRIDE, width // STRIDE
    choice = torch.randint(STRIDE * STRIDE, size=(cells_y, cells_x, 1), device=device)
    cells = torch.zeros(cells_y, cells_x, STRIDE * STRIDE, device=device, dtype=torch.int64)
    cells.scatter_(2, choice, torch.full_like(choice, -1))
    marks = torch.zeros(height, width, device=device, dtype=torch.int64)
    marks[:cells_y * STRIDE, :cells_x * STRIDE] = (cells.view(cells_y, cells_x, STRIDE, STRIDE).transpose(1, 2)
                                                   .reshape(cells_y * STRIDE, cells_x * STRIDE))
    return marks


def plan(metric: torch.Tensor, height: int, width: int, count: int) -> TokenMerge | None:
    """The plan merging `count` of the tokens of `metric` [B, height*width, C] by cosine similarity; None when
    there is nothing to merge."""
    if count <= 0 or height == 1 or width == 1:
        return None
    with torch.no_grad():
        # destinations (marked -1) sort before sources (0)
        order = _destination_marks(height, width, metric.device).reshape(1, -1, 1).argsort(dim=1)
        destination_count = (height // STRIDE) * (width // STRIDE)
        destinations, sources = order[:, :destination_count, :], order[:, destination_count:, :]
        features = metric / metric.norm(dim=-1, keepdim=True)
        source_features, destination_features = _tokens_at(features, sources), _tokens_at(features, destinations)
        best, best_destination = (source_features @ destination_features.transpose(-1, -2)).max(dim=-1)
        count = min(source_features.shape[1], count)
        ranked = best.argsort(dim=-1, descending=True)[..., None]
        merged = ranked[..., :count, :]
        return TokenMerge(destinations, sources, kept=ranked[..., count:, :], merged=merged,
                          targets=torch.gather(best_destination[..., None], -2, merged))


def plan_for_level(x: torch.Tensor, ratio: float, original_shape: list[int]) -> TokenMerge | None:
    """A plan for a block's tokens `x` [B, N, C] when they are at the latent's full resolution (`original_shape`
    is the UNet input's [B, C, H, W]), merging int(N * ratio) of them; None at the lower levels."""
    height, width = original_shape[-2:]
    if math.ceil(math.sqrt(height * width // x.shape[1])) > 1:
        return None
    return plan(x, height, width, int(x.shape[1] * ratio))
