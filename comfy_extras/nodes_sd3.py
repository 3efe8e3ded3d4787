"""Stable Diffusion 3 nodes: its three text encoders loaded as one CLIP, its empty 16-channel latent, its
three-prompt text encoding (CLIP-L, CLIP-G and T5-XXL) and the ControlNet apply node with a VAE."""

from __future__ import annotations

import torch

import comfy.model_management
import folder_paths
from comfy_api.latest import ComfyExtension, io
from comfy_extras.nodes_clip_sdxl import _pad_chunks
from comfy_extras.nodes_slg import SkipLayerGuidanceDiT
from core_nodes.loaders import TripleCLIPLoader as _ClassicTripleCLIPLoader
from nodes import MAX_RESOLUTION


def _text_input(name: str) -> io.String.Input:
    return io.String.Input(name, multiline=True, dynamic_prompts=True)


class TripleCLIPLoader(io.ComfyNode):
    """SD3's three text encoders (CLIP-L, CLIP-G and T5-XXL, in any order) as one CLIP."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        names = folder_paths.get_filename_list("text_encoders")
        return io.Schema(node_id="TripleCLIPLoader", category="advanced/loaders",
                         description="[Recipes]\n\nsd3: clip-l, clip-g, t5",
                         inputs=[io.Combo.Input(f"clip_name{number}", options=names) for number in (1, 2, 3)],
                         outputs=[io.Clip.Output()])

    @classmethod
    def execute(cls, clip_name1: str, clip_name2: str, clip_name3: str) -> io.NodeOutput:
        return io.NodeOutput(*_ClassicTripleCLIPLoader().load_clip(clip_name1, clip_name2, clip_name3))

    load_clip = execute  # ComfyUI's classic method name


class EmptySD3LatentImage(io.ComfyNode):
    """A batch of all-zero 16-channel latents (SD3, Flux): {"samples": [B, 16, height/8, width/8]}."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="EmptySD3LatentImage", category="latent/sd3",
                         inputs=[io.Int.Input("width", default=1024, min=16, max=MAX_RESOLUTION, step=16),
                                 io.Int.Input("height", default=1024, min=16, max=MAX_RESOLUTION, step=16),
                                 io.Int.Input("batch_size", default=1, min=1, max=4096)],
                         outputs=[io.Latent.Output()])

    @classmethod
    def execute(cls, width: int, height: int, batch_size: int = 1) -> io.NodeOutput:
        # Zeros in VAE space: the sampler's latent_image becomes -shift * scale once the model's format is applied.
        latent = torch.zeros([batch_size, 16, height // 8, width // 8],
                             device=comfy.model_management.intermediate_device())
        return io.NodeOutput({"samples": latent})

    generate = execute  # ComfyUI's classic method name


class CLIPTextEncodeSD3(io.ComfyNode):
    """One prompt per SD3 text encoder; with `empty_padding` "none" an empty prompt gives its encoder no tokens."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="CLIPTextEncodeSD3", category="advanced/conditioning",
                         inputs=[io.Clip.Input("clip"), _text_input("clip_l"), _text_input("clip_g"),
                                 _text_input("t5xxl"), io.Combo.Input("empty_padding", options=["none", "empty_prompt"])],
                         outputs=[io.Conditioning.Output()])

    @classmethod
    def execute(cls, clip, clip_l: str, clip_g: str, t5xxl: str, empty_padding: str) -> io.NodeOutput:
        no_padding = empty_padding == "none"
        tokens = clip.tokenize(clip_g)
        missing = {"l", "g", "t5xxl"} - set(tokens)
        if missing:
            raise ValueError("CLIPTextEncodeSD3 needs an SD3 text encoder (CLIP-L, CLIP-G and the T5-XXL tokenizer, "
                             f"e.g. from TripleCLIPLoader); this clip has {sorted(tokens)}, without "
                             f"{sorted(missing)}. Use CLIPTextEncode for other models.")
        if no_padding and len(clip_g) == 0:
            tokens["g"] = []
        tokens["l"] = [] if no_padding and len(clip_l) == 0 else clip.tokenize(clip_l)["l"]
        tokens["t5xxl"] = [] if no_padding and len(t5xxl) == 0 else clip.tokenize(t5xxl)["t5xxl"]
        if len(tokens["l"]) != len(tokens["g"]):
            _pad_chunks(tokens, clip.tokenize(""))
        return io.NodeOutput(clip.encode_from_tokens_scheduled(tokens))

    encode = execute  # ComfyUI's classic method name


class ControlNetApplySD3(io.ComfyNode):
    """ControlNetApplyAdvanced with a required VAE, for nets that read the encoded hint (SD3's); deprecated in
    ComfyUI since ControlNetApplyAdvanced took an optional VAE."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="ControlNetApplySD3", display_name="Apply Controlnet with VAE",
                         category="conditioning/controlnet", is_deprecated=True,
                         inputs=[io.Conditioning.Input("positive"), io.Conditioning.Input("negative"),
                                 io.ControlNet.Input("control_net"), io.Vae.Input("vae"), io.Image.Input("image"),
                                 io.Float.Input("strength", default=1.0, min=0.0, max=10.0, step=0.01),
                                 io.Float.Input("start_percent", default=0.0, min=0.0, max=1.0, step=0.001),
                                 io.Float.Input("end_percent", default=1.0, min=0.0, max=1.0, step=0.001)],
                         outputs=[io.Conditioning.Output(display_name="positive"),
                                  io.Conditioning.Output(display_name="negative")])

    @classmethod
    def execute(cls, positive, negative, control_net, vae, image, strength: float, start_percent: float,
                end_percent: float) -> io.NodeOutput:
        from core_nodes.controlnet import apply_control

        return io.NodeOutput(*apply_control(positive, negative, control_net, image, strength, start_percent,
                                            end_percent, vae=vae))

    apply_controlnet = execute  # ComfyUI's classic method name


class SkipLayerGuidanceSD3(io.ComfyNode):
    """SkipLayerGuidanceDiT on SD3's joint blocks (comfy_extras/nodes_slg.py)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(node_id="SkipLayerGuidanceSD3", category="advanced/guidance",
                         description="Generic version of SkipLayerGuidance node that can be used on every DiT model.",
                         is_experimental=True,
                         inputs=[io.Model.Input("model"),
                                 io.String.Input("layers", default="7, 8, 9", multiline=False),
                                 io.Float.Input("scale", default=3.0, min=0.0, max=10.0, step=0.1),
                                 io.Float.Input("start_percent", default=0.01, min=0.0, max=1.0, step=0.001),
                                 io.Float.Input("end_percent", default=0.15, min=0.0, max=1.0, step=0.001)],
                         outputs=[io.Model.Output()])

    @classmethod
    def execute(cls, model, layers: str, scale: float, start_percent: float, end_percent: float) -> io.NodeOutput:
        return SkipLayerGuidanceDiT.execute(model=model, scale=scale, start_percent=start_percent,
                                            end_percent=end_percent, double_layers=layers)

    skip_guidance_sd3 = execute  # ComfyUI's classic method name


class SD3Extension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [TripleCLIPLoader, EmptySD3LatentImage, CLIPTextEncodeSD3, ControlNetApplySD3, SkipLayerGuidanceSD3]


async def comfy_entrypoint() -> SD3Extension:
    return SD3Extension()
