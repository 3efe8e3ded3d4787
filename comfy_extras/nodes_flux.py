"""FLUX.1 conditioning nodes: the distilled guidance value Flux dev is conditioned on, Flux's two-prompt text
encoding (CLIP-L for the pooled vector, T5-XXL for the token sequence), and how FLUX.1 Kontext places several
reference latents (ReferenceLatent) in its positions."""

from __future__ import annotations

import comfy.utils
import node_helpers
from comfy_api.latest import ComfyExtension, io

CATEGORY = "advanced/conditioning/flux"


def _guidance_input() -> io.Float.Input:
    return io.Float.Input("guidance", default=3.5, min=0.0, max=100.0, step=0.1)


class CLIPTextEncodeFlux(io.ComfyNode):
    """One prompt per Flux text encoder, with the guidance value set on the conditioning."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="CLIPTextEncodeFlux", category=CATEGORY,
                         inputs=[io.Clip.Input("clip"), io.String.Input("clip_l", multiline=True, dynamic_prompts=True),
                                 io.String.Input("t5xxl", multiline=True, dynamic_prompts=True), _guidance_input()],
                         outputs=[io.Conditioning.Output()])

    @classmethod
    def execute(cls, clip, clip_l: str, t5xxl: str, guidance: float) -> io.NodeOutput:
        tokens = clip.tokenize(clip_l)
        if "l" not in tokens or "t5xxl" not in tokens:
            raise ValueError("CLIPTextEncodeFlux needs a Flux text encoder (CLIP-L and T5-XXL, e.g. from "
                             f"DualCLIPLoader with type flux); this clip has {sorted(tokens)}. "
                             "Use CLIPTextEncode for other models.")
        tokens["t5xxl"] = clip.tokenize(t5xxl)["t5xxl"]
        return io.NodeOutput(clip.encode_from_tokens_scheduled(tokens, add_dict={"guidance": guidance}))

    encode = execute  # ComfyUI's classic method name, which packs still call


class FluxGuidance(io.ComfyNode):
    """Sets the guidance value a guidance-distilled model (Flux dev) is conditioned on."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="FluxGuidance", category=CATEGORY,
                         inputs=[io.Conditioning.Input("conditioning"), _guidance_input()],
                         outputs=[io.Conditioning.Output()])

    @classmethod
    def execute(cls, conditioning: list, guidance: float) -> io.NodeOutput:
        return io.NodeOutput(node_helpers.conditioning_set_values(conditioning, {"guidance": guidance}))

    append = execute  # ComfyUI's classic method name


class FluxDisableGuidance(io.ComfyNode):
    """Takes the guidance value off the conditioning: a guidance-distilled model (Flux dev) then runs without its
    guidance embedding (for fine-tunes trained without it, and for real CFG on Flux dev)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="FluxDisableGuidance", category=CATEGORY,
                         description="This node completely disables the guidance embed on Flux and Flux like models",
                         inputs=[io.Conditioning.Input("conditioning")], outputs=[io.Conditioning.Output()])

    @classmethod
    def execute(cls, conditioning: list) -> io.NodeOutput:
        return io.NodeOutput(node_helpers.conditioning_set_values(conditioning, {"guidance": None}))

    append = execute  # ComfyUI's classic method name


# FLUX.1 Kontext's preferred sizes (width, height), about one megapixel each: FluxKontextImageScale picks the one
# whose aspect ratio is nearest the picture's.
PREFERED_KONTEXT_RESOLUTIONS = [
    (672, 1568), (688, 1504), (720, 1456), (752, 1392), (800, 1328), (832, 1248), (880, 1184), (944, 1104),
    (1024, 1024), (1104, 944), (1184, 880), (1248, 832), (1328, 800), (1392, 752), (1456, 720), (1504, 688),
    (1568, 672),
]


class FluxKontextImageScale(io.ComfyNode):
    """Resizes a picture (Lanczos, centre-cropped to the new aspect) to the preferred Kontext size nearest its
    aspect ratio."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="FluxKontextImageScale", category=CATEGORY,
                         description="This node resizes the image to one that is more optimal for flux kontext.",
                         inputs=[io.Image.Input("image")], outputs=[io.Image.Output()])

    @classmethod
    def execute(cls, image) -> io.NodeOutput:
        aspect_ratio = image.shape[2] / image.shape[1]
        _, width, height = min((abs(aspect_ratio - w / h), w, h) for w, h in PREFERED_KONTEXT_RESOLUTIONS)
        scaled = comfy.utils.common_upscale(image.movedim(-1, 1), width, height, "lanczos", "center")
        return io.NodeOutput(scaled.movedim(1, -1))

    scale = execute  # ComfyUI's classic method name


class FluxKontextMultiReferenceLatentMethod(io.ComfyNode):
    """How the model's positions separate several reference latents: "offset" (all at index 1, placed beside
    one another), "index" (one index each), "uxo/uno" (index 0, placed after the picture itself)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="FluxKontextMultiReferenceLatentMethod", category=CATEGORY,
                         inputs=[io.Conditioning.Input("conditioning"),
                                 io.Combo.Input("reference_latents_method", options=["offset", "index", "uxo/uno"])],
                         outputs=[io.Conditioning.Output()], is_experimental=True)

    @classmethod
    def execute(cls, conditioning: list, reference_latents_method: str) -> io.NodeOutput:
        method = "uxo" if "uxo" in reference_latents_method or "uso" in reference_latents_method \
            else reference_latents_method
        return io.NodeOutput(node_helpers.conditioning_set_values(conditioning,
                                                                  {"reference_latents_method": method}))

    append = execute  # ComfyUI's classic method name


class FluxExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [CLIPTextEncodeFlux, FluxDisableGuidance, FluxGuidance, FluxKontextImageScale,
                FluxKontextMultiReferenceLatentMethod]


async def comfy_entrypoint() -> FluxExtension:
    return FluxExtension()
