"""SDXL text encoding nodes: separate prompts for SDXL's two text encoders, plus the size, crop and aesthetic
score inputs its UNet is conditioned on (read by `comfy.model_base.SDXL` / `SDXLRefiner.extra_conds`)."""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io
from nodes import MAX_RESOLUTION


def _pad_chunks(tokens: dict[str, list], empty: dict[str, list]) -> None:
    """In place: give the "g" and "l" token lists the same number of 77-token chunks by appending empty chunks
    to the shorter one (the encoders' outputs are joined along the feature axis, chunk by chunk)."""
    while len(tokens["l"]) < len(tokens["g"]):
        tokens["l"] += empty["l"]
    while len(tokens["l"]) > len(tokens["g"]):
        tokens["g"] += empty["g"]


def _size_input(name: str) -> io.Int.Input:
    return io.Int.Input(name, default=1024, min=0, max=MAX_RESOLUTION)


def _text_input(name: str) -> io.String.Input:
    return io.String.Input(name, multiline=True, dynamic_prompts=True)


class CLIPTextEncodeSDXLRefiner(io.ComfyNode):
    """A prompt for the SDXL refiner with its aesthetic score and size conditioning."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="CLIPTextEncodeSDXLRefiner", category="advanced/conditioning",
                         inputs=[io.Float.Input("ascore", default=6.0, min=0.0, max=1000.0, step=0.01),
                                 _size_input("width"), _size_input("height"), _text_input("text"),
                                 io.Clip.Input("clip")],
                         outputs=[io.Conditioning.Output()])

    @classmethod
    def execute(cls, clip, ascore: float, width: int, height: int, text: str) -> io.NodeOutput:
        tokens = clip.tokenize(text)
        extras = {"aesthetic_score": ascore, "width": width, "height": height}
        return io.NodeOutput(clip.encode_from_tokens_scheduled(tokens, add_dict=extras))


class CLIPTextEncodeSDXL(io.ComfyNode):
    """Two prompts, one per SDXL text encoder (bigG and CLIP-L), with SDXL's size and crop conditioning."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="CLIPTextEncodeSDXL", category="advanced/conditioning",
                         inputs=[io.Clip.Input("clip"), _size_input("width"), _size_input("height"),
                                 io.Int.Input("crop_w", default=0, min=0, max=MAX_RESOLUTION),
                                 io.Int.Input("crop_h", default=0, min=0, max=MAX_RESOLUTION),
                                 _size_input("target_width"), _size_input("target_height"), _text_input("text_g"),
                                 _text_input("text_l")],
                         outputs=[io.Conditioning.Output()])

    @classmethod
    def execute(cls, clip, width: int, height: int, crop_w: int, crop_h: int, target_width: int,
                target_height: int, text_g: str, text_l: str) -> io.NodeOutput:
        tokens = clip.tokenize(text_g)
        if "l" not in tokens or "g" not in tokens:
            raise ValueError("CLIPTextEncodeSDXL needs an SDXL base text encoder (CLIP-L and bigG); this clip has "
                             f"{sorted(tokens)}. Use CLIPTextEncode for other models.")
        tokens["l"] = clip.tokenize(text_l)["l"]
        if len(tokens["l"]) != len(tokens["g"]):
            _pad_chunks(tokens, clip.tokenize(""))
        sizes = {"width": width, "height": height, "crop_w": crop_w, "crop_h": crop_h,
                 "target_width": target_width, "target_height": target_height}
        return io.NodeOutput(clip.encode_from_tokens_scheduled(tokens, add_dict=sizes))


class ClipSdxlExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [CLIPTextEncodeSDXLRefiner, CLIPTextEncodeSDXL]


async def comfy_entrypoint() -> ClipSdxlExtension:
    return ClipSdxlExtension()
