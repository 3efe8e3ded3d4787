"""`BaseModel`: a diffusers network (UNet, FLUX.1 or SD3 transformer) with ComfyUI's sampling interface.

Samplers see a denoiser: `apply_model(x, sigma, **conds)` takes the noisy latent in model space and returns
the denoised prediction, doing the input scaling, sigma → timestep mapping and eps/v/flow conversion of the
family's `model_sampling`. `extra_conds` turns one conditioning entry into the network's keyword inputs
(cross-attention context; SDXL's pooled text embedding and size/crop ids; inpainting's concat channels;
Flux's pooled CLIP-L vector and guidance; SD3's pooled vector).
"""

from __future__ import annotations

import contextlib
import enum
import functools
from typing import Any

import torch

import comfy.cpu_speedups
import comfy.diffusers_attention
import comfy.dit_blocks
import comfy.latent_formats
import comfy.manual_cast
import comfy.model_sampling
import comfy.patcher_extension
import comfy.unet_blocks
import comfy.utils


class ModelType(enum.Enum):
    """ComfyUI's model types (same numbers): the prediction and, for the flow ones, the schedule."""

    EPS = 1
    V_PREDICTION = 2
    FLOW = 6  # rectified flow on ModelSamplingDiscreteFlow: SD3, Flux schnell
    FLUX = 8  # rectified flow on ModelSamplingFlux: Flux dev


def model_sampling_for(model_type: ModelType, model_config: Any = None) -> torch.nn.Module:
    """The model's sampling object: ComfyUI's discrete SD schedule with eps or v prediction, or for flow models
    CONST (velocity) on `ModelSamplingDiscreteFlow` / `ModelSamplingFlux` with `model_config.sampling_settings`
    (shift, multiplier)."""
    if model_type == ModelType.FLOW:
        return comfy.model_sampling.model_sampling_class(
            comfy.model_sampling.CONST, comfy.model_sampling.ModelSamplingDiscreteFlow)(model_config)
    if model_type == ModelType.FLUX:
        return comfy.model_sampling.model_sampling_class(
            comfy.model_sampling.CONST, comfy.model_sampling.ModelSamplingFlux)(model_config)
    prediction = comfy.model_sampling.V_PREDICTION if model_type == ModelType.V_PREDICTION else comfy.model_sampling.EPS

    class ModelSampling(comfy.model_sampling.ModelSamplingDiscrete, prediction):
        pass

    return ModelSampling()


def pad_to_patch_size(x: torch.Tensor, patch_size: int) -> torch.Tensor:
    """`x` [B,C,H,W] padded at the bottom and right to multiples of `patch_size`, wrapping around (circular), as
    ComfyUI pads latents for its patch-based transformers."""
    pad_height = (patch_size - x.shape[-2] % patch_size) % patch_size
    pad_width = (patch_size - x.shape[-1] % patch_size) % patch_size
    if not pad_height and not pad_width:
        return x
    return torch.nn.functional.pad(x, (0, pad_width, 0, pad_height), mode="circular")


