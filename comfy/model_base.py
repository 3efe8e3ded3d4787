"""`BaseModel`: a diffusers UNet with ComfyUI's sampling interface.

Samplers see a denoiser: `apply_model(x, sigma, **conds)` takes the noisy latent in model space and returns
the denoised prediction, doing the input scaling, sigma → timestep mapping and eps/v conversion of the
family's `model_sampling`. `extra_conds` turns one conditioning entry into the network's keyword inputs
(cross-attention context; SDXL's pooled text embedding and size/crop ids; inpainting's concat channels).
"""

from __future__ import annotations

import enum
from typing import Any

import torch

import comfy.cpu_speedups
import comfy.latent_formats
import comfy.model_sampling


class ModelType(enum.Enum):
    EPS = 1
    V_PREDICTION = 2


def model_sampling_for(model_type: ModelType) -> torch.nn.Module:
    """ComfyUI's discrete SD sampling schedule combined with the model's prediction type."""
    prediction = comfy.model_sampling.V_PREDICTION if model_type == ModelType.V_PREDICTION else comfy.model_sampling.EPS

    class ModelSampling(comfy.model_sampling.ModelSamplingDiscrete, prediction):
        pass

    return ModelSampling()


class BaseModel(torch.nn.Module):
    """SD1.x / SD2.x UNet (context from CLIP; 9 input channels for inpainting models)."""

    def __init__(self, unet: torch.nn.Module, model_type: ModelType = ModelType.EPS,
                 latent_format: comfy.latent_formats.LatentFormat | None = None, family: str = "SD15"):
        super().__init__()
        comfy.cpu_speedups.speed_up_unet(unet)
        self.diffusion_model = unet
        self.model_type = model_type
        self.family = family
        self.model_sampling = model_sampling_for(model_type)
        self.latent_format = latent_format or comfy.latent_formats.SD15()
        self.in_channels = int(unet.config.in_channels)

    @property
    def is_inpaint(self) -> bool:
        return self.in_channels == 9

    def get_dtype(self) -> torch.dtype:
        return next(self.diffusion_model.parameters()).dtype

    def process_latent_in(self, latent: torch.Tensor) -> torch.Tensor:
        return self.latent_format.process_in(latent)

    def process_latent_out(self, latent: torch.Tensor) -> torch.Tensor:
        return self.latent_format.process_out(latent)

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        """The network inputs of one conditioning entry, batch 1 (the sampler batches and repeats them)."""
        conds: dict[str, torch.Tensor] = {"c_crossattn": cond}
        if self.is_inpaint:
            conds["c_concat"] = self.concat_cond(options, noise)
        return conds

    def concat_cond(self, options: dict[str, Any], noise: torch.Tensor) -> torch.Tensor:
        """Inpainting models read 5 extra channels: the mask and the masked image's latent (model space)."""
        mask = options.get("concat_mask")
        image = options.get("concat_latent_image")
        height, width = noise.shape[-2:]
        if image is None:
            image = torch.zeros((1, 4, height, width))
        else:
            image = self.process_latent_in(image[:1])
        if mask is None:
            mask = torch.ones((1, 1, height, width))
        else:
            mask = torch.nn.functional.interpolate(mask.reshape(-1, 1, *mask.shape[-2:])[:1].float(),
                                                   size=(height, width), mode="bilinear")
            image = image * (mask < 0.5)
        return torch.cat([mask, image], dim=1)

    def unet_kwargs(self, conds: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, Any]:
        return {"encoder_hidden_states": conds["c_crossattn"].to(dtype)}

    def apply_model(self, x: torch.Tensor, sigma: torch.Tensor, **conds: torch.Tensor) -> torch.Tensor:
        """Denoised prediction for `x` [B,C,H,W] (model space) at noise levels `sigma` [B]."""
        dtype = self.get_dtype()
        model_input = self.model_sampling.calculate_input(sigma, x)
        if "c_concat" in conds:
            model_input = torch.cat([model_input, conds["c_concat"].to(model_input)], dim=1)
        timestep = self.model_sampling.timestep(sigma).float()
        with comfy.cpu_speedups.onednn_convolutions(comfy.cpu_speedups.use_onednn_convolutions(model_input)):
            output = self.diffusion_model(model_input.to(dtype), timestep, **self.unet_kwargs(conds, dtype),
                                          return_dict=False)[0]
        return self.model_sampling.calculate_denoised(sigma, output.float(), x)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor, **conds: torch.Tensor) -> torch.Tensor:
        return self.apply_model(x, sigma, **conds)


class SDXL(BaseModel):
    """SDXL base: context from CLIP-L + CLIP-G, plus the pooled CLIP-G embedding and size/crop ids."""

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        conds = super().extra_conds(cond, options, noise)
        height, width = noise.shape[-2] * 8, noise.shape[-1] * 8
        pooled = options.get("pooled_output")
        if pooled is None:
            pooled = torch.zeros((1, self.pooled_width()))
        conds["text_embeds"] = pooled[:1]
        conds["time_ids"] = torch.tensor([[
            options.get("height", height), options.get("width", width),
            options.get("crop_h", 0), options.get("crop_w", 0),
            options.get("target_height", height), options.get("target_width", width)]], dtype=torch.float32)
        return conds

    def pooled_width(self) -> int:
        config = self.diffusion_model.config
        return int(config.projection_class_embeddings_input_dim - len(self.time_id_names())
                   * config.addition_time_embed_dim)

    def time_id_names(self) -> tuple[str, ...]:
        return ("height", "width", "crop_h", "crop_w", "target_height", "target_width")

    def unet_kwargs(self, conds: dict[str, torch.Tensor], dtype: torch.dtype) -> dict[str, Any]:
        kwargs = super().unet_kwargs(conds, dtype)
        kwargs["added_cond_kwargs"] = {"text_embeds": conds["text_embeds"].to(dtype),
                                       "time_ids": conds["time_ids"].to(dtype)}
        return kwargs


class SDXLRefiner(SDXL):
    """SDXL refiner: CLIP-G only, with an aesthetic score instead of the target size."""

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        conds = super().extra_conds(cond, options, noise)
        height, width = noise.shape[-2] * 8, noise.shape[-1] * 8
        conds["time_ids"] = torch.tensor([[
            options.get("height", height), options.get("width", width),
            options.get("crop_h", 0), options.get("crop_w", 0),
            options.get("aesthetic_score", 6.0)]], dtype=torch.float32)
        return conds

    def time_id_names(self) -> tuple[str, ...]:
        return ("height", "width", "crop_h", "crop_w", "aesthetic_score")
