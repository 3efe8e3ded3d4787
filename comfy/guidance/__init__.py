"""Guided generation: the networks and objects that steer a diffusion model with another input.

| module | what it holds |
| --- | --- |
| `formats.py` | recognising every guidance file (ControlNets, T2I-Adapters, Control-LoRAs, CLIP vision, style models, GLIGEN, PhotoMaker) from its keys; the only place their marker keys and prefixes are spelled |
| `control.py` | ComfyUI's CONTROL_NET objects: a hint image, strength and step range, chained through conditioning and evaluated per sampling step; how their residuals enter each network |
| `sd_controlnet.py` | ControlNets of the SD UNet families (original and diffusers layouts, union, Control-LoRA) |
| `t2i_adapter.py` | T2I-Adapters (full, light, SDXL) |
| `mmdit_controlnet.py` | SD3 / SD3.5 ControlNets |
| `flux_controlnet.py` | FLUX.1 ControlNets (XLabs, InstantX / union, Alimama inpainting) |
| `clip_vision_models.py` | CLIP / SigLIP vision encoders (CLIPVisionLoader, unCLIP checkpoints) |
| `style_models.py` | FLUX.1 Redux and the T2I style adapter |
| `gligen.py` | GLIGEN's grounding tokens and gated self-attention |
| `unclip.py` | unCLIP's image-embedding noise augmentation |
| `photomaker.py` | PhotoMaker's ID encoder |

ComfyUI's own module names (`comfy.controlnet`, `comfy.clip_vision`, `comfy.gligen`), which custom nodes import,
are thin faces over these.
"""
