"""Wan 2.1 / 2.2 video conditioning nodes (ComfyUI's `comfy_extras.nodes_wan`).

- WanImageToVideo: an empty 16-channel video latent; with a start image, the clip it begins (the start frames,
  then grey) encoded by the VAE as `concat_latent_image` and a `concat_mask` [1, 1, T, h, w] that is 0 on the
  latent frames the start frames cover; the CLIP vision output of the image as `clip_vision_output`. The I2V
  model concatenates mask and latent to its input channels (comfy.model_base).
- WanFirstLastFrameToVideo (and WanFunInpaintToVideo, the same with one CLIP vision output): the same with a start and an end image; the mask is made per video frame (start
  frames plus the 3 after them, end frames) and folded into 4 channels per latent frame; both CLIP vision outputs
  are joined along the token axis.
- Wan22ImageToVideoLatent: Wan 2.2 TI2V 5B's 48-channel latent (16x smaller than the picture); with a start
  image, its frames encoded in place and a `noise_mask` that keeps them.
- TrimVideoLatent: drops latent frames from the start.

The other Wan nodes of ComfyUI 0.3.64 (VACE, Fun control / inpaint, camera, sound, HuMo, Animate, tracks) wait for
those model variants: faces that say so when used (comfy/unsupported.py).
"""

from __future__ import annotations

import torch

import comfy.clip_vision
import comfy.latent_formats
import comfy.model_management
import comfy.utils
import node_helpers
from comfy.unsupported import UnsupportedValue, unsupported_class, unsupported_function
from comfy_api.latest import ComfyExtension, io
from comfy_extras.nodes_hunyuan import video_latent_frames
from nodes import MAX_RESOLUTION


def _size_inputs(width: int, height: int, length: int, step: int = 16, minimum: int = 16) -> list:
    return [io.Int.Input("width", default=width, min=minimum, max=MAX_RESOLUTION, step=step),
            io.Int.Input("height", default=height, min=minimum, max=MAX_RESOLUTION, step=step),
            io.Int.Input("length", default=length, min=1, max=MAX_RESOLUTION, step=4),
            io.Int.Input("batch_size", default=1, min=1, max=4096)]


def _conditioning_inputs() -> list:
    """The inputs every Wan conditioning node starts with: positive, negative, the VAE and an 832x480 81-frame size."""
    return [io.Conditioning.Input("positive"), io.Conditioning.Input("negative"), io.Vae.Input("vae"),
            *_size_inputs(832, 480, 81)]


_CONDITIONED_OUTPUTS = [io.Conditioning.Output(display_name="positive"),
                        io.Conditioning.Output(display_name="negative"), io.Latent.Output(display_name="latent")]


