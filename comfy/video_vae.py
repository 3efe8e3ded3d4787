"""`VideoVAE`: ComfyUI's VAE object for causal video VAEs (Wan 2.1 / 2.2) over diffusers' `AutoencoderKLWan`.

Latents are `[B, C, T, h, w]` in VAE space (unnormalised: the model's latent format scales them); videos are
`[B, T, H, W, 3]` in 0..1 and IMAGE batches `[N, H, W, 3]` are N frames of one video, as in ComfyUI. In time,
latent frame 0 is pixel frame 0 and every later latent frame is `temporal_ratio` pixel frames: T latent frames
decode to `1 + (T - 1) * 4` frames, and N frames encode to `1 + (N - 1) // 4` latent frames (extra frames dropped).

Memory: diffusers decodes one latent frame at a time through a causal cache (each conv keeps its last input
frames), so a whole video's activations are never held at once; `decode_tiled` / `encode_tiled` also cut the
picture into overlapping tiles (and time into overlapping chunks) blended with linear ramps. Measured by
bench/wan_vae_memory.py (a full-size random Wan 2.1 VAE, fp32, one thread, 480x832, 2 latent frames): untiled
8.69 GiB peak RSS (306 s), tiled with VAEDecodeTiled's defaults 5.88 GiB (290 s); 81 frames add the output video
(388 MB in float32) and its copies, about 1.2-1.6 GB more (estimated: a full 81-frame decode takes about an hour
per mode on one core). On the CPU, decode long videos at 480x832 with VAEDecodeTiled to stay under 8 GiB.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping

import torch

import comfy.model_management
from comfy.model_patcher import ModelPatcher
from comfy.vae import VAE


class VideoVAE(VAE):
    """ComfyUI's VAE face (`decode`, `encode`, `decode_tiled`, `encode_tiled`, `get_sd`, the compression
    queries) for a Wan VAE; `config` is its `comfy.families.wan_vae.WanVAEConfig`."""

    def __init__(self, autoencoder: torch.nn.Module, config, device: torch.device | None = None,
                 dtype: torch.dtype | None = None):
        self.device = device or comfy.model_management.vae_device()
        self.dtype = dtype or comfy.model_management.vae_dtype(self.device)
        self.vae_dtype = self.dtype
        if next(autoencoder.parameters()).dtype != self.dtype:
            autoencoder = autoencoder.to(self.dtype)
        self.autoencoder = autoencoder.eval()
        self.first_stage_model = self.autoencoder
        self.patcher = ModelPatcher(self.autoencoder, self.device, comfy.model_management.vae_offload_device())
        self.output_device = comfy.model_management.intermediate_device()
        self.config = config
        self.latent_channels = config.z_dim
        self.latent_dim = 3
        self.output_channels = 3
        self.not_video = False
        time, space = config.temporal_ratio, config.spatial_ratio
        # ComfyUI's shapes of these attributes: (frames function, height ratio, width ratio)
        self.upscale_ratio = (lambda frames: max(0, frames * time - (time - 1)), space, space)
        self.downscale_ratio = (lambda frames: max(0, math.floor((frames + time - 1) / time)), space, space)
        self.upscale_index_formula = (time, space, space)
        self.downscale_index_formula = (time, space, space)

    def get_sd(self) -> dict[str, torch.Tensor]:
        """The weights in the original Wan layout (what VAESave writes)."""
        from comfy.families import key_tables, wan_vae

        return key_tables.export_state_dict(wan_vae.key_table(self.config), self.autoencoder.state_dict())

    def spacial_compression_decode(self) -> int:
        return self.upscale_ratio[-1]

    def spacial_compression_encode(self) -> int:
        return self.downscale_ratio[-1]

    def temporal_compression_decode(self) -> int:
        return self.config.temporal_ratio

    def _decode_video(self, latent: torch.Tensor) -> torch.Tensor:
        """One video's latent `[1, C, T, h, w]` -> pixels `[1, 3, T', H, W]` in 0..1 (float32)."""
        decoded = self.autoencoder.decode(latent.to(self.device, self.dtype), return_dict=False)[0].float()
        # in place: a whole video in float32 is large (81 frames at 480x832: 388 MB)
        return decoded.add_(1.0).div_(2.0).clamp_(0.0, 1.0).to(self.output_device)

    def _encode_video(self, pixels: torch.Tensor) -> torch.Tensor:
        """One video `[1, 3, T, H, W]` in 0..1 -> the posterior mean `[1, C, T', h, w]` (float32)."""
        posterior = self.autoencoder.encode(pixels.to(self.device, self.dtype) * 2.0 - 1.0, return_dict=False)[0]
        return posterior.mode().float().to(self.output_device)

    def decode(self, samples: torch.Tensor) -> torch.Tensor:
        """Latents `[B, C, T, h, w]` -> videos `[B, 1 + (T-1)*4, h*r, w*r, 3]` in 0..1 (VAEDecode flattens the
        frames into one IMAGE batch)."""
        comfy.model_management.load_model_gpu(self.patcher)
        with torch.inference_mode():
            videos = [self._decode_video(samples[index:index + 1]) for index in range(samples.shape[0])]
        return (videos[0] if len(videos) == 1 else torch.cat(videos)).movedim(1, -1)

    def _videos(self, pixels: torch.Tensor) -> torch.Tensor:
        """IMAGE `[N, H, W, C]` (N frames of one video) or videos `[B, T, H, W, C]` -> `[B, 3, T, H', W']`,
        centre-cropped to multiples of the spatial ratio as ComfyUI does."""
        ratio = self.spacial_compression_encode()
        height, width = pixels.shape[-3], pixels.shape[-2]
        top, left = (height % ratio) // 2, (width % ratio) // 2
        pixels = pixels[..., top:top + height // ratio * ratio, left:left + width // ratio * ratio, :3]
        if pixels.ndim == 4:
            pixels = pixels.unsqueeze(0)
        return pixels.movedim(-1, 1)

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """Frames `[N, H, W, C]` in 0..1 (one video) or videos `[B, T, H, W, C]` -> latents
        `[B, C, 1 + (T-1)//4, H/r, W/r]`, the posterior mean."""
        comfy.model_management.load_model_gpu(self.patcher)
        videos = self._videos(pixels)
        with torch.inference_mode():
            return torch.cat([self._encode_video(videos[index:index + 1]) for index in range(videos.shape[0])])

    def decode_tiled(self, samples: torch.Tensor, tile_x: int | None = None, tile_y: int | None = None,
                     overlap: int | None = None, tile_t: int | None = None, overlap_t: int | None = None
                     ) -> torch.Tensor:
        """`decode` in overlapping tiles: `tile_x`, `tile_y`, `overlap` in latent pixels (default 32, 32, 8),
        `tile_t` / `overlap_t` in latent frames (default all frames, 1), as ComfyUI's arguments."""
        comfy.model_management.load_model_gpu(self.patcher)
        tile = (max(2, tile_t) if tile_t is not None else 999, tile_y or 32, tile_x or 32)
        overlap = (max(1, overlap_t) if overlap_t is not None else 1, *(2 * (8 if overlap is None else overlap,)))
        time, space = self.config.temporal_ratio, self.config.spatial_ratio
        scales = (_Scale(lambda start: start * time, self.upscale_ratio[0]),
                  _Scale(lambda start: start * space, lambda size: size * space),
                  _Scale(lambda start: start * space, lambda size: size * space))
        with torch.inference_mode():
            return _tiled_video(samples, self._decode_video, tile, overlap, scales, 3,
                                self.output_device).movedim(1, -1)

    def encode_tiled(self, pixels: torch.Tensor, tile_x: int | None = None, tile_y: int | None = None,
                     overlap: int | None = None, tile_t: int | None = None, overlap_t: int | None = None
                     ) -> torch.Tensor:
        """`encode` in overlapping tiles: `tile_x`, `tile_y`, `overlap` in pixels (default 512, 512, 64),
        `tile_t` / `overlap_t` in frames (default all frames, one latent frame), as ComfyUI's arguments."""
        comfy.model_management.load_model_gpu(self.patcher)
        videos = self._videos(pixels)
        up, down = self.upscale_ratio[0], self.downscale_ratio[0]
        tile_latent = max(2, down(tile_t)) if tile_t is not None else 9999
        frames_overlap = 1 if overlap_t is None else up(max(1, min(tile_latent // 2, down(overlap_t))))
        videos = videos[:, :, :up(down(videos.shape[2]))]  # frames past the last whole latent frame are dropped
        time, space = self.config.temporal_ratio, self.config.spatial_ratio
        scales = (_Scale(lambda start: start // time, down),
                  _Scale(lambda start: start // space, lambda size: size // space),
                  _Scale(lambda start: start // space, lambda size: size // space))
        side = 64 if overlap is None else overlap
        with torch.inference_mode():
            return _tiled_video(videos, self._encode_video, (up(tile_latent), tile_y or 512, tile_x or 512),
                                (frames_overlap, side, side), scales, self.latent_channels, self.output_device)


class _Scale:
    """Where a tile starting at input index `start` lands in the output, and how long an input length becomes."""

    def __init__(self, position: Callable[[int], int], size: Callable[[int], int]):
        self.position, self.size = position, size


def _tiled_video(samples: torch.Tensor, function: Callable[[torch.Tensor], torch.Tensor],
                 tile: tuple[int, int, int], overlap: tuple[int, int, int], scales: tuple[_Scale, ...],
                 out_channels: int, output_device: torch.device) -> torch.Tensor:
    """Apply `function` (`[1, C, t, h, w]` -> `[1, out_channels, t', h', w']`) to overlapping tiles of each
    item of `samples` `[B, C, T, H, W]` and blend them: each tile weighs 1 inside and ramps linearly to 0
    across the overlap at its edges shared with another tile. `scales` place a tile's output in time, height
    and width; tiles start every `tile - overlap` and the last one of a row is cut at the edge."""
    outputs = []
    for item in samples.split(1):
        sizes = tuple(item.shape[2:])
        if all(size <= length for size, length in zip(sizes, tile, strict=True)):
            outputs.append(function(item).to(output_device))
            continue
        out_sizes = [scale.size(size) for scale, size in zip(scales, sizes, strict=True)]
        output = torch.zeros([1, out_channels, *out_sizes], device=output_device)
        weight = torch.zeros([1, 1, *out_sizes], device=output_device)
        starts = [range(0, max(1, size - gap), max(1, length - gap)) if size > length else [0]
                  for size, length, gap in zip(sizes, tile, overlap, strict=True)]
        for corner in itertools.product(*starts):
            ends = [min(start + length, size) for start, length, size in zip(corner, tile, sizes, strict=True)]
            result = function(item[:, :, corner[0]:ends[0], corner[1]:ends[1], corner[2]:ends[2]]).to(output_device)
            region, mask = [], torch.ones((), device=output_device)
            for dim, (start, end, size, gap, scale) in enumerate(zip(corner, ends, sizes, overlap, scales,
                                                                     strict=True)):
                first = scale.position(start)
                length = min(result.shape[2 + dim], out_sizes[dim] - first)
                region.append(slice(first, first + length))
                # the overlap in output units: frames of time (positions), pixels of space (sizes)
                feather = scale.size(gap) if dim else scale.position(gap)
                steps = torch.arange(1, length + 1, device=output_device) / (feather + 1)
                ramp = torch.ones(length, device=output_device)
                if start > 0:
                    ramp = torch.minimum(ramp, steps)
                if end < size:
                    ramp = torch.minimum(ramp, steps.flip(0))
                mask = mask * ramp.reshape([-1 if index == dim else 1 for index in range(3)])
            result = result[:, :, :region[0].stop - region[0].start, :region[1].stop - region[1].start,
                            :region[2].stop - region[2].start]
            output[:, :, region[0], region[1], region[2]] += result * mask
            weight[:, :, region[0], region[1], region[2]] += mask
        outputs.append(output.div_(weight.clamp_(min=1e-8)))  # in place: a whole video in float32 is large
    return torch.cat(outputs)


def load(state_dict: Mapping[str, torch.Tensor], source_name: str) -> VideoVAE:
    """A `VideoVAE` from a Wan VAE file's state dict (original layout, any float dtype)."""
    from comfy.families import import_network_libraries, wan_vae

    import_network_libraries()
    return VideoVAE(wan_vae.load(state_dict, source_name), wan_vae.detect(state_dict, source_name))