class BaseModel(torch.nn.Module):
    """SD1.x / SD2.x UNet (context from CLIP; 9 input channels for inpainting models)."""

    def __init__(self, unet: torch.nn.Module, model_type: ModelType = ModelType.EPS,
                 latent_format: comfy.latent_formats.LatentFormat | None = None, family: str = "SD15",
                 model_config: Any = None):
        super().__init__()
        self.prepare_network(unet)
        self.diffusion_model = unet
        self.model_type = model_type
        self.family = family
        self.model_config = model_config
        self.model_sampling = model_sampling_for(model_type, model_config)
        self.latent_format = latent_format or comfy.latent_formats.SD15()
        self.in_channels = int(unet.config.in_channels)
        # The dtype the network computes in; None: its weights' dtype. Set when the weights are stored in a
        # narrower dtype (fp8) and cast per layer (comfy.manual_cast).
        self.compute_dtype: torch.dtype | None = None

    def prepare_network(self, network: torch.nn.Module) -> None:
        """In-place speed-ups for the network (the UNet's CPU convolution and context-projection caches), and
        ComfyUI's attention hooks on its transformer blocks (`comfy.diffusers_attention`)."""
        comfy.cpu_speedups.speed_up_unet(network)
        comfy.diffusers_attention.install(network)

    def comfy_weight_names(self) -> dict[str, str]:
        """ComfyUI's name of each network parameter (`diffusion_model.` + Kiln's name -> `diffusion_model.` + the
        family's original key, from the key table loading and CheckpointSave use). A parameter that holds rows of
        a fused original weight (FLUX.1's q/k/v) has that weight's name."""
        from comfy import families

        table = families.key_table_of(families.get(self.family).architecture, self.diffusion_model)
        names: dict[str, str] = {}
        for original, entry in table.items():
            for piece in entry.pieces:
                names.setdefault("diffusion_model." + piece.parameter, "diffusion_model." + original)
        return names

    def original_key_targets(self) -> dict[str, Any]:
        """ComfyUI's state-dict key of each network weight -> the rows of Kiln's parameters it is
        (`comfy.lora.original_key_targets`); `ModelPatcher.add_patches` takes patches by these names."""
        targets = self.__dict__.get("_original_key_targets")
        if targets is None:
            import comfy.lora

            targets = self.__dict__["_original_key_targets"] = comfy.lora.original_key_targets(self)
        return targets

    def weight_units(self, parameters: list[str]) -> list[Any]:
        """The weights of the family's file layout that hold `parameters` (names under `diffusion_model.`), each
        as a `comfy.model_patcher.WeightUnit` named as ComfyUI names it (`diffusion_model.` + the original key),
        with all its pieces: ComfyUI patches and rounds a fused weight (FLUX.1's q/k/v) whole."""
        from comfy import families
        from comfy.model_patcher import WeightUnit

        table = families.key_table_of(families.get(self.family).architecture, self.diffusion_model)
        names = self.comfy_weight_names()
        units: dict[str, WeightUnit] = {}
        for name in parameters:
            comfy_name = names.get(name)
            if comfy_name is None or comfy_name in units:
                continue
            entry = table[comfy_name.removeprefix("diffusion_model.")]
            units[comfy_name] = WeightUnit(comfy_name, entry.shape, tuple(
                ("diffusion_model." + piece.parameter, piece.start, piece.stop) for piece in entry.pieces))
        return list(units.values())

    @property
    def is_inpaint(self) -> bool:
        return self.in_channels == 9

    def get_dtype(self) -> torch.dtype:
        return next(self.diffusion_model.parameters()).dtype

    def get_compute_dtype(self) -> torch.dtype:
        """The dtype inputs are given to the network in (the weights' dtype unless they are cast per layer)."""
        return self.compute_dtype or self.get_dtype()

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

    def apply_model(self, x: torch.Tensor, t: torch.Tensor, c_concat: torch.Tensor | None = None,
                    c_crossattn: torch.Tensor | None = None, control: Any = None,
                    transformer_options: dict | None = None, **kwargs: Any) -> torch.Tensor:
        """Denoised prediction for `x` [B,C,H,W] (model space) at noise levels `t` (sigma) [B], given the
        conditioning inputs as ComfyUI names them (the rest of `extra_conds` as keywords). The
        `WrappersMP.APPLY_MODEL` wrappers of `transformer_options` run around it (comfy.patcher_extension)."""
        wrappers = comfy.patcher_extension.get_all_wrappers(comfy.patcher_extension.WrappersMP.APPLY_MODEL,
                                                            transformer_options or {})
        executor = comfy.patcher_extension.WrapperExecutor.new_class_executor(self._apply_model, self, wrappers)
        return executor.execute(x, t, c_concat, c_crossattn, control, transformer_options, **kwargs)

    def _apply_model(self, x: torch.Tensor, sigma: torch.Tensor, c_concat: torch.Tensor | None = None,
                     c_crossattn: torch.Tensor | None = None, control: Any = None,
                     transformer_options: dict | None = None, **kwargs: Any) -> torch.Tensor:
        conds = {name: value for name, value in (("c_concat", c_concat), ("c_crossattn", c_crossattn),
                                                 ("control", control), ("transformer_options", transformer_options))
                 if value is not None}
        conds.update(kwargs)
        dtype = self.get_compute_dtype()
        model_input = self.model_sampling.calculate_input(sigma, x)
        if "c_concat" in conds:
            model_input = torch.cat([model_input, conds["c_concat"].to(model_input)], dim=1)
        timestep = self.model_sampling.timestep(sigma).float()
        casting = (comfy.manual_cast.layers_cast_per_call(self.diffusion_model, dtype)
                   if dtype != self.get_dtype() else contextlib.nullcontext())
        with casting:
            output = self.run_diffusion_model(model_input.to(dtype), timestep, conds, dtype)
        return self.model_sampling.calculate_denoised(sigma, output.float(), x)

    # ComfyUI's diffusion networks take (x, timesteps, <these>, transformer_options, **kwargs): each of these
    # positional arguments' name and the key of `extra_conds` Kiln keeps its value under (None where Kiln keeps
    # none: SDXL's `y` is Kiln's text_embeds + time_ids, passed on as keywords).
    DIFFUSION_MODEL_ARGUMENTS: tuple[tuple[str, str], ...] = (("context", "c_crossattn"), ("y", "y"),
                                                              ("control", "control"))

    def run_diffusion_model(self, model_input: torch.Tensor, timestep: torch.Tensor, conds: dict[str, Any],
                            dtype: torch.dtype) -> torch.Tensor:
        """`run_network` inside the `WrappersMP.DIFFUSION_MODEL` wrappers of the conds' transformer_options. A
        wrapper sees ComfyUI's arguments: `wrapper(executor, x, timesteps, *DIFFUSION_MODEL_ARGUMENTS' values,
        transformer_options, **the other conds)`, and may pass changed ones on to `executor`."""
        transformer_options = conds.get("transformer_options") or {}
        wrappers = comfy.patcher_extension.get_all_wrappers(comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL,
                                                            transformer_options)
        if not wrappers:
            return self.run_network(model_input, timestep, conds, dtype)
        names = [name for name, _ in self.DIFFUSION_MODEL_ARGUMENTS] + ["transformer_options"]
        keys = [key for _, key in self.DIFFUSION_MODEL_ARGUMENTS] + ["transformer_options"]
        others = {key: value for key, value in conds.items() if key not in keys}

        def network(x: torch.Tensor, timesteps: torch.Tensor, *arguments: Any, **keywords: Any) -> torch.Tensor:
            values = dict(zip(names, arguments, strict=False))  # a wrapper may pass fewer positionally
            values.update({name: keywords.pop(name) for name in names if name in keywords})
            network_conds = dict(keywords)
            network_conds.update({key: values[name] for name, key in zip(names, keys, strict=True)
                                  if values.get(name) is not None})
            return self.run_network(x, timesteps, network_conds, dtype)

        executor = comfy.patcher_extension.WrapperExecutor.new_class_executor(network, self.diffusion_model, wrappers)
        return executor.execute(model_input, timestep, *(conds.get(key) for key in keys), **others)

    def run_network(self, model_input: torch.Tensor, timestep: torch.Tensor, conds: dict[str, Any],
                    dtype: torch.dtype) -> torch.Tensor:
        """The raw network output for `model_input` [B,C,H,W] at the network's `timestep` [B]."""
        kwargs = {**self.unet_kwargs(conds, dtype), **self.control_residual_kwargs(conds, model_input.shape[0]),
                  **self.attention_kwargs(model_input, conds)}
        with comfy.cpu_speedups.onednn_convolutions(comfy.cpu_speedups.use_onednn_convolutions(model_input)):
            # The UNet-level patches (FreeU, Deep Shrink) need ComfyUI's block walk; diffusers' forward otherwise.
            if comfy.unet_blocks.has_block_patches(kwargs["cross_attention_kwargs"]["transformer_options"]):
                return comfy.unet_blocks.forward(self.diffusion_model, model_input, timestep, **kwargs)
            return self.diffusion_model(model_input, timestep, **kwargs, return_dict=False)[0]

    def attention_kwargs(self, model_input: torch.Tensor, conds: dict[str, Any]) -> dict[str, Any]:
        """The UNet's `cross_attention_kwargs`: the sampler's transformer_options (ComfyUI's per-call facts and
        attention patches, read by `comfy.diffusers_attention`), with the input's shape and a fresh count of
        transformers run, as ComfyUI's UNet sets them."""
        transformer_options = dict(conds.get("transformer_options") or {})
        transformer_options["original_shape"] = list(model_input.shape)
        transformer_options["transformer_index"] = 0
        return {"cross_attention_kwargs": {"transformer_options": transformer_options}}

    def control_residual_kwargs(self, conds: dict[str, Any], batch_size: int | None = None) -> dict[str, Any]:
        """The UNet's inputs for the residuals of the conditioning's ControlNets / T2I-Adapters (`conds["control"]`,
        ComfyUI's residual dict) for a batch of `batch_size`; none without a control."""
        from comfy.guidance.control import unet_residual_kwargs

        return unet_residual_kwargs(conds.get("control"), batch_size)

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


