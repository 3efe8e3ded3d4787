"""ComfyUI's `comfy_extras.nodes_cond`: T5TokenizerOptions (CLIPTextEncodeControlnet is a face: Kiln's
ControlNets do not read a separate text conditioning).

T5TokenizerOptions sets, on a clone of the CLIP, the tokenizer options `<encoder>_min_padding` (pad tokens added
after the end token) and `<encoder>_min_length` (pad up to this length) for every T5-family encoder ComfyUI names
(t5xxl, pile_t5xl, t5base, mt5xl, umt5xxl); each T5 tokenizer reads those of its own encoder.
"""

from __future__ import annotations

from typing import Any

from comfy_api.latest import ComfyExtension, io

T5_ENCODERS = ("t5xxl", "pile_t5xl", "t5base", "mt5xl", "umt5xxl")


class T5TokenizerOptions(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="T5TokenizerOptions",
            category="_for_testing/conditioning",
            inputs=[
                io.Clip.Input("clip"),
                io.Int.Input("min_padding", default=0, min=0, max=10000, step=1),
                io.Int.Input("min_length", default=0, min=0, max=10000, step=1),
            ],
            outputs=[io.Clip.Output()],
            is_experimental=True,
        )

    @classmethod
    def execute(cls, clip: Any, min_padding: int, min_length: int) -> io.NodeOutput:
        clip = clip.clone()
        for encoder in T5_ENCODERS:
            clip.set_tokenizer_option(f"{encoder}_min_padding", min_padding)
            clip.set_tokenizer_option(f"{encoder}_min_length", min_length)
        return io.NodeOutput(clip)


class CondExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [T5TokenizerOptions]


async def comfy_entrypoint() -> CondExtension:
    return CondExtension()


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_class  # noqa: E402

_REASON = "Kiln does not implement this `nodes_cond` node yet"

CLIPTextEncodeControlnet = unsupported_class(__name__, 'CLIPTextEncodeControlnet', None, _REASON)
