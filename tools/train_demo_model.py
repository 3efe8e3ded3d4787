"""Train Kiln's demo checkpoint `kiln-demo-shapes.safetensors` from scratch on the CPU, deterministically.

    OMP_NUM_THREADS=2 python tools/train_demo_model.py [--out models/checkpoints/kiln-demo-shapes.safetensors]

The model is Stable Diffusion 1.x at reduced size, so it loads through CheckpointLoaderSimple like any SD1 file:
- a VAE with SD's 8x downscale (four levels) and 4 latent channels, whose latents times SD1's fixed 0.18215 have
  unit standard deviation (a per-channel shift and scale is folded into quant_conv / post_quant_conv);
- a CLIP-L-layout text encoder with the real 49408-token vocabulary and 77 positions, read at its final layer
  norm as Kiln's SD1 CLIPTextEncode reads it, fed with Kiln's own tokenizer;
- a UNet with cross-attention, trained with the eps objective on SD1's noise schedule (scaled-linear betas
  0.00085..0.012 over 1000 steps), jointly with the text encoder; 10% of captions are dropped to the empty
  prompt so that classifier-free guidance against "" works.

Stages: (1) train the VAE on pictures drawn by `tools/shapes_dataset.py`; (2) encode a fixed set of training
pictures to 8x8 latents once; (3) train UNet + text encoder on those latents only; (4) write the single-file
checkpoint (fp16, original LDM key names, metadata) and score it through Kiln's own nodes.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import hashlib
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import comfy  # noqa: E402,F401,I001  first: makes an installed torchvision importable (comfy/torchvision_compat.py)
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import CLIPTextConfig, CLIPTextModel  # noqa: E402

from comfy import families  # noqa: E402
from comfy.families.base import DIFFUSION_MODEL_PREFIX as UNET_PREFIX  # noqa: E402
from comfy.families.base import VAE_PREFIX  # noqa: E402
from comfy.families.text_encoders import from_transformers as text_encoder_to_ldm  # noqa: E402
from comfy.families.unet import unet_diffusers_to_ldm  # noqa: E402
from comfy.families.vae import vae_diffusers_to_ldm  # noqa: E402
from comfy.sd1_clip import SD1Tokenizer  # noqa: E402
from tools import shapes_dataset  # noqa: E402

SD1_LATENT_SCALE = 0.18215
TEXT_PREFIX = families.get("SD15").text_encoder("clip_l").checkpoint_prefix
DEFAULT_OUT = ROOT / "models" / "checkpoints" / "kiln-demo-shapes.safetensors"

VAE_CONFIG = {
    "in_channels": 3,
    "out_channels": 3,
    "block_out_channels": (32, 32, 64, 64),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "latent_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 32,  # what Kiln (like ComfyUI) assumes for every SD VAE
    "sample_size": 64,
}
TEXT_HIDDEN = 64
TEXT_CONFIG = CLIPTextConfig(
    vocab_size=49408,
    max_position_embeddings=77,
    hidden_size=TEXT_HIDDEN,
    intermediate_size=4 * TEXT_HIDDEN,
    num_hidden_layers=3,
    num_attention_heads=1,  # Kiln derives heads as width // 64 from the weights
    projection_dim=TEXT_HIDDEN,
    hidden_act="quick_gelu",
    bos_token_id=49406,
    eos_token_id=49407,
    pad_token_id=49407,
)
UNET_CONFIG = {
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
    "layers_per_block": 1,
    "block_out_channels": (64, 128),
    "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    "cross_attention_dim": TEXT_HIDDEN,
    "attention_head_dim": 8,  # diffusers' name for SD1's 8 heads
    "norm_num_groups": 32,
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def to_model_range(pictures: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float [N, 3, H, W] in -1..1 (what Kiln's VAE encoder sees)."""
    return torch.from_numpy(pictures).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def cosine_lr(step: int, steps: int, peak: float, warmup: int) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


# --- stage 1: the VAE -----------------------------------------------------------------------------------


