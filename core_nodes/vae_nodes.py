"""VAE nodes: decode latents to images, encode images to latents (plain, tiled, for inpainting), noise masks."""

from __future__ import annotations

import torch

import node_helpers


def _crop_to_multiple(pixels: torch.Tensor, multiple: int) -> torch.Tensor:
    """Centre-crop IMAGE `[B, H, W, C]` so both sides are multiples of `multiple`."""
    height = (pixels.shape[1] // multiple) * multiple
    width = (pixels.shape[2] // multiple) * multiple
    top = (pixels.shape[1] % multiple) // 2
    left = (pixels.shape[2] % multiple) // 2
    return pixels[:, top:top + height, left:left + width, :]


class VAEDecode:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT", {"tooltip": "The latent to be decoded."}),
                             "vae": ("VAE", {"tooltip": "The VAE model used for decoding the latent."})}}

    RETURN_TYPES = ("IMAGE",)
    OUTPUT_TOOLTIPS = ("The decoded image.",)
    FUNCTION = "decode"
    CATEGORY = "latent"
    DESCRIPTION = "Decodes latent images back into pixel space images."

    def decode(self, vae, samples):
        images = vae.decode(samples["samples"])
        if images.ndim == 5:
            images = images.reshape(-1, *images.shape[-3:])
        return (images,)


