"""LTX-Video nodes. Only the weight-free one is here yet: LTXVPreprocess, which gives each conditioning image the
look of a compressed video frame (one H.264 frame through PyAV at a chosen CRF), as LTX-Video was trained on such
frames. The model nodes of this module (EmptyLTXVLatentVideo, LTXVImgToVideo, ...) come with the LTX family; until
then they are faces (comfy/unsupported.py) that say so when used.
"""

from __future__ import annotations

from io import BytesIO
from typing import BinaryIO

import av
import numpy as np
import torch

from comfy.unsupported import unsupported_class, unsupported_function
from comfy_api.latest import ComfyExtension, io


def encode_single_frame(output_file: BinaryIO | str, image_array: np.ndarray, crf) -> None:
    """One RGB frame [H,W,3] uint8 (even sides) as a one-frame H.264 MP4 (preset veryfast) in `output_file`."""
    with av.open(output_file, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=1, options={"crf": str(crf), "preset": "veryfast"})
        stream.height, stream.width = image_array.shape[:2]
        frame = av.VideoFrame.from_ndarray(image_array, format="rgb24").reformat(format="yuv420p")
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)


def decode_single_frame(video_file: BinaryIO | str) -> np.ndarray:
    """The first video frame of `video_file` as RGB uint8 [H,W,3]."""
    with av.open(video_file) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")


def preprocess(image: torch.Tensor, crf=29) -> torch.Tensor:
    """One IMAGE [H,W,C] as a compressed video frame: cropped to even sides, quantised by truncation to 8 bits;
    CRF 0 leaves it untouched."""
    if crf == 0:
        return image
    height, width = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    pixels = (image[:height, :width] * 255.0).byte().cpu().numpy()
    buffer = BytesIO()
    encode_single_frame(buffer, pixels, crf)
    buffer.seek(0)
    return torch.tensor(decode_single_frame(buffer), dtype=image.dtype, device=image.device) / 255.0


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
        return io.NodeOutput(torch.stack([preprocess(picture, img_compression) for picture in image]))


class LtxvExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [LTXVPreprocess]


async def comfy_entrypoint() -> LtxvExtension:
    return LtxvExtension()


# ComfyUI 0.3.64 names of the LTX model nodes, which wait for the LTX family: faces that raise when used.
_REASON = "Kiln does not run LTX-Video models yet (LTXVPreprocess works)"

EmptyLTXVLatentVideo = unsupported_class(__name__, "EmptyLTXVLatentVideo", None, _REASON)
LTXVAddGuide = unsupported_class(__name__, "LTXVAddGuide", None, _REASON)
LTXVConditioning = unsupported_class(__name__, "LTXVConditioning", None, _REASON)
LTXVCropGuides = unsupported_class(__name__, "LTXVCropGuides", None, _REASON)
LTXVImgToVideo = unsupported_class(__name__, "LTXVImgToVideo", None, _REASON)
LTXVScheduler = unsupported_class(__name__, "LTXVScheduler", None, _REASON)
ModelSamplingLTXV = unsupported_class(__name__, "ModelSamplingLTXV", None, _REASON)
conditioning_get_any_value = unsupported_function(__name__, "conditioning_get_any_value", "conditioning, key, default=",
                                                  _REASON)
get_keyframe_idxs = unsupported_function(__name__, "get_keyframe_idxs", "cond", _REASON)
get_noise_mask = unsupported_function(__name__, "get_noise_mask", "latent", _REASON)