def train_vae(steps: int, batch_size: int, seed: int) -> AutoencoderKL:
    """An AutoencoderKL trained on fresh pictures each step (L1 + MSE reconstruction, small KL)."""
    torch.manual_seed(seed)
    vae = AutoencoderKL(**VAE_CONFIG)
    with torch.no_grad():
        # Start with a nearly deterministic posterior (std ~0.05): the decoder learns from clean latents at once.
        vae.quant_conv.bias[VAE_CONFIG["latent_channels"]:] = -6.0
    optimizer = torch.optim.AdamW(vae.parameters(), lr=1e-3, weight_decay=0.0)
    generator = torch.Generator().manual_seed(seed)
    started = time.time()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, steps, 2e-3, 100)
        indices = range(step * batch_size, (step + 1) * batch_size)
        pictures, _ = shapes_dataset.batch(indices, seed + 101)
        images = to_model_range(pictures)
        posterior = vae.encode(images).latent_dist
        latents = posterior.mean + posterior.std * torch.randn(posterior.mean.shape, generator=generator)
        decoded = vae.decode(latents).sample
        # Shapes cover a small part of the picture; weigh their pixels 5x so their colour is learnt early.
        backgrounds = torch.tensor([shapes_dataset.COLOURS[shapes_dataset.scene(i, seed + 101).background]
                                    for i in indices], dtype=torch.float32)[:, :, None, None] / 127.5 - 1.0
        weight = 1.0 + 4.0 * ((images - backgrounds).abs().amax(dim=1, keepdim=True) > 0.05).float()
        error = decoded - images
        reconstruction = (weight * (error.abs() + error ** 2)).mean() / weight.mean()
        kl = posterior.kl().mean() / images[0].numel()
        loss = reconstruction + 1e-4 * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        if step % 100 == 0 or step == steps - 1:
            log(f"vae step {step}/{steps} reconstruction {reconstruction.item():.4f} kl {kl.item():.3f} "
                f"({time.time() - started:.0f}s)")
    return vae.eval()


@torch.no_grad()
def normalise_latents(vae: AutoencoderKL, pictures: np.ndarray) -> None:
    """Fold a per-channel shift and scale into quant_conv / post_quant_conv so that latent means of `pictures`
    have mean 0 and std 1/0.18215 (SD1's convention) while decoding is unchanged (an exact reparametrisation)."""
    means = torch.cat([vae.encode(to_model_range(pictures[i:i + 64])).latent_dist.mean
                       for i in range(0, len(pictures), 64)])
    channel_mean = means.mean(dim=(0, 2, 3))
    channel_std = means.std(dim=(0, 2, 3))
    gain = 1.0 / (channel_std * SD1_LATENT_SCALE)
    channels = VAE_CONFIG["latent_channels"]
    quant, post = vae.quant_conv, vae.post_quant_conv
    # New mean: gain * (old - channel_mean); logvar shifts by 2 log gain so the posterior std scales alike.
    quant.weight[:channels] *= gain[:, None, None, None]
    quant.bias[:channels] = gain * (quant.bias[:channels] - channel_mean)
    quant.bias[channels:] += 2 * torch.log(gain)
    # post_quant_conv sees new = gain * (old - mean): old = new / gain + mean.
    post.bias += (post.weight[:, :, 0, 0] * channel_mean[None, :]).sum(1)
    post.weight /= gain[None, :, None, None]
    log(f"latent channels: mean {channel_mean.tolist()} std {channel_std.tolist()} -> folded gain {gain.tolist()}")


@torch.no_grad()
def encode_training_set(vae: AutoencoderKL, count: int, seed: int) -> torch.Tensor:
    """Model-space latents (VAE mean x 0.18215) [count, 4, 8, 8] of pictures 0..count-1 of the training seed."""
    latents = []
    for start in range(0, count, 128):
        pictures, _ = shapes_dataset.batch(range(start, min(count, start + 128)), seed)
        latents.append(vae.encode(to_model_range(pictures)).latent_dist.mean * SD1_LATENT_SCALE)
    return torch.cat(latents)


