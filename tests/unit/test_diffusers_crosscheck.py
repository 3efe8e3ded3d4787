"""An independent check of conversion and sampling: diffusers' own StableDiffusionPipeline, run on the tiny SD1
models before they are written in the LDM layout, gives the same final latent as Kiln's KSampler on the
converted checkpoint (same conditioning, same initial noise, Euler with ComfyUI's `normal` schedule)."""

import torch
from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

import comfy.sample
import comfy.sd
import nodes
from comfy.text_encoders.clip_tokenizer import clip_tokenizer
from tests import model_factory

STEPS = 4  # linspace(999, 0, 4) lands on whole timesteps, where ComfyUI's and diffusers' sigma tables agree
CFG = 7.0
SEED = 3


def test_diffusers_pipeline_and_kiln_ksampler_reach_the_same_latent(tmp_path):
    path = tmp_path / "tiny-sd15.safetensors"
    tiny = model_factory.write_tiny_checkpoint(path, "SD15", 0)
    model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(str(path))
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, "a red circle")[0], encode.encode(clip, "blurry")[0]
    latent = {"samples": torch.zeros(1, 4, 8, 8)}

    with torch.inference_mode():
        kiln = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, SEED, STEPS, CFG, "euler", "normal", positive,
                                                              negative, latent)[0]["samples"]

    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       num_train_timesteps=1000, timestep_spacing="linspace",
                                       prediction_type="epsilon")
    pipeline = StableDiffusionPipeline(vae=tiny.vae, text_encoder=tiny.text_encoders["clip_l"],
                                       tokenizer=clip_tokenizer(), unet=tiny.unet, scheduler=scheduler,
                                       safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipeline.set_progress_bar_config(disable=True)
    noise = comfy.sample.prepare_noise(latent["samples"], SEED)
    # ComfyUI starts txt2img from noise * sqrt(1 + sigma_max^2); diffusers' Euler with "linspace" spacing from
    # noise * sigma_max. Pre-scale the noise so both start from the same latent.
    sigma_max = float(model.model.model_sampling.sigma_max)
    noise = noise * ((1 + sigma_max**2) ** 0.5 / sigma_max)
    with torch.inference_mode():
        reference = pipeline(prompt_embeds=positive[0][0], negative_prompt_embeds=negative[0][0], latents=noise,
                             num_inference_steps=STEPS, guidance_scale=CFG, height=64, width=64,
                             output_type="latent").images

    # diffusers returns model-space latents; Kiln's KSampler returns VAE-space ones (÷ 0.18215).
    difference = (kiln * 0.18215 - reference).abs().max().item()
    assert difference <= 1e-3, difference
