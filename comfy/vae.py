"""`VAE`: encode images to latents and decode latents to images with a diffusers `AutoencoderKL`.

Images are ComfyUI IMAGE tensors `[B, H, W, C]` in 0..1 on the CPU; latents are in VAE space `[B, C, H/8, W/8]`,
C = 4 for SD1/SD2/SDXL and 16 for SD3 / FLUX.1's VAE (the BFL layout without quant convs); the family's
scale and shift belong to the model's latent format, which the sampler has already undone. Decoding is done in batches that fit memory,
and tiled variants blend overlapping tiles for large images.
"""

from __future__ import annotations

import torch

import comfy.model_management
from comfy.model_patcher import ModelPatcher


class VAE:
    """ComfyUI's VAE object (`decode`, `encode`, `decode_tiled`, `encode_tiled`) over an AutoencoderKL."""

    def __init__(self, autoencoder: torch.nn.Module, device: torch.device | None = None,
                 dtype: torch.dtype | None = None):
        self.device = device or comfy.model_management.vae_device()
        self.dtype = dtype or comfy.model_management.vae_dtype(self.device)
        if next(autoencoder.parameters()).dtype != self.dtype:
            autoencoder = autoencoder.to(self.dtype)
        self.autoencoder = autoencoder.eval()
        self.first_stage_model = self.autoencoder  # ComfyUI's name, which custom nodes read
        self.patcher = ModelPatcher(self.autoencoder, self.device,
                                    comfy.model_management.vae_offload_device())
        self.output_device = comfy.model_management.intermediate_device()
        self.latent_channels = int(autoencoder.config.latent_channels)
        self.downscale_ratio = 2 ** (len(autoencoder.config.block_out_channels) - 1)
        self.upscale_ratio = self.downscale_ratio

    def get_sd(self) -> dict[str, torch.Tensor]:
        """The autoencoder's weights in the original (LDM) VAE names, as VAE files and ComfyUI's VAESave keep
        them (`encoder.*`, `decoder.*`, `quant_conv.*`, `post_quant_conv.*`)."""
        from comfy.families import import_network_libraries, vae

        import_network_libraries()
        return vae.vae_diffusers_to_ldm(self.autoencoder.state_dict())

    def spacial_compression_decode(self) -> int:
        return self.upscale_ratio

    def spacial_compression_encode(self) -> int:
        return self.downscale_ratio

    def _batch_size(self, pixels_per_item: int) -> int:
        free = comfy.model_management.get_free_memory(self.device)
        # About 2 KB of activations per output pixel in fp32 for SD's decoder; keep a wide margin.
        return max(1, int(free // max(1, pixels_per_item * 2048 * 4)))

    def decode(self, samples: torch.Tensor) -> torch.Tensor:
        """Latents `[B, C, h, w]` → images `[B, h*8, w*8, 3]` in 0..1."""
        comfy.model_management.load_model_gpu(self.patcher)
        pixels_per_item = samples.shape[-1] * samples.shape[-2] * self.upscale_ratio**2
        batch = self._batch_size(pixels_per_item)
        outputs = []
        with torch.inference_mode():
            for start in range(0, samples.shape[0], batch):
                chunk = samples[start:start + batch].to(self.device, self.dtype)
                decoded = self.autoencoder.decode(chunk, return_dict=False)[0]
                outputs.append(torch.clamp((decoded.float() + 1.0) / 2.0, 0.0, 1.0).to(self.output_device))
        return torch.cat(outputs).movedim(1, -1)

    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """Images `[B, H, W, C]` in 0..1 → latents (the posterior's mode) `[B, C, H/8, W/8]`."""
        comfy.model_management.load_model_gpu(self.patcher)
        pixels = pixels[..., :3]
        batch = self._batch_size(pixels.shape[1] * pixels.shape[2])
        outputs = []
        with torch.inference_mode():
            for start in range(0, pixels.shape[0], batch):
                chunk = pixels[start:start + batch].movedim(-1, 1).to(self.device, self.dtype) * 2.0 - 1.0
                posterior = self.autoencoder.encode(chunk, return_dict=False)[0]
                outputs.append(posterior.mode().float().to(self.output_device))
        return torch.cat(outputs)

    def temporal_compression_decode(self) -> int | None:
        """Pixel frames per latent frame: None for image VAEs (video VAEs answer)."""
        return None

    def decode_tiled(self, samples: torch.Tensor, tile_x: int = 64, tile_y: int = 64, overlap: int = 16,
                     tile_t: int | None = None, overlap_t: int | None = None) -> torch.Tensor:
        """Decode in overlapping latent tiles (sizes in latent pixels), blended with linear ramps; `tile_t` and
        `overlap_t` are for video VAEs and ignored here."""
        return _tiled(lambda tile: self.decode(tile).movedim(-1, 1), samples, tile_x, tile_y, overlap,
                      self.upscale_ratio, 3).movedim(1, -1)

    def encode_tiled(self, pixels: torch.Tensor, tile_x: int = 512, tile_y: int = 512, overlap: int = 64,
                     tile_t: int | None = None, overlap_t: int | None = None) -> torch.Tensor:
        """Encode in overlapping pixel tiles, blended with linear ramps (`tile_t`, `overlap_t`: video VAEs only)."""
        ratio = self.downscale_ratio
        return _tiled(lambda tile: self.encode(tile.movedim(1, -1)), pixels[..., :3].movedim(-1, 1),
                      tile_x, tile_y, overlap, 1 / ratio, self.latent_channels)


def _tiled(function, samples: torch.Tensor, tile_x: int, tile_y: int, overlap: int, scale: float,
           out_channels: int) -> torch.Tensor:
    """Apply `function` to overlapping tiles of `samples` [B,C,H,W] and blend the results (output size × scale)."""
    batch, _, height, width = samples.shape
    out_height, out_width = round(height * scale), round(width * scale)
    output = torch.zeros((batch, out_channels, out_height, out_width))
    weights = torch.zeros((1, 1, out_height, out_width))
    step_y, step_x = max(1, tile_y - overlap), max(1, tile_x - overlap)
    for top in range(0, max(1, height - overlap), step_y):
        for left in range(0, max(1, width - overlap), step_x):
            bottom, right = min(top + tile_y, height), min(left + tile_x, width)
            top_start, left_start = max(0, bottom - tile_y), max(0, right - tile_x)
            result = function(samples[:, :, top_start:bottom, left_start:right]).float()
            ramp = _ramp(result.shape[-2], result.shape[-1], round(overlap * scale))
            y0, x0 = round(top_start * scale), round(left_start * scale)
            y1, x1 = y0 + result.shape[-2], x0 + result.shape[-1]
            output[:, :, y0:y1, x0:x1] += result * ramp
            weights[:, :, y0:y1, x0:x1] += ramp
    return output / weights.clamp(min=1e-8)


def _ramp(height: int, width: int, overlap: int) -> torch.Tensor:
    """A weight mask that rises linearly over `overlap` pixels at each edge."""
    def edge(size: int) -> torch.Tensor:
        ramp = torch.ones(size)
        for index in range(min(overlap, size // 2)):
            value = (index + 1) / (overlap + 1)
            ramp[index] = min(ramp[index].item(), value)
            ramp[size - 1 - index] = min(ramp[size - 1 - index].item(), value)
        return ramp

    return (edge(height).reshape(-1, 1) * edge(width).reshape(1, -1)).reshape(1, 1, height, width)