# --- stage 3: UNet and text encoder on latents ----------------------------------------------------------


def token_ids(tokenizer: SD1Tokenizer, text: str) -> list[int]:
    """The 77 token ids Kiln's CLIPTextEncode feeds the SD1 text encoder for `text` (one chunk)."""
    chunks = tokenizer.tokenize_with_weights(text)["l"]
    if len(chunks) != 1:
        raise ValueError(f"Caption {text!r} does not fit one 77-token chunk.")
    return [int(token) for token, _weight in chunks[0]]


def caption_tokens(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids [count, forms, 77] of every caption form of pictures 0..count-1, and those of ""."""
    tokenizer = SD1Tokenizer()
    cache: dict[str, list[int]] = {}
    rows = []
    for index in range(count):
        scene = shapes_dataset.scene(index, seed)
        forms = []
        for form in range(shapes_dataset.CAPTION_FORMS):
            text = shapes_dataset.caption(scene, form)
            if text not in cache:
                cache[text] = token_ids(tokenizer, text)
            forms.append(cache[text])
        rows.append(forms)
    return torch.tensor(rows, dtype=torch.long), torch.tensor(token_ids(tokenizer, ""), dtype=torch.long)


def sd1_alphas_cumprod() -> torch.Tensor:
    """SD1's training schedule: betas linear in sqrt space from 0.00085 to 0.012 over 1000 steps."""
    betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0).float()