class IP2P:
    """Instruct-pix2pix models (8 input channels): the latent of the image to edit (the conditioning's
    `concat_latent_image`, zeros without one) is concatenated to the noisy latent, resized to it."""

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        conds = super().extra_conds(cond, options, noise)
        conds["c_concat"] = self.concat_cond(options, noise)
        return conds

    def concat_cond(self, options: dict[str, Any], noise: torch.Tensor) -> torch.Tensor:
        image = options.get("concat_latent_image")
        if image is None:
            image = torch.zeros_like(noise[:1])
        if image.shape[1:] != noise.shape[1:]:
            image = comfy.utils.common_upscale(image, noise.shape[-1], noise.shape[-2], "bilinear", "center")
        return self.process_ip2p_image_in(image[:1])

    def process_ip2p_image_in(self, image: torch.Tensor) -> torch.Tensor:
        """The image latent as the model reads it: as the VAE gives it (diffusers' instruct-pix2pix models)."""
        return image


class SD15_instructpix2pix(IP2P, BaseModel):  # noqa: N801 - ComfyUI's name
    """SD1.5 instruct-pix2pix."""

    @property
    def is_inpaint(self) -> bool:
        return False


class SDXL_instructpix2pix(IP2P, SDXL):  # noqa: N801 - ComfyUI's name
    """SDXL instruct-pix2pix (diffusers' layout)."""

    @property
    def is_inpaint(self) -> bool:
        return False


class SD3(BaseModel):
    """SD3's MMDiT: context [B, 77(+T5), 4096] from CLIP-L ⊕ CLIP-G (⊕ T5), pooled `y` [B, 2048] from CLIP-L ⊕
    CLIP-G; the network sees sigma * 1000 (ComfyUI's FLOW sampling with multiplier 1000, shift 3.0)."""

    def __init__(self, transformer: torch.nn.Module, model_type: ModelType = ModelType.FLOW,
                 latent_format: comfy.latent_formats.LatentFormat | None = None, family: str = "SD3",
                 model_config: Any = None):
        super().__init__(transformer, model_type, latent_format or comfy.latent_formats.SD3(), family, model_config)

    def prepare_network(self, network: torch.nn.Module) -> None:
        """The UNet speed-ups do not apply to the transformer; its joint blocks take ComfyUI's "dit" block
        replacements (comfy.dit_blocks)."""
        comfy.dit_blocks.install(network)

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        if options.get("attention_mask") is not None:
            raise NotImplementedError("Kiln's FLUX.1 does not apply attention masks from the conditioning yet "
                                      "(StyleModelApply's attn_bias at a strength other than 1 makes one): use "
                                      "strength_type multiply")
        pooled = options.get("pooled_output")
        if pooled is None:
            pooled = torch.zeros((1, int(self.diffusion_model.config.pooled_projection_dim)))
        return {"c_crossattn": cond, "y": pooled[:1]}

    def run_network(self, model_input: torch.Tensor, timestep: torch.Tensor, conds: dict[str, Any],
                    dtype: torch.dtype) -> torch.Tensor:
        height, width = model_input.shape[-2:]
        patched = pad_to_patch_size(model_input, int(self.diffusion_model.config.patch_size))
        from comfy.guidance.control import mmdit_residual_kwargs

        control = mmdit_residual_kwargs(conds.get("control"), len(self.diffusion_model.transformer_blocks))
        with comfy.dit_blocks.active(conds.get("transformer_options")):
            output = self.diffusion_model(hidden_states=patched, encoder_hidden_states=conds["c_crossattn"].to(dtype),
                                          pooled_projections=conds["y"].to(dtype), timestep=timestep,
                                          return_dict=False, **control)[0]
        return output[:, :, :height, :width]


