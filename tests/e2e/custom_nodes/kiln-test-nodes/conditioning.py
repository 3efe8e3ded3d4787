"""KilnTestConditioning: a CONDITIONING made from a seed, for end-to-end runs whose text encoder is too large to
write at test time (Wan's UMT5-XXL: ComfyUI builds it at full size from a fixed config). The same seed gives the
same tensor on Kiln and on ComfyUI (torch's CPU generator), so a recorded run compares the model, the VAE, the
nodes and the sampler; the text encoder is compared on its own (tests/unit/test_umt5.py).

KilnTestClipVisionOutput does the same for a CLIP vision output (its `penultimate_hidden_states`, what Wan's
image-to-video models read), in place of a full-size ViT-H.

Self-contained (torch and ComfyUI's `comfy.clip_vision.Output`) so that the oracle recorders can load this file
into ComfyUI as it is.
"""

import torch


class KilnTestConditioning:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"seed": ("INT", {"default": 0, "min": 0, "max": 2**31 - 1}),
                             "tokens": ("INT", {"default": 8, "min": 1, "max": 4096}),
                             "width": ("INT", {"default": 4096, "min": 1, "max": 16384}),
                             "scale": ("FLOAT", {"default": 0.5, "min": 0.0, "max": 100.0, "step": 0.01})},
                # True: the entry also holds "pooled_output": None, as CLIPTextEncode makes it with a T5-only text
                # encoder (ComfyUI's Chroma reads that key); False (default): an empty dict, as before.
                "optional": {"pooled_output_none": ("BOOLEAN", {"default": False})}}

    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "make"
    CATEGORY = "kiln_test"

    def make(self, seed, tokens, width, scale, pooled_output_none=False):
        generator = torch.Generator().manual_seed(seed)
        context = torch.randn((1, tokens, width), generator=generator, dtype=torch.float32) * scale
        return ([[context, {"pooled_output": None} if pooled_output_none else {}]],)


class KilnTestClipVisionOutput:
    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"seed": ("INT", {"default": 0, "min": 0, "max": 2**31 - 1}),
                             "tokens": ("INT", {"default": 257, "min": 1, "max": 4096}),
                             "width": ("INT", {"default": 1280, "min": 1, "max": 16384}),
                             "scale": ("FLOAT", {"default": 1.0, "min": 0.0, "max": 100.0, "step": 0.01})}}

    RETURN_TYPES = ("CLIP_VISION_OUTPUT",)
    FUNCTION = "make"
    CATEGORY = "kiln_test"

    def make(self, seed, tokens, width, scale):
        import comfy.clip_vision

        generator = torch.Generator().manual_seed(seed)
        output = comfy.clip_vision.Output()
        output.penultimate_hidden_states = torch.randn((1, tokens, width), generator=generator) * scale
        return (output,)


NODE_CLASS_MAPPINGS = {"KilnTestConditioning": KilnTestConditioning,
                       "KilnTestClipVisionOutput": KilnTestClipVisionOutput}