def train_diffusion(latents: torch.Tensor, tokens: torch.Tensor, empty: torch.Tensor, steps: int, batch_size: int,
                    seed: int, drop_rate: float = 0.1, snapshot: Callable[[int, UNet2DConditionModel, CLIPTextModel], None]
                    | None = None, snapshot_every: int = 0, init: tuple[UNet2DConditionModel, CLIPTextModel] | None
                    = None, peak_lr: float = 1e-3, warmup: int = 200
                    ) -> tuple[UNet2DConditionModel, CLIPTextModel, float]:
    """UNet + text encoder trained jointly on eps prediction (from `init` if given, else from a seeded random
    start); returns their EMA copies and the mean loss of the last 500 steps. `snapshot(step, ema_unet, ema_text)`
    is called every `snapshot_every` steps if given."""
    torch.manual_seed(seed)
    unet, text_encoder = init if init is not None else (UNet2DConditionModel(**UNET_CONFIG), CLIPTextModel(TEXT_CONFIG))
    parameters = list(unet.parameters()) + list(text_encoder.parameters())
    optimizer = torch.optim.AdamW(parameters, lr=1e-3, weight_decay=0.01)
    ema_unet, ema_text = copy.deepcopy(unet).eval(), copy.deepcopy(text_encoder).eval()
    ema_parameters = list(ema_unet.parameters()) + list(ema_text.parameters())
    for parameter in ema_parameters:
        parameter.requires_grad_(False)
    alphas_cumprod = sd1_alphas_cumprod()
    generator = torch.Generator().manual_seed(seed)
    count, forms = tokens.shape[:2]
    order = torch.randperm(count, generator=generator)
    position = 0
    running = []
    started = time.time()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = cosine_lr(step, steps, peak_lr, warmup)
        if position + batch_size > count:
            order, position = torch.randperm(count, generator=generator), 0
        indices = order[position:position + batch_size]
        position += batch_size
        ids = tokens[indices, torch.randint(forms, (batch_size,), generator=generator)]
        dropped = torch.rand(batch_size, generator=generator) < drop_rate
        ids[dropped] = empty
        clean = latents[indices]
        noise = torch.randn(clean.shape, generator=generator)
        timesteps = torch.randint(1000, (batch_size,), generator=generator)
        signal = alphas_cumprod[timesteps].sqrt()[:, None, None, None]
        noisy = signal * clean + (1 - signal ** 2).sqrt() * noise
        context = text_encoder(input_ids=ids).last_hidden_state
        predicted = unet(noisy, timesteps, encoder_hidden_states=context).sample
        loss = F.mse_loss(predicted, noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_lerp_(ema_parameters, [p.detach() for p in parameters], 1 - decay)
        running.append(loss.item())
        if step % 200 == 0 or step == steps - 1:
            log(f"unet step {step}/{steps} loss {np.mean(running[-200:]):.4f} ({time.time() - started:.0f}s)")
        if snapshot is not None and snapshot_every and (step + 1) % snapshot_every == 0 and step + 1 < steps:
            snapshot(step + 1, ema_unet, ema_text)
    return ema_unet, ema_text, float(np.mean(running[-500:]))


def load_demo_checkpoint(path: Path) -> tuple[UNet2DConditionModel, CLIPTextModel, AutoencoderKL]:
    """The UNet, text encoder and VAE of a demo checkpoint written by this script, read through Kiln's own loader
    and copied into fresh float32 modules of this script's configurations."""
    import comfy.sd

    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(str(path))
    unet = UNet2DConditionModel(**UNET_CONFIG)
    unet.load_state_dict({k: v.float() for k, v in model.model.diffusion_model.state_dict().items()})
    text_encoder = CLIPTextModel(TEXT_CONFIG)
    loaded = {k.removeprefix("text_model."): v for k, v in clip.cond_stage_model.clip_l.transformer.state_dict().items()}
    text_encoder.load_state_dict({k: loaded[k.removeprefix("text_model.")].float() for k in text_encoder.state_dict()})
    autoencoder = AutoencoderKL(**VAE_CONFIG)
    autoencoder.load_state_dict({k: v.float() for k, v in vae.first_stage_model.state_dict().items()})
    return unet, text_encoder, autoencoder.eval()


def earlier_stages(path: Path) -> str:
    """How the checkpoint at `path` was made, from its metadata: its own earlier stages, then its command."""
    with safe_open(str(path), "pt") as handle:
        info = handle.metadata() or {}
    made = f"{info.get('kiln.training_command', 'unknown command')} ({info.get('kiln.unet_stage', 'from scratch')})"
    before = info.get("kiln.earlier_stages", "none")
    return made if before == "none" else f"{before}; then {made}"


# --- stage 4: the checkpoint ----------------------------------------------------------------------------


def checkpoint_state_dict(unet: UNet2DConditionModel, vae: AutoencoderKL, text_encoder: CLIPTextModel
                          ) -> dict[str, torch.Tensor]:
    """The three models under SD1's single-file prefixes and LDM names, float16."""
    state = {UNET_PREFIX + k: v for k, v in unet_diffusers_to_ldm(unet.state_dict(), dict(unet.config)).items()}
    state.update({VAE_PREFIX + k: v for k, v in vae_diffusers_to_ldm(vae.state_dict()).items()})
    state.update({TEXT_PREFIX + k: v for k, v in text_encoder_to_ldm("hf_clip", text_encoder.state_dict()).items()})
    return {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}


def metadata(args: argparse.Namespace, seconds: float, losses: dict[str, float]) -> dict[str, str]:
    return {
        "modelspec.title": "Kiln demo shapes (tiny SD1.x)",
        "modelspec.architecture": "stable-diffusion-v1",
        "modelspec.description": (
            "A tiny Stable Diffusion 1.x-architecture model trained by Kiln on 64x64 synthetic pictures of one "
            "shape (circle, square, triangle, star) in a named colour on a plain background of another colour, "
            "captioned in 12 phrasings. Prompts like 'a red circle on a blue background', 'red circle, blue "
            "background', 'a blue background with a red circle', 'circle, red, on blue' or 'a small yellow star at "
            "the top left on a black background'. 64x64 output, eps prediction, SD1 noise schedule, latent scale "
            "0.18215."),
        "modelspec.license": "MIT (same as Kiln); trained only on procedurally drawn data",
        "modelspec.date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "kiln.training_script": "tools/train_demo_model.py",
        "kiln.training_command": " ".join(["python", "tools/train_demo_model.py", *sys.argv[1:]]),
        "kiln.seed": str(args.seed),
        "kiln.vae_steps": str(args.vae_steps),
        "kiln.vae_stage": (f"from {args.init_from.name}" if args.init_from is not None else
                           f"reused from {args.vae_cache.name}, written by this script with the same seed and steps"
                           if args.vae_reused else "trained in this run"),
        "kiln.unet_stage": (f"fine-tuned from {args.init_from.name} (sha256 {args.init_sha256}) at peak learning rate "
                            f"{args.peak_lr}" if args.init_from is not None else "trained from scratch in this run"),
        "kiln.earlier_stages": args.earlier_stages,
        "kiln.unet_steps": str(args.unet_steps),
        "kiln.train_images": str(args.train_images),
        "kiln.training_seconds": f"{seconds:.0f}",
        "kiln.final_losses": ", ".join(f"{k} {v:.4f}" for k, v in losses.items()),
        "kiln.torch": torch.__version__,
    }


def check_text_encoder_matches_kiln(path: Path, text_encoder: CLIPTextModel) -> float:
    """Largest difference between what training conditioned on and what Kiln's CLIPTextEncode gives (fp16)."""
    import comfy.sd
    import nodes

    _, clip, _, _ = comfy.sd.load_checkpoint_guess_config(str(path))
    text = "a red circle on a blue background"
    kiln = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]().encode(clip, text)[0][0][0]
    rounded = copy.deepcopy(text_encoder).half().float()
    with torch.no_grad():
        ids = torch.tensor([token_ids(SD1Tokenizer(), text)])
        ours = rounded(input_ids=ids).last_hidden_state
    return float((kiln - ours).abs().max())


