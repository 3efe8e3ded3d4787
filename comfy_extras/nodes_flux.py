"""FLUX.1 conditioning nodes: the distilled guidance value Flux dev is conditioned on, and Flux's two-prompt text
encoding (CLIP-L for the pooled vector, T5-XXL for the token sequence)."""

from __future__ import annotations

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


class FluxExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [CLIPTextEncodeFlux, FluxGuidance]


async def comfy_entrypoint() -> FluxExtension:
    return FluxExtension()


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import UnsupportedValue, unsupported_class  # noqa: E402

_REASON = 'Kiln does not implement this `nodes_flux` node yet'

FluxDisableGuidance = unsupported_class(__name__, 'FluxDisableGuidance', None, _REASON)
FluxKontextImageScale = unsupported_class(__name__, 'FluxKontextImageScale', None, _REASON)
FluxKontextMultiReferenceLatentMethod = unsupported_class(__name__, 'FluxKontextMultiReferenceLatentMethod', None, _REASON)
PREFERED_KONTEXT_RESOLUTIONS = UnsupportedValue(__name__, 'PREFERED_KONTEXT_RESOLUTIONS', _REASON)
