"""LTX-Video nodes. Only the weight-free one is here yet: LTXVPreprocess, which gives each conditioning image the
look of a compressed video frame (one H.264 frame through PyAV at a chosen CRF), as LTX-Video was trained on such
frames. The model nodes of this module (EmptyLTXVLatentVideo, LTXVImgToVideo, ...) come with the LTX family.
"""

from __future__ import annotations

from io import BytesIO

import av
import numpy as np
import torch

from comfy_api.latest import ComfyExtension, io


def _h264_round_trip(pixels: np.ndarray, crf: int) -> np.ndarray:
    """One RGB frame [H,W,3] uint8 (even sides) encoded as a one-frame H.264 MP4 in memory, decoded back."""
    buffer = BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=1, options={"crf": str(crf), "preset": "veryfast"})
        stream.height, stream.width = pixels.shape[:2]
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as container:
        decoded = next(container.decode(video=0))
    return decoded.to_ndarray(format="rgb24")


def compress_image(image: torch.Tensor, crf: int) -> torch.Tensor:
    """One IMAGE [H,W,C] as a compressed video frame: cropped to even sides, quantised by truncation to 8 bits;
    CRF 0 leaves it untouched."""
    if crf == 0:
        return image
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    pixels = (image[:height, :width] * 255.0).byte().cpu().numpy()
    decoded = _h264_round_trip(pixels, crf)
    return torch.tensor(decoded, dtype=image.dtype, device=image.device) / 255.0


class LTXVPreprocess(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LTXVPreprocess",
            category="image",
            inputs=[
                io.Image.Input("image"),
                io.Int.Input("img_compression", default=35, min=0, max=100,
                             tooltip="Amount of compression to apply on image."),
            ],
            outputs=[io.Image.Output(display_name="output_image")],
        )

    @classmethod
    def execute(cls, image: torch.Tensor, img_compression: int) -> io.NodeOutput:
        return io.NodeOutput(torch.stack([compress_image(picture, img_compression) for picture in image]))


class LtxvExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [LTXVPreprocess]


async def comfy_entrypoint() -> LtxvExtension:
    return LtxvExtension()