class VAEDecodeTiled:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT",), "vae": ("VAE",),
                             "tile_size": ("INT", {"default": 512, "min": 64, "max": 4096, "step": 32}),
                             "overlap": ("INT", {"default": 64, "min": 0, "max": 4096, "step": 32}),
                             "temporal_size": ("INT", {
                                 "default": 64, "min": 8, "max": 4096, "step": 4,
                                 "tooltip": "Only used for video VAEs: Amount of frames to decode at a time."}),
                             "temporal_overlap": ("INT", {
                                 "default": 8, "min": 4, "max": 4096, "step": 4,
                                 "tooltip": "Only used for video VAEs: Amount of frames to overlap."})}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "decode"
    CATEGORY = "_for_testing"

    def decode(self, vae, samples, tile_size, overlap=64, temporal_size=64, temporal_overlap=8):
        ratio = vae.spacial_compression_decode()
        overlap = min(overlap, tile_size // 4)
        if temporal_size < temporal_overlap * 2:
            temporal_overlap = temporal_overlap // 2
        temporal_compression = vae.temporal_compression_decode()
        if temporal_compression is None:  # an image VAE: time means nothing
            tile_t = overlap_t = None
        else:  # frames -> latent frames
            tile_t = max(2, temporal_size // temporal_compression)
            overlap_t = max(1, min(tile_t // 2, temporal_overlap // temporal_compression))
        images = vae.decode_tiled(samples["samples"], tile_x=tile_size // ratio, tile_y=tile_size // ratio,
                                  overlap=overlap // ratio, tile_t=tile_t, overlap_t=overlap_t)
        if images.ndim == 5:  # a video VAE's frames, into one IMAGE batch
            images = images.reshape(-1, *images.shape[-3:])
        return (images,)


class VAEEncode:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pixels": ("IMAGE",), "vae": ("VAE",)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "encode"
    CATEGORY = "latent"

    def encode(self, vae, pixels):
        return ({"samples": vae.encode(pixels[:, :, :, :3])},)


class VAEEncodeTiled:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pixels": ("IMAGE",), "vae": ("VAE",),
                             "tile_size": ("INT", {"default": 512, "min": 64, "max": 4096, "step": 64}),
                             "overlap": ("INT", {"default": 64, "min": 0, "max": 4096, "step": 32}),
                             "temporal_size": ("INT", {
                                 "default": 64, "min": 8, "max": 4096, "step": 4,
                                 "tooltip": "Only used for video VAEs: Amount of frames to encode at a time."}),
                             "temporal_overlap": ("INT", {
                                 "default": 8, "min": 4, "max": 4096, "step": 4,
                                 "tooltip": "Only used for video VAEs: Amount of frames to overlap."})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "encode"
    CATEGORY = "_for_testing"

    def encode(self, vae, pixels, tile_size, overlap, temporal_size=64, temporal_overlap=8):
        return ({"samples": vae.encode_tiled(pixels[:, :, :, :3], tile_x=tile_size, tile_y=tile_size,
                                             overlap=overlap, tile_t=temporal_size, overlap_t=temporal_overlap)},)


class VAEEncodeForInpaint:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"pixels": ("IMAGE",), "vae": ("VAE",), "mask": ("MASK",),
                             "grow_mask_by": ("INT", {"default": 6, "min": 0, "max": 64, "step": 1})}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "encode"
    CATEGORY = "latent/inpaint"

    def encode(self, vae, pixels, mask, grow_mask_by=6):
        ratio = vae.spacial_compression_encode()
        pixels = _crop_to_multiple(pixels, ratio).clone()
        height, width = pixels.shape[1], pixels.shape[2]
        mask = torch.nn.functional.interpolate(mask.reshape(-1, 1, mask.shape[-2], mask.shape[-1]).float(),
                                               size=(height, width), mode="bilinear")
        if grow_mask_by > 0:
            kernel = torch.ones((1, 1, grow_mask_by, grow_mask_by))
            padding = grow_mask_by // 2
            grown = torch.clamp(torch.nn.functional.conv2d(mask.round(), kernel, padding=padding), 0, 1)
            grown = grown[:, :, :height, :width]
        else:
            grown = mask
        keep = (1.0 - mask.round()).squeeze(1)
        for channel in range(3):
            pixels[:, :, :, channel] = (pixels[:, :, :, channel] - 0.5) * keep + 0.5
        return ({"samples": vae.encode(pixels), "noise_mask": grown[:, :, :height, :width].round()},)


class InpaintModelConditioning:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"positive": ("CONDITIONING",), "negative": ("CONDITIONING",), "vae": ("VAE",),
                             "pixels": ("IMAGE",), "mask": ("MASK",),
                             "noise_mask": ("BOOLEAN", {
                                 "default": True,
                                 "tooltip": "Add a noise mask to the latent so sampling will only happen within the "
                                            "mask. Might improve results or completely break things depending on the "
                                            "model."})}}

    RETURN_TYPES = ("CONDITIONING", "CONDITIONING", "LATENT")
    RETURN_NAMES = ("positive", "negative", "latent")
    FUNCTION = "encode"
    CATEGORY = "conditioning/inpaint"

    def encode(self, positive, negative, pixels, vae, mask, noise_mask=True):
        ratio = vae.spacial_compression_encode()
        pixels = _crop_to_multiple(pixels, ratio)
        height, width = pixels.shape[1], pixels.shape[2]
        mask = torch.nn.functional.interpolate(mask.reshape(-1, 1, mask.shape[-2], mask.shape[-1]).float(),
                                               size=(height, width), mode="bilinear")
        original = pixels
        masked = pixels.clone()
        keep = (1.0 - mask.round()).squeeze(1)
        for channel in range(3):
            masked[:, :, :, channel] = (masked[:, :, :, channel] - 0.5) * keep + 0.5
        concat_latent = vae.encode(masked)
        latent = {"samples": vae.encode(original)}
        if noise_mask:
            latent["noise_mask"] = mask
        values = {"concat_latent_image": concat_latent, "concat_mask": mask}
        return (node_helpers.conditioning_set_values(positive, values),
                node_helpers.conditioning_set_values(negative, values), latent)


class SetLatentNoiseMask:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT",), "mask": ("MASK",)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "set_mask"
    CATEGORY = "latent/inpaint"

    def set_mask(self, samples, mask):
        output = samples.copy()
        output["noise_mask"] = mask.reshape((-1, 1, mask.shape[-2], mask.shape[-1]))
        return (output,)


NODE_CLASS_MAPPINGS = {
    "VAEDecode": VAEDecode,
    "VAEDecodeTiled": VAEDecodeTiled,
    "VAEEncode": VAEEncode,
    "VAEEncodeTiled": VAEEncodeTiled,
    "VAEEncodeForInpaint": VAEEncodeForInpaint,
    "InpaintModelConditioning": InpaintModelConditioning,
    "SetLatentNoiseMask": SetLatentNoiseMask,
}