def _fit(frames: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """IMAGE frames scaled (bilinear) and centre-cropped to width x height."""
    return comfy.utils.common_upscale(frames.movedim(-1, 1), width, height, "bilinear", "center").movedim(1, -1)


def _with_values(positive: list, negative: list, values: dict) -> tuple[list, list]:
    return (node_helpers.conditioning_set_values(positive, values),
            node_helpers.conditioning_set_values(negative, values))


class WanImageToVideo(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="WanImageToVideo", category="conditioning/video_models",
                         inputs=[*_conditioning_inputs(),
                                 io.ClipVisionOutput.Input("clip_vision_output", optional=True),
                                 io.Image.Input("start_image", optional=True)],
                         outputs=_CONDITIONED_OUTPUTS)

    @classmethod
    def execute(cls, positive, negative, vae, width: int, height: int, length: int, batch_size: int,
                start_image: torch.Tensor | None = None, clip_vision_output=None) -> io.NodeOutput:
        frames = video_latent_frames(length)
        latent = torch.zeros([batch_size, 16, frames, height // 8, width // 8],
                             device=comfy.model_management.intermediate_device())
        if start_image is not None:
            start = _fit(start_image[:length], width, height)
            clip = torch.full((length, height, width, start.shape[-1]), 0.5, device=start.device, dtype=start.dtype)
            clip[:start.shape[0]] = start
            encoded = vae.encode(clip[..., :3])
            mask = torch.ones((1, 1, frames, encoded.shape[-2], encoded.shape[-1]), device=start.device,
                              dtype=start.dtype)
            mask[:, :, :video_latent_frames(start.shape[0])] = 0.0
            positive, negative = _with_values(positive, negative,
                                              {"concat_latent_image": encoded, "concat_mask": mask})
        if clip_vision_output is not None:
            positive, negative = _with_values(positive, negative, {"clip_vision_output": clip_vision_output})
        return io.NodeOutput(positive, negative, {"samples": latent})


class WanFirstLastFrameToVideo(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="WanFirstLastFrameToVideo", category="conditioning/video_models",
                         inputs=[*_conditioning_inputs(),
                                 io.ClipVisionOutput.Input("clip_vision_start_image", optional=True),
                                 io.ClipVisionOutput.Input("clip_vision_end_image", optional=True),
                                 io.Image.Input("start_image", optional=True),
                                 io.Image.Input("end_image", optional=True)],
                         outputs=_CONDITIONED_OUTPUTS)

    @classmethod
    def execute(cls, positive, negative, vae, width: int, height: int, length: int, batch_size: int,
                start_image: torch.Tensor | None = None, end_image: torch.Tensor | None = None,
                clip_vision_start_image=None, clip_vision_end_image=None) -> io.NodeOutput:
        scale = vae.spacial_compression_encode()
        frames = video_latent_frames(length)
        latent = torch.zeros([batch_size, vae.latent_channels, frames, height // scale, width // scale],
                             device=comfy.model_management.intermediate_device())
        clip = torch.full((length, height, width, 3), 0.5)
        # One mask value per video frame of the latent's span (4 per latent frame), folded to channels below.
        mask = torch.ones((1, 1, frames * 4, latent.shape[-2], latent.shape[-1]))
        if start_image is not None:
            start = _fit(start_image[:length], width, height)
            clip[:start.shape[0]] = start
            mask[:, :, :start.shape[0] + 3] = 0.0
        if end_image is not None:
            end = _fit(end_image[-length:], width, height)
            clip[-end.shape[0]:] = end
            mask[:, :, -end.shape[0]:] = 0.0
        encoded = vae.encode(clip[..., :3])
        mask = mask.view(1, frames, 4, mask.shape[-2], mask.shape[-1]).transpose(1, 2)
        positive, negative = _with_values(positive, negative, {"concat_latent_image": encoded, "concat_mask": mask})

        vision = clip_vision_start_image
        if clip_vision_end_image is not None:
            if vision is None:
                vision = clip_vision_end_image
            else:
                joined = comfy.clip_vision.Output()
                joined.penultimate_hidden_states = torch.cat(
                    [vision.penultimate_hidden_states, clip_vision_end_image.penultimate_hidden_states], dim=-2)
                vision = joined
        if vision is not None:
            positive, negative = _with_values(positive, negative, {"clip_vision_output": vision})
        return io.NodeOutput(positive, negative, {"samples": latent})


class WanFunInpaintToVideo(io.ComfyNode):
    """Wan Fun InP: WanFirstLastFrameToVideo with one CLIP vision output (the start image's)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="WanFunInpaintToVideo", category="conditioning/video_models",
                         inputs=[*_conditioning_inputs(),
                                 io.ClipVisionOutput.Input("clip_vision_output", optional=True),
                                 io.Image.Input("start_image", optional=True),
                                 io.Image.Input("end_image", optional=True)],
                         outputs=_CONDITIONED_OUTPUTS)

    @classmethod
    def execute(cls, positive, negative, vae, width: int, height: int, length: int, batch_size: int,
                start_image: torch.Tensor | None = None, end_image: torch.Tensor | None = None,
                clip_vision_output=None) -> io.NodeOutput:
        return WanFirstLastFrameToVideo.execute(positive, negative, vae, width, height, length, batch_size,
                                                start_image=start_image, end_image=end_image,
                                                clip_vision_start_image=clip_vision_output)


class Wan22ImageToVideoLatent(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="Wan22ImageToVideoLatent", category="conditioning/inpaint",
                         inputs=[io.Vae.Input("vae"), *_size_inputs(1280, 704, 49, step=32, minimum=32),
                                 io.Image.Input("start_image", optional=True)],
                         outputs=[io.Latent.Output()])

    @classmethod
    def execute(cls, vae, width: int, height: int, length: int, batch_size: int,
                start_image: torch.Tensor | None = None) -> io.NodeOutput:
        device = comfy.model_management.intermediate_device()
        frames = video_latent_frames(length)
        latent = torch.zeros([1, 48, frames, height // 16, width // 16], device=device)
        if start_image is None:
            return io.NodeOutput({"samples": latent})  # ComfyUI's: one latent whatever batch_size says
        mask = torch.ones([1, 1, frames, latent.shape[-2], latent.shape[-1]], device=device)
        encoded = vae.encode(_fit(start_image[:length], width, height))
        latent[:, :, :encoded.shape[-3]] = encoded
        mask[:, :, :encoded.shape[-3]] = 0.0
        # Where the model generates (mask 1) the latent is the format's zero, in VAE space.
        latent = comfy.latent_formats.Wan22().process_out(latent) * mask + latent * (1.0 - mask)
        repeat = (batch_size,) + (1,) * (latent.ndim - 1)
        return io.NodeOutput({"samples": latent.repeat(repeat), "noise_mask": mask.repeat(repeat)})



class TrimVideoLatent(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="TrimVideoLatent", category="latent/video",
                         inputs=[io.Latent.Input("samples"),
                                 io.Int.Input("trim_amount", default=0, min=0, max=99999)],
                         outputs=[io.Latent.Output()])

    @classmethod
    def execute(cls, samples: dict, trim_amount: int) -> io.NodeOutput:
        trimmed = samples.copy()
        trimmed["samples"] = samples["samples"][:, :, trim_amount:]
        return io.NodeOutput(trimmed)



class WanExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [WanImageToVideo, WanFirstLastFrameToVideo, WanFunInpaintToVideo, Wan22ImageToVideoLatent,
                TrimVideoLatent]


async def comfy_entrypoint() -> WanExtension:
    return WanExtension()


# ComfyUI 0.3.64's other names in this module, which wait for their Wan variants.
_REASON = ("Kiln does not run this Wan variant yet (WanImageToVideo, WanFirstLastFrameToVideo, WanFunInpaintToVideo "
           "and Wan22ImageToVideoLatent work)")

FIXED_LENGTH = UnsupportedValue(__name__, 'FIXED_LENGTH', _REASON)
Wan22FunControlToVideo = unsupported_class(__name__, 'Wan22FunControlToVideo', None, _REASON)
WanAnimateToVideo = unsupported_class(__name__, 'WanAnimateToVideo', None, _REASON)
WanCameraImageToVideo = unsupported_class(__name__, 'WanCameraImageToVideo', None, _REASON)
WanFunControlToVideo = unsupported_class(__name__, 'WanFunControlToVideo', None, _REASON)
WanHuMoImageToVideo = unsupported_class(__name__, 'WanHuMoImageToVideo', None, _REASON)
WanPhantomSubjectToVideo = unsupported_class(__name__, 'WanPhantomSubjectToVideo', None, _REASON)
WanSoundImageToVideo = unsupported_class(__name__, 'WanSoundImageToVideo', None, _REASON)
WanSoundImageToVideoExtend = unsupported_class(__name__, 'WanSoundImageToVideoExtend', None, _REASON)
WanTrackToVideo = unsupported_class(__name__, 'WanTrackToVideo', None, _REASON)
WanVaceToVideo = unsupported_class(__name__, 'WanVaceToVideo', None, _REASON)
get_audio_emb_window = unsupported_function(__name__, 'get_audio_emb_window', 'audio_emb, frame_num, frame0_idx, audio_shift=', _REASON)
get_audio_embed_bucket_fps = unsupported_function(__name__, 'get_audio_embed_bucket_fps', 'audio_embed, fps=, batch_frames=, m=, video_rate=', _REASON)
get_sample_indices = unsupported_function(__name__, 'get_sample_indices', 'original_fps, total_frames, target_fps, num_sample, fixed_start=', _REASON)
ind_sel = unsupported_function(__name__, 'ind_sel', 'target, ind, dim=', _REASON)
linear_interpolation = unsupported_function(__name__, 'linear_interpolation', 'features, input_fps, output_fps, output_len=', _REASON)
merge_final = unsupported_function(__name__, 'merge_final', 'vert_attr, weight, vert_assign', _REASON)
pad_pts = unsupported_function(__name__, 'pad_pts', 'tr', _REASON)
parse_json_tracks = unsupported_function(__name__, 'parse_json_tracks', 'tracks', _REASON)
patch_motion = unsupported_function(__name__, 'patch_motion', 'tracks, vid, temperature=, vae_divide=, topk=', _REASON)
process_tracks = unsupported_function(__name__, 'process_tracks', 'tracks_np, frame_size, num_frames, quant_multi=, **kwargs', _REASON)
wan_sound_to_video = unsupported_function(__name__, 'wan_sound_to_video', 'positive, negative, vae, width, height, length, batch_size, frame_offset=, ref_image=, audio_encoder_output=, control_video=, ref_motion=, ref_motion_latent=', _REASON)
