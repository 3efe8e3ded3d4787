"""Test-only classic custom nodes written against ComfyUI's host API, as the popular packs use it.

Each node leans on one face a real pack leans on:
- `KilnHostFilledLatent` subclasses the core `nodes.EmptyLatentImage` (its INPUT_TYPES extended, its function
  called through `super()`), as Impact-Pack and KJNodes subclass core nodes;
- `KilnHostLatentTwice` reuses a `comfy_extras` node by import (`comfy_extras.nodes_latent.LatentAdd`, a V3 node,
  called through `execute`) and `KilnHostSolidMaskSum` a classic one (`comfy_extras.nodes_mask.SolidMask`);
- `KilnHostAttentionSampler` samples while `comfy.ldm.modules.attention.optimized_attention` is replaced by a
  function that scales attention's output, as attention packs (SageAttention and the like) replace it;
- `KilnHostOpsModelLoader` loads a diffusion model with `model_options["custom_operations"]` set to a subclass of
  `comfy.ops.manual_cast` whose Linear layers scale their weights, as ComfyUI-GGUF passes its `GGMLOps`;
- `KilnHostLatentStats` reports a latent's numbers in its `ui`, and `KilnHostOpsCalls` how often the custom
  Linear layers ran.
"""

from __future__ import annotations

import torch

import comfy.ldm.modules.attention
import comfy.ops
import comfy.sd
import folder_paths
import nodes
from comfy_extras.nodes_latent import LatentAdd
from comfy_extras.nodes_mask import SolidMask


class KilnHostFilledLatent(nodes.EmptyLatentImage):
    """EmptyLatentImage, then every value set to `value`."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802 - ComfyUI's name
        inputs = super().INPUT_TYPES()
        inputs["required"]["value"] = ("FLOAT", {"default": 0.5, "min": -10.0, "max": 10.0, "step": 0.01})
        return inputs

    FUNCTION = "filled"
    CATEGORY = "kiln_test/host_api"

    def filled(self, width, height, batch_size, value):
        (latent,) = super().generate(width, height, batch_size)
        return ({**latent, "samples": torch.full_like(latent["samples"], value)},)


class KilnHostLatentTwice:
    """samples + samples, by ComfyUI's own LatentAdd node."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {"samples": ("LATENT",)}}

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "twice"
    CATEGORY = "kiln_test/host_api"

    def twice(self, samples):
        return (LatentAdd.execute(samples, samples)[0],)


class KilnHostSolidMaskSum:
    """The sum of a SolidMask, made by ComfyUI's own classic node."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {"value": ("FLOAT", {"default": 0.25}), "width": ("INT", {"default": 8}),
                             "height": ("INT", {"default": 4})}}

    RETURN_TYPES = ()
    OUTPUT_NODE = True
    FUNCTION = "total"
    CATEGORY = "kiln_test/host_api"

    def total(self, value, width, height):
        (mask,) = SolidMask().solid(value, width, height)
        return {"ui": {"mask_sum": [float(mask.sum())], "mask_shape": [list(mask.shape)]}}


class KilnHostLatentStats:
    """A latent's shape, sum and mean (float64) in the node's ui."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {"samples": ("LATENT",)}}

    RETURN_TYPES = ()
    OUTPUT_NODE = True
    FUNCTION = "stats"
    CATEGORY = "kiln_test/host_api"

    def stats(self, samples):
        values = samples["samples"].double()
        return {"ui": {"shape": [list(values.shape)], "sum": [float(values.sum())], "mean": [float(values.mean())],
                       "abs_sum": [float(values.abs().sum())]}}



class KilnHostAttentionSampler:
    """KSampler run with `optimized_attention` replaced by `scale * optimized_attention(...)`; the function is put
    back afterwards. Its ui holds how many times the replacement ran."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {
            "model": ("MODEL",), "positive": ("CONDITIONING",), "negative": ("CONDITIONING",),
            "latent_image": ("LATENT",), "seed": ("INT", {"default": 0}), "steps": ("INT", {"default": 2}),
            "scale": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 4.0, "step": 0.01}),
        }}

    RETURN_TYPES = ("LATENT",)
    OUTPUT_NODE = True
    FUNCTION = "sample"
    CATEGORY = "kiln_test/host_api"

    def sample(self, model, positive, negative, latent_image, seed, steps, scale):
        original = comfy.ldm.modules.attention.optimized_attention
        calls = [0]

        def scaled_attention(q, k, v, heads, *args, **kwargs):
            calls[0] += 1
            return original(q, k, v, heads, *args, **kwargs) * scale

        comfy.ldm.modules.attention.optimized_attention = scaled_attention
        try:
            (latent,) = nodes.common_ksampler(model, seed, steps, 7.0, "euler", "normal", positive, negative,
                                              latent_image, denoise=1.0)
        finally:
            comfy.ldm.modules.attention.optimized_attention = original
        return {"ui": {"attention_calls": [calls[0]]}, "result": (latent,)}


_linear_calls = [0]


class ScaledWeightOps(comfy.ops.manual_cast):
    """manual_cast whose Linear layers multiply their weight by `weight_scale` on every call (counted)."""

    weight_scale = 1.0

    class Linear(comfy.ops.manual_cast.Linear):
        def forward_comfy_cast_weights(self, input):  # noqa: A002 - ComfyUI's parameter name
            _linear_calls[0] += 1
            weight, bias = comfy.ops.cast_bias_weight(self, input)
            return torch.nn.functional.linear(input, weight * ScaledWeightOps.weight_scale, bias)


class KilnHostOpsModelLoader:
    """A checkpoint's diffusion model loaded with `ScaledWeightOps` as its operations."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {"ckpt_name": (folder_paths.get_filename_list("checkpoints"),),
                             "weight_scale": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 4.0, "step": 0.01})}}

    RETURN_TYPES = ("MODEL",)
    FUNCTION = "load"
    CATEGORY = "kiln_test/host_api"

    def load(self, ckpt_name, weight_scale):
        ScaledWeightOps.weight_scale = weight_scale
        path = folder_paths.get_full_path_or_raise("checkpoints", ckpt_name)
        return (comfy.sd.load_diffusion_model(path, model_options={"custom_operations": ScaledWeightOps}),)


class KilnHostOpsCalls:
    """How many times ScaledWeightOps' Linear layers have run in this process (after `samples` is made)."""

    @classmethod
    def INPUT_TYPES(cls):  # noqa: N802
        return {"required": {"samples": ("LATENT",)}}

    RETURN_TYPES = ()
    OUTPUT_NODE = True
    FUNCTION = "report"
    CATEGORY = "kiln_test/host_api"

    def report(self, samples):
        return {"ui": {"linear_calls": [_linear_calls[0]]}}


NODE_CLASS_MAPPINGS = {
    "KilnHostFilledLatent": KilnHostFilledLatent,
    "KilnHostLatentTwice": KilnHostLatentTwice,
    "KilnHostSolidMaskSum": KilnHostSolidMaskSum,
    "KilnHostLatentStats": KilnHostLatentStats,
    "KilnHostAttentionSampler": KilnHostAttentionSampler,
    "KilnHostOpsModelLoader": KilnHostOpsModelLoader,
    "KilnHostOpsCalls": KilnHostOpsCalls,
}