def score_through_kiln(path: Path, cfg: float, empty_prompt: bool) -> float:
    """Share of `shapes_dataset.semantic_prompts()` whose generated shape and background colours match, made as
    tests/unit/test_demo_model.py makes them (Kiln's nodes, 20 euler steps, seed 1234 + prompt index)."""
    import comfy.sd
    import nodes

    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(str(path))
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    sampler = nodes.NODE_CLASS_MAPPINGS["KSampler"]()
    decoder = nodes.NODE_CLASS_MAPPINGS["VAEDecode"]()
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(64, 64, 1)[0]
    negative = encode.encode(clip, "")[0]
    prompts = shapes_dataset.semantic_prompts()[:32] if empty_prompt else shapes_dataset.semantic_prompts()
    hits = 0
    for index, (colour, _shape, background, text) in enumerate(prompts):
        positive = encode.encode(clip, "" if empty_prompt else text)[0]
        with torch.inference_mode():
            samples = sampler.sample(model, 1234 + index, 20, cfg, "euler", "normal", positive, negative, latent)[0]
            image = decoder.decode(vae, samples)[0][0].numpy()
        hits += shapes_dataset.dominant_colours(image) == (colour, background)
    return hits / len(prompts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vae-steps", type=int, default=1200)
    parser.add_argument("--vae-batch", type=int, default=16)
    parser.add_argument("--train-images", type=int, default=10000)
    parser.add_argument("--unet-steps", type=int, default=6000)
    parser.add_argument("--unet-batch", type=int, default=48)
    parser.add_argument("--vae-cache", type=Path, default=None,
                        help="development aid: reuse (or write) the stage-1 VAE state at this path")
    parser.add_argument("--snapshot", type=Path, default=None,
                        help="development aid: write the EMA model here every --snapshot-every UNet steps")
    parser.add_argument("--snapshot-every", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--init-from", type=Path, default=None,
                        help="start from this earlier demo checkpoint (its VAE, UNet and text encoder) instead of from "
                             "scratch: the VAE stage is skipped and the UNet stage fine-tunes")
    parser.add_argument("--peak-lr", type=float, default=1e-3)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.time()

    args.vae_reused = args.vae_cache is not None and args.vae_cache.exists()
    args.earlier_stages = "none"
    init = None
    if args.init_from is not None:
        args.init_sha256 = hashlib.sha256(args.init_from.read_bytes()).hexdigest()
        args.earlier_stages = earlier_stages(args.init_from)
        *init, vae = load_demo_checkpoint(args.init_from)
        log(f"UNet, text encoder and VAE from {args.init_from} (sha256 {args.init_sha256})")
    elif args.vae_reused:
        vae = AutoencoderKL(**VAE_CONFIG)
        vae.load_state_dict(torch.load(args.vae_cache))
        vae.eval()
        log(f"VAE loaded from {args.vae_cache}")
    else:
        vae = train_vae(args.vae_steps, args.vae_batch, args.seed)
        normalise_latents(vae, shapes_dataset.batch(range(1024), args.seed + 202)[0])
        if args.vae_cache is not None:
            torch.save(vae.state_dict(), args.vae_cache)
    vae_losses = _vae_eval(vae, args.seed)
    log(f"VAE held-out L1 {vae_losses['vae_l1']:.4f}, colour agreement {vae_losses['vae_colours']:.3f} "
        f"({time.time() - started:.0f}s)")

    latents = encode_training_set(vae, args.train_images, args.seed + 303)
    tokens, empty = caption_tokens(args.train_images, args.seed + 303)
    log(f"encoded {len(latents)} training latents: mean {latents.mean():.3f} std {latents.std():.3f} "
        f"({time.time() - started:.0f}s)")

    def snapshot(step: int, unet: UNet2DConditionModel, text_encoder: CLIPTextModel) -> None:
        save_file(checkpoint_state_dict(unet, vae, text_encoder), str(args.snapshot),
                  metadata={"kiln.training_script": "tools/train_demo_model.py", "kiln.unet_steps_done": str(step)})
        log(f"snapshot after {step} UNet steps -> {args.snapshot}")

    unet, text_encoder, diffusion_loss = train_diffusion(
        latents, tokens, empty, args.unet_steps, args.unet_batch, args.seed,
        snapshot=snapshot if args.snapshot is not None else None, snapshot_every=args.snapshot_every,
        init=tuple(init) if init is not None else None, peak_lr=args.peak_lr, warmup=args.warmup)
    seconds = time.time() - started
    losses = {"vae_l1": vae_losses["vae_l1"], "diffusion_mse": diffusion_loss}
    state = checkpoint_state_dict(unet, vae, text_encoder)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(args.out), metadata=metadata(args, seconds, losses))
    log(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, {len(state)} tensors) after {seconds:.0f}s; "
        f"final losses {losses}")

    log(f"text encoder vs Kiln CLIPTextEncode: max difference {check_text_encoder_matches_kiln(args.out, text_encoder):.2e}")
    log(f"colour agreement through Kiln: cfg 5 {score_through_kiln(args.out, 5.0, False):.3f}, "
        f"cfg 1 empty prompt {score_through_kiln(args.out, 1.0, True):.3f} ({time.time() - started:.0f}s total)")


@torch.no_grad()
def _vae_eval(vae: AutoencoderKL, seed: int) -> dict[str, float]:
    """Held-out reconstruction L1 (-1..1 range) and how often the decoded colours classify as drawn."""
    pictures, _ = shapes_dataset.batch(range(256), seed + 404)
    images = to_model_range(pictures)
    decoded = vae.decode(vae.encode(images).latent_dist.mean).sample
    as_pictures = ((decoded.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    agree = np.mean([shapes_dataset.dominant_colours(a) == shapes_dataset.dominant_colours(b)
                     for a, b in zip(as_pictures, pictures, strict=True)])
    return {"vae_l1": float(F.l1_loss(decoded, images)), "vae_colours": float(agree)}


if __name__ == "__main__":
    main()