@functools.cache
def _optional_guidance_embedding() -> type:
    """FLUX.1 dev's timestep + guidance + pooled-text embedding, which diffusers calls as (timestep, pooled) when
    it is given no guidance: that call leaves the guidance term out (the sum of the other two). Made on first use:
    diffusers' embeddings module is not imported before a FLUX.1 model loads."""
    from diffusers.models.embeddings import CombinedTimestepGuidanceTextProjEmbeddings

    class OptionalGuidanceEmbedding(CombinedTimestepGuidanceTextProjEmbeddings):
        def forward(self, timestep: torch.Tensor, *inputs: torch.Tensor) -> torch.Tensor:
            if len(inputs) == 2:
                return super().forward(timestep, *inputs)
            (pooled,) = inputs
            timestep_embedding = self.timestep_embedder(self.time_proj(timestep).to(dtype=pooled.dtype))
            return timestep_embedding + self.text_embedder(pooled)

    return OptionalGuidanceEmbedding


class Flux(BaseModel):
    """FLUX.1 (dev and schnell): the latent is cut into 2x2 patches, each a token of 64 features, with RoPE
    positions (0, row, column); text tokens [B, 256, 4096] from T5 sit at position (0, 0, 0). The pooled CLIP-L
    vector `y` [B, 768] and, for dev, the `guidance` strength (the conditioning's "guidance", default 3.5) are
    embedded with the timestep, which is sigma itself (the network scales it by 1000)."""

    DIFFUSION_MODEL_ARGUMENTS = (("context", "c_crossattn"), ("y", "y"), ("guidance", "guidance"),
                                 ("ref_latents", "ref_latents"), ("control", "control"))

    PATCH_SIZE = 2
    DEFAULT_GUIDANCE = 3.5
    # what ComfyUI's FLUX.1 blocks overwrite in place (a "dit" replacement sees it after calling the original block)
    BLOCKS_UPDATED_IN_PLACE = {"double_block": ("txt",), "single_block": ("img",)}

    def __init__(self, transformer: torch.nn.Module, model_type: ModelType = ModelType.FLUX,
                 latent_format: comfy.latent_formats.LatentFormat | None = None, family: str = "Flux",
                 model_config: Any = None):
        super().__init__(transformer, model_type, latent_format or comfy.latent_formats.Flux(), family, model_config)
        self.in_channels = int(transformer.config.in_channels) // self.PATCH_SIZE**2

    def prepare_network(self, network: torch.nn.Module) -> None:
        """The UNet speed-ups do not apply to the transformer; its blocks take ComfyUI's "dit" block
        replacements (comfy.dit_blocks); a dev network's embedding of timestep, guidance and pooled vector also runs
        without the guidance term, as ComfyUI's does when the conditioning has no guidance value
        (FluxDisableGuidance)."""
        comfy.dit_blocks.install(network, in_place=self.BLOCKS_UPDATED_IN_PLACE)
        if network.config.guidance_embeds:
            network.time_text_embed.__class__ = _optional_guidance_embedding()

    @property
    def has_guidance(self) -> bool:
        return bool(self.diffusion_model.config.guidance_embeds)

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        if options.get("attention_mask") is not None:
            raise NotImplementedError("Kiln's FLUX.1 does not apply attention masks from the conditioning yet "
                                      "(StyleModelApply's attn_bias at a strength other than 1 makes one): use "
                                      "strength_type multiply")
        pooled = options.get("pooled_output")
        if pooled is None:
            pooled = torch.zeros((1, int(self.diffusion_model.config.pooled_projection_dim)))
        conds = {"c_crossattn": cond, "y": pooled[:1]}
        guidance = options.get("guidance", self.DEFAULT_GUIDANCE)
        if guidance is not None:
            conds["guidance"] = torch.tensor([float(guidance)], dtype=torch.float32)
        if self.in_channels > self.out_channels:  # FLUX.1 Fill, Depth, Canny
            conds["c_concat"] = self.concat_cond(options, noise)
        references = options.get("reference_latents")
        if references is not None:  # FLUX.1 Kontext: latents read beside the one being denoised
            conds["ref_latents"] = [self.process_latent_in(latent) for latent in references]
            conds["ref_latents_method"] = options.get("reference_latents_method", "offset")
        return conds

    @property
    def out_channels(self) -> int:
        return int(self.diffusion_model.config.out_channels or self.diffusion_model.config.in_channels) \
            // self.PATCH_SIZE**2

    def concat_cond(self, options: dict[str, Any], noise: torch.Tensor) -> torch.Tensor:
        """What FLUX.1 Fill / Depth / Canny read beside the noisy latent (their `img_in` takes more channels than
        the latent has): the conditioning's `concat_latent_image` (InstructPixToPixConditioning's picture, or
        InpaintModelConditioning's masked one; zeros without one) resized to the latent, in model space; the
        Fill model (three times the latent's channels and more) also reads the `concat_mask` (ones without one)
        at pixel resolution, each 8x8 block of it folded into 64 channels (row-major within the block)."""
        height, width = noise.shape[-2:]
        image = options.get("concat_latent_image")
        if image is None:
            image = torch.zeros((1, self.out_channels, height, width))
        image = comfy.utils.common_upscale(image[:1].float(), width, height, "bilinear", "center")
        image = self.process_latent_in(image)
        if self.in_channels <= 2 * self.out_channels:
            return image
        mask = options.get("concat_mask")
        if mask is None:
            mask = torch.ones((1, 1, height, width))
        mask = mask.float()
        mask = mask.reshape(1, 1, *mask.shape) if mask.ndim == 2 else mask[:, None] if mask.ndim == 3 else mask
        mask = mask[:1].mean(dim=1, keepdim=True)
        mask = comfy.utils.common_upscale(mask, width * 8, height * 8, "bilinear", "center")
        # b 1 (h 8) (w 8) -> b (8 8) h w
        mask = mask.reshape(1, height, 8, width, 8).permute(0, 2, 4, 1, 3).reshape(1, 64, height, width)
        return torch.cat([image, mask], dim=1)

    @staticmethod
    def _reference_offsets(references: list[torch.Tensor], method: str, rows: int, columns: int,
                           patch: int) -> list[tuple[int, int, int]]:
        """(index, row offset, column offset) in latent pixels per reference latent: "index" gives each its own
        index; "uxo" puts them at index 0 after the picture and each other; "offset" (the default) puts them all
        at index 1, each beside or below the ones before it, whichever keeps the block more square."""
        placed, height, width, index = [], 0, 0, 0
        for reference in references:
            ref_height, ref_width = reference.shape[-2], reference.shape[-1]
            if method == "index":
                index += 1
                placed.append((index, 0, 0))
            elif method == "uxo":
                placed.append((0, rows * patch + height, columns * patch + width))
                height, width = height + ref_height, width + ref_width
            else:
                row_offset, column_offset = (0, width) if ref_height + height > ref_width + width else (height, 0)
                placed.append((1, row_offset, column_offset))
                height = max(height, ref_height + row_offset)
                width = max(width, ref_width + column_offset)
        return placed

    def _tokens_and_ids(self, latent: torch.Tensor, index: int = 0, row_offset: int = 0,
                        column_offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """A latent [B, C, H, W] as 2x2-patch tokens [B, h*w, C*4] with their RoPE positions [h*w, 3]:
        (index, row + row_offset, column + column_offset), offsets in latent pixels rounded to patches."""
        patch = self.PATCH_SIZE
        batch, channels = latent.shape[:2]
        padded = pad_to_patch_size(latent, patch)
        rows, columns = padded.shape[-2] // patch, padded.shape[-1] // patch
        # b c (h ph) (w pw) -> b (h w) (c ph pw)
        tokens = (padded.reshape(batch, channels, rows, patch, columns, patch).permute(0, 2, 4, 1, 3, 5)
                  .reshape(batch, rows * columns, channels * patch * patch))
        first_row = (row_offset + patch // 2) // patch
        first_column = (column_offset + patch // 2) // patch
        ids = torch.zeros((rows, columns, 3), device=latent.device)
        ids[..., 0] = float(index)
        ids[..., 1] = torch.arange(first_row, first_row + rows, device=latent.device, dtype=torch.float32)[:, None]
        ids[..., 2] = torch.arange(first_column, first_column + columns, device=latent.device,
                                   dtype=torch.float32)[None, :]
        return tokens, ids.reshape(rows * columns, 3)

    def run_network(self, model_input: torch.Tensor, timestep: torch.Tensor, conds: dict[str, Any],
                    dtype: torch.dtype) -> torch.Tensor:
        batch, channels, height, width = model_input.shape
        patch = self.PATCH_SIZE
        rows, columns = -(-height // patch), -(-width // patch)
        tokens, image_ids = self._tokens_and_ids(model_input)
        image_tokens = tokens.shape[1]
        references = conds.get("ref_latents") or []
        placements = self._reference_offsets(references, conds.get("ref_latents_method", "offset"), rows, columns,
                                             patch)
        for reference, (index, row_offset, column_offset) in zip(references, placements, strict=True):
            reference_tokens, reference_ids = self._tokens_and_ids(reference.to(model_input), index, row_offset,
                                                                   column_offset)
            tokens = torch.cat([tokens, reference_tokens], dim=1)
            image_ids = torch.cat([image_ids, reference_ids])
        context = conds["c_crossattn"].to(dtype)
        text_ids = torch.zeros((context.shape[1], 3), device=model_input.device)
        guidance = conds.get("guidance") if self.has_guidance else None  # None: no guidance term (ComfyUI's too)
        from comfy.guidance.control import flux_residual_kwargs

        control = flux_residual_kwargs(conds.get("control"), len(self.diffusion_model.transformer_blocks),
                                       len(self.diffusion_model.single_transformer_blocks))
        with comfy.dit_blocks.active(conds.get("transformer_options")):
            output = self.diffusion_model(
                hidden_states=tokens, encoder_hidden_states=context,
                pooled_projections=conds["y"][:, :int(self.diffusion_model.config.pooled_projection_dim)].to(dtype),
                timestep=timestep.to(dtype), img_ids=image_ids, txt_ids=text_ids,
                guidance=None if guidance is None else guidance.to(dtype), return_dict=False, **control)[0]
        output = output[:, :image_tokens]
        # b (h w) (c ph pw) -> b c (h ph) (w pw)
        output = (output.reshape(batch, rows, columns, -1, patch, patch).permute(0, 3, 1, 4, 2, 5)
                  .reshape(batch, -1, rows * patch, columns * patch))
        return output[:, :, :height, :width]



def pad_to_patch_sizes(x: torch.Tensor, patch_size: tuple[int, ...]) -> torch.Tensor:
    """`x` [B, C, *dims] padded at the end of each dim to a multiple of its `patch_size` entry, wrapping around
    (circular), as ComfyUI pads latents for its patch-based transformers."""
    padding: list[int] = []
    for size, patch in zip(reversed(x.shape[2:]), reversed(patch_size), strict=True):
        padding += [0, (patch - size % patch) % patch]
    return torch.nn.functional.pad(x, padding, mode="circular") if any(padding) else x


class WAN21(BaseModel):
    """Wan 2.1 (and the Wan 2.2 14B experts): video latents [B, 16, T, H, W], text context [B, L, 4096] from
    UMT5-XXL; the network sees sigma * 1000 (discrete flow, shift 8). Image-to-video models read extra channels
    beside the latent (`c_concat`: the conditioning's `concat_mask` and `concat_latent_image`, as ComfyUI's
    WanImageToVideo / WanFirstLastFrameToVideo set them) and CLIP-vision tokens (`clip_fea`: the conditioning's
    `clip_vision_output` penultimate hidden states [B, 257 or 514, 1280])."""

    DIFFUSION_MODEL_ARGUMENTS = (("context", "c_crossattn"), ("clip_fea", "clip_fea"),
                                 ("time_dim_concat", "time_dim_concat"))

    def __init__(self, transformer: torch.nn.Module, model_type: ModelType = ModelType.FLOW,
                 latent_format: comfy.latent_formats.LatentFormat | None = None, family: str = "WAN21_T2V",
                 model_config: Any = None):
        super().__init__(transformer, model_type, latent_format or comfy.latent_formats.Wan21(), family,
                         model_config)
        from comfy.families.wan import IMAGE_TO_VIDEO_FAMILIES

        self.image_to_video = family in IMAGE_TO_VIDEO_FAMILIES

    def prepare_network(self, network: torch.nn.Module) -> None:
        """ComfyUI's "dit" block replacements, image-context split and first-last-frame position embedding
        (comfy.wan_network)."""
        import comfy.wan_network

        comfy.wan_network.install(network)

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        conds: dict[str, torch.Tensor] = {"c_crossattn": cond}
        concat = self.concat_cond(options, noise)
        if concat is not None:
            conds["c_concat"] = concat
        clip_vision = options.get("clip_vision_output")
        if clip_vision is not None:
            conds["clip_fea"] = clip_vision.penultimate_hidden_states
        time_dim_concat = options.get("time_dim_concat")
        if time_dim_concat is not None:  # Phantom's subject frames, appended after the video's
            conds["time_dim_concat"] = self.process_latent_in(time_dim_concat)
        return conds

    def concat_cond(self, options: dict[str, Any], noise: torch.Tensor) -> torch.Tensor | None:
        """The channels an image-to-video model reads beside the latent [1, extra, T, H, W], None when it reads
        none: 4 mask channels (1 - `concat_mask`: 1 where a frame is given; zeros without a mask) and the picture
        latent `concat_latent_image` resized to the latent, in model space (zeros, and no mask, without one)."""
        extra = self.in_channels - noise.shape[1]
        if extra <= 0:
            return None
        frames, height, width = noise.shape[-3:]
        image = options.get("concat_latent_image")
        if image is None:
            image = torch.zeros((1, extra, frames, height, width))
        else:
            image = comfy.utils.common_upscale(image[:1].float(), width, height, "bilinear", "center")
            step = self.latent_format.latent_channels
            image = torch.cat([self.process_latent_in(image[:, start:start + step])
                               for start in range(0, image.shape[1], step)], dim=1)
        if extra != image.shape[1] + 4 and (not self.image_to_video or extra == image.shape[1]):
            return image
        image = image[:, :extra - 4]
        mask = options.get("concat_mask", options.get("denoise_mask"))
        if mask is None:
            mask = torch.zeros((1, 4, frames, height, width))
        else:
            mask = mask[:1].float()
            if mask.shape[1] != 4:
                mask = mask.mean(dim=1, keepdim=True)
            mask = comfy.utils.common_upscale(1.0 - mask, width, height, "bilinear", "center")
            if mask.shape[-3] < frames:
                mask = torch.nn.functional.pad(mask, (0, 0, 0, 0, 0, frames - mask.shape[-3]))
            if mask.shape[1] == 1:
                mask = mask.repeat(1, 4, 1, 1, 1)
        index = options.get("concat_mask_index", 0)
        return torch.cat([image[:, :index], mask, image[:, index:]], dim=1)

    def network_timesteps(self, timestep: torch.Tensor, conds: dict[str, Any]) -> torch.Tensor:
        """The timesteps the network is given: one per sample ([B]); WAN22 makes them per frame."""
        return timestep

    def run_network(self, model_input: torch.Tensor, timestep: torch.Tensor, conds: dict[str, Any],
                    dtype: torch.dtype) -> torch.Tensor:
        import comfy.wan_network

        frames, height, width = model_input.shape[-3:]
        patch = tuple(self.diffusion_model.config.patch_size)
        latent = pad_to_patch_sizes(model_input, patch)
        extra_frames = conds.get("time_dim_concat")
        if extra_frames is not None:
            latent = torch.cat([latent, pad_to_patch_sizes(extra_frames.to(latent), patch)], dim=2)
        grid = [size // step for size, step in zip(latent.shape[2:], patch, strict=True)]
        timesteps = comfy.wan_network.per_token_timesteps(self.network_timesteps(timestep, conds), grid[0],
                                                          grid[1] * grid[2])
        image = conds.get("clip_fea")
        has_image_embedding = self.diffusion_model.condition_embedder.image_embedder is not None
        if not has_image_embedding:
            image = None
        with comfy.wan_network.image_context(self.diffusion_model, None if image is None else image.shape[-2]), \
                comfy.dit_blocks.active(conds.get("transformer_options")):
            output = self.diffusion_model(
                hidden_states=latent, timestep=timesteps.to(dtype), encoder_hidden_states=conds["c_crossattn"].to(dtype),
                encoder_hidden_states_image=None if image is None else image.to(dtype), return_dict=False)[0]
        return output[:, :, :frames, :height, :width]


class WAN22(WAN21):
    """Wan 2.2 TI2V 5B: latents [B, 48, T, H, W] (Wan22 format); with a denoise mask (Wan22ImageToVideoLatent's
    given first frame) each frame gets the timestep scaled by its mean mask value, so given frames sit at 0."""

    def __init__(self, transformer: torch.nn.Module, model_type: ModelType = ModelType.FLOW,
                 latent_format: comfy.latent_formats.LatentFormat | None = None, family: str = "WAN22_T2V",
                 model_config: Any = None):
        super().__init__(transformer, model_type, latent_format or comfy.latent_formats.Wan22(), family,
                         model_config)

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        conds = super().extra_conds(cond, options, noise)
        if options.get("denoise_mask") is not None:
            conds["denoise_mask"] = options["denoise_mask"]
        return conds

    def scale_latent_inpaint(self, sigma: torch.Tensor, noise: torch.Tensor, latent_image: torch.Tensor,
                             **kwargs: Any) -> torch.Tensor:
        """The frames a denoise mask keeps stay the clean latent at every step (their timestep is 0)."""
        return latent_image

    def network_timesteps(self, timestep: torch.Tensor, conds: dict[str, Any]) -> torch.Tensor:
        mask = conds.get("denoise_mask")
        if mask is None:
            return timestep
        per_frame = mask.float().mean(dim=(1, 3, 4)).to(timestep)  # [B, T]
        return per_frame * timestep.reshape(-1, 1)


def _guided_chroma_embedding() -> type:
    """Chroma's approximator input with the guidance value the model is given (diffusers always embeds 0, which is
    ComfyUI's default): `guidance` [B] is set on the module around each call. Made on first use (diffusers'
    Chroma module is not imported before a Chroma model loads)."""
    from diffusers.models.transformers.transformer_chroma import ChromaCombinedTimestepTextProjEmbeddings

    class GuidedChromaEmbedding(ChromaCombinedTimestepTextProjEmbeddings):
        guidance: torch.Tensor | None = None

        def forward(self, timestep: torch.Tensor) -> torch.Tensor:
            rows = self.mod_proj.shape[0]
            batch = timestep.shape[0]
            guidance = self.guidance
            guidance = (torch.zeros(batch, device=timestep.device) if guidance is None
                        else guidance.to(timestep.device, torch.float32).expand(batch) * 1000)
            timestep_part = self.time_proj(timestep).to(dtype=timestep.dtype)
            guidance_part = self.guidance_proj(guidance).to(dtype=timestep.dtype)
            mod_proj = self.mod_proj.to(dtype=timestep_part.dtype, device=timestep_part.device).repeat(batch, 1, 1)
            both = torch.cat([timestep_part, guidance_part], dim=1).unsqueeze(1).repeat(1, rows, 1)
            return torch.cat([both, mod_proj], dim=-1).to(timestep.dtype)

    return GuidedChromaEmbedding


class Chroma(Flux):
    """Chroma: FLUX.1's 2x2 patch tokens and RoPE positions, T5-XXL tokens alone as the context (no pooled
    vector), and every block's modulation from the approximator, which reads the timestep (sigma; the network
    scales it by 1000) and the conditioning's `guidance` (0 without one, as ComfyUI's Chroma)."""

    DIFFUSION_MODEL_ARGUMENTS = (("context", "c_crossattn"), ("guidance", "guidance"), ("control", "control"))
    DEFAULT_GUIDANCE = 0.0

    def prepare_network(self, network: torch.nn.Module) -> None:
        """The UNet speed-ups do not apply; the approximator's input takes the guidance value."""
        network.time_text_embed.__class__ = _guided_chroma_embedding()

    @property
    def has_guidance(self) -> bool:
        return True

    def extra_conds(self, cond: torch.Tensor, options: dict[str, Any], noise: torch.Tensor) -> dict[str, torch.Tensor]:
        if options.get("attention_mask") is not None:
            raise NotImplementedError("Kiln's Chroma does not apply attention masks from the conditioning yet")
        conds = {"c_crossattn": cond}
        guidance = options.get("guidance", self.DEFAULT_GUIDANCE)
        if guidance is not None:
            conds["guidance"] = torch.tensor([float(guidance)], dtype=torch.float32)
        return conds

    def run_network(self, model_input: torch.Tensor, timestep: torch.Tensor, conds: dict[str, Any],
                    dtype: torch.dtype) -> torch.Tensor:
        if conds.get("control") is not None or conds.get("ref_latents"):
            raise NotImplementedError("Kiln's Chroma does not take ControlNets or reference latents yet")
        if ((conds.get("transformer_options") or {}).get("patches_replace") or {}).get("dit"):
            raise NotImplementedError("Kiln's Chroma does not take \"dit\" block replacements yet")
        batch, _, height, width = model_input.shape
        patch = self.PATCH_SIZE
        rows, columns = -(-height // patch), -(-width // patch)
        tokens, image_ids = self._tokens_and_ids(model_input)
        context = conds["c_crossattn"].to(dtype)
        text_ids = torch.zeros((context.shape[1], 3), device=model_input.device)
        embedding = self.diffusion_model.time_text_embed
        embedding.guidance = conds.get("guidance")
        try:
            output = self.diffusion_model(hidden_states=tokens.to(dtype), encoder_hidden_states=context,
                                          timestep=timestep.to(dtype), img_ids=image_ids, txt_ids=text_ids,
                                          return_dict=False)[0]
        finally:
            embedding.guidance = None
        # b (h w) (c ph pw) -> b c (h ph) (w pw)
        output = (output.reshape(batch, rows, columns, -1, patch, patch).permute(0, 3, 1, 4, 2, 5)
                  .reshape(batch, -1, rows * patch, columns * patch))
        return output[:, :, :height, :width]


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class, unsupported_function  # noqa: E402

_REASON = 'Kiln does not support this model family'

ACEStep = unsupported_class(__name__, 'ACEStep', 'model_config, model_type=, device=', _REASON)
AuraFlow = unsupported_class(__name__, 'AuraFlow', 'model_config, model_type=, device=', _REASON)
ChromaRadiance = unsupported_class(__name__, 'ChromaRadiance', 'model_config, model_type=, device=', _REASON)
CosmosPredict2 = unsupported_class(__name__, 'CosmosPredict2', 'model_config, model_type=, image_to_video=, device=', _REASON)
CosmosVideo = unsupported_class(__name__, 'CosmosVideo', 'model_config, model_type=, image_to_video=, device=', _REASON)
GenmoMochi = unsupported_class(__name__, 'GenmoMochi', 'model_config, model_type=, device=', _REASON)
HiDream = unsupported_class(__name__, 'HiDream', 'model_config, model_type=, device=', _REASON)
Hunyuan3Dv2 = unsupported_class(__name__, 'Hunyuan3Dv2', 'model_config, model_type=, device=', _REASON)
Hunyuan3Dv2_1 = unsupported_class(__name__, 'Hunyuan3Dv2_1', 'model_config, model_type=, device=', _REASON)
HunyuanDiT = unsupported_class(__name__, 'HunyuanDiT', 'model_config, model_type=, device=', _REASON)
HunyuanImage21 = unsupported_class(__name__, 'HunyuanImage21', 'model_config, model_type=, device=', _REASON)
HunyuanImage21Refiner = unsupported_class(__name__, 'HunyuanImage21Refiner', None, _REASON)
HunyuanVideo = unsupported_class(__name__, 'HunyuanVideo', 'model_config, model_type=, device=', _REASON)
HunyuanVideoI2V = unsupported_class(__name__, 'HunyuanVideoI2V', 'model_config, model_type=, device=', _REASON)
HunyuanVideoSkyreelsI2V = unsupported_class(__name__, 'HunyuanVideoSkyreelsI2V', 'model_config, model_type=, device=', _REASON)
LTXV = unsupported_class(__name__, 'LTXV', 'model_config, model_type=, device=', _REASON)
Lotus = unsupported_class(__name__, 'Lotus', 'model_config, model_type=, device=', _REASON)
Lumina2 = unsupported_class(__name__, 'Lumina2', 'model_config, model_type=, device=', _REASON)
Omnigen2 = unsupported_class(__name__, 'Omnigen2', 'model_config, model_type=, device=', _REASON)
PixArt = unsupported_class(__name__, 'PixArt', 'model_config, model_type=, device=', _REASON)
QwenImage = unsupported_class(__name__, 'QwenImage', 'model_config, model_type=, device=', _REASON)
SD21UNCLIP = unsupported_class(__name__, 'SD21UNCLIP', 'model_config, noise_aug_config, model_type=, device=', _REASON)
SD_X4Upscaler = unsupported_class(__name__, 'SD_X4Upscaler', 'model_config, model_type=, device=', _REASON)
SV3D_p = unsupported_class(__name__, 'SV3D_p', 'model_config, model_type=, device=', _REASON)
SV3D_u = unsupported_class(__name__, 'SV3D_u', None, _REASON)
SVD_img2vid = unsupported_class(__name__, 'SVD_img2vid', 'model_config, model_type=, device=', _REASON)
StableAudio1 = unsupported_class(__name__, 'StableAudio1', 'model_config, seconds_start_embedder_weights, seconds_total_embedder_weights, model_type=, device=', _REASON)
StableCascade_B = unsupported_class(__name__, 'StableCascade_B', 'model_config, model_type=, device=', _REASON)
StableCascade_C = unsupported_class(__name__, 'StableCascade_C', 'model_config, model_type=, device=', _REASON)
Stable_Zero123 = unsupported_class(__name__, 'Stable_Zero123', 'model_config, model_type=, device=, cc_projection_weight=, cc_projection_bias=', _REASON)
WAN21_Camera = unsupported_class(__name__, 'WAN21_Camera', 'model_config, model_type=, image_to_video=, device=', _REASON)
WAN21_HuMo = unsupported_class(__name__, 'WAN21_HuMo', 'model_config, model_type=, image_to_video=, device=', _REASON)
WAN21_Vace = unsupported_class(__name__, 'WAN21_Vace', 'model_config, model_type=, image_to_video=, device=', _REASON)
WAN22_Animate = unsupported_class(__name__, 'WAN22_Animate', 'model_config, model_type=, image_to_video=, device=', _REASON)
WAN22_S2V = unsupported_class(__name__, 'WAN22_S2V', 'model_config, model_type=, device=', _REASON)
convert_tensor = unsupported_function(__name__, 'convert_tensor', 'extra, dtype, device', _REASON)
model_sampling = unsupported_function(__name__, 'model_sampling', 'model_config, model_type', _REASON)
sdxl_pooled = unsupported_function(__name__, 'sdxl_pooled', 'args, noise_augmentor', _REASON)
unclip_adm = unsupported_function(__name__, 'unclip_adm', 'unclip_conditioning, device, noise_augmentor, noise_augment_merge=, seed=', _REASON)
