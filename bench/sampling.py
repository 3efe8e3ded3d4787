"""Text-to-image on a full-size SD1.5 checkpoint: Kiln's nodes against diffusers' StableDiffusionPipeline.

    OMP_NUM_THREADS=1 python bench/sampling.py [--checkpoint PATH] [--size 64] [--steps 10] [--threads 1]
                                              [--repeats 3] [--decode-repeats 1] [--no-cold] [--onednn off]
                                              [--controlnet PATH]

The workflow is the standard one (CheckpointLoaderSimple → CLIPTextEncode ×2 → EmptyLatentImage → KSampler
euler/normal, cfg 7 → VAEDecode) on ComfyUI's reference checkpoint: random weights in the SD1.5 layout, built by
`/work/shared/reference/fixtures/make_reference_checkpoint.py` (2.1 GB; reused from `--checkpoint` or
/tmp/kiln_refckpt/ref-sd15.safetensors, built there when missing, never inside the repository).

It prints, as plain lines:
- cold start: a fresh subprocess imports Kiln and runs the whole prompt through `PromptExecutor` (first
  CheckpointLoaderSimple of the process, then the image), with its peak RSS. The checkpoint file itself stays
  in the OS page cache (dropping that needs root and would disturb other work on the machine);
- in this process, per-node times of the first executor run, of a re-run with a new seed (loader and text
  encodes cached, as when a user re-queues) and of a re-run after `PromptExecutor.reset()` (every node runs
  again, the checkpoint re-read from the page cache; with the RSS before and after and how many models
  `comfy.model_management` still holds);
- side by side, as the baseline: seconds per sampling step (one step = 2 UNet passes, CFG batched) of Kiln's
  KSampler node and of diffusers' pipeline built on the SAME UNet and VAE weights Kiln loaded, with the same
  prompt embeddings, the same initial noise and Euler on a "linspace" schedule; their ratio; the VAE decode
  of both; and the largest difference of the final latents (a sanity check, not a test). While diffusers
  runs, the UNet's modules are switched back to torch's plain classes (`comfy.cpu_speedups.plain_modules`),
  so the baseline is stock diffusers code on the same weights.
- with `--controlnet PATH` (an SD1.5 ControlNet, e.g. the full-size random one
  `tests/fixtures/comfyui_guidance/make_guidance_models.py cn-sd15 DIR` writes to DIR/controlnet/), the per-step
  cost of Kiln's KSampler with that ControlNet applied to both prompts (ControlNetApplyAdvanced, strength 1, all
  steps) next to plain sampling, interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

DEFAULT_CHECKPOINT = "/tmp/kiln_refckpt/ref-sd15.safetensors"
BUILDER = "/work/shared/reference/fixtures/make_reference_checkpoint.py"
POSITIVE, NEGATIVE, SEED, CFG = "a photo of a cat", "blurry", 42, 7.0
COMFYUI_FIGURES = ("ComfyUI on this machine (for scale): ~0.86 s per step at 64x64 with CFG, 6.4 s from a cold "
                   "start to the first image, 6.6 GiB peak RSS; streaming 3.3 GB of fp32 UNet weights per pass puts "
                   "the floor near 0.4 s per step")
GIB = 1024**3


# -- process measurements ---------------------------------------------------------------------------------------

def peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class TimingSink:
    """An event sink that keeps the time of every "executing" and "progress" message and drops the rest."""

    def __init__(self) -> None:
        self.client_id = None
        self.last_node_id = None
        self.last_prompt_id = None
        self.events: list[tuple[float, str, object]] = []

    def send_sync(self, event, data, sid=None) -> None:
        if event == "executing":
            self.events.append((time.perf_counter(), event, data.get("node")))
        elif event in ("progress", "execution_success", "execution_error"):
            self.events.append((time.perf_counter(), event, data))
            if event == "execution_error":
                print(f"execution_error in node {data.get('node_id')}: {data.get('exception_message')}")

    def client_supports(self, sid, feature) -> bool:
        return False

    def node_seconds(self) -> dict[str, float]:
        """Seconds from each node's "executing" message to the next node's (or the end of the prompt)."""
        marks = [(when, node) for when, event, node in self.events
                 if (event == "executing" and node is not None) or event == "execution_success"]
        return {node: later - when for (when, node), (later, _) in itertools.pairwise(marks) if isinstance(node, str)}

    def step_seconds(self) -> list[float]:
        """Seconds between consecutive KSampler progress messages (the first step is left out: no start mark)."""
        times = [when for when, event, _ in self.events if event == "progress"]
        return [later - when for when, later in itertools.pairwise(times)]


# -- the workflow -------------------------------------------------------------------------------------------------

class BenchImageSink:
    """An output node that keeps the image's shape and writes nothing (SaveImage's disk and PNG costs are not
    what this benchmark measures)."""

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"images": ("IMAGE",)}}

    RETURN_TYPES = ()
    FUNCTION = "keep"
    OUTPUT_NODE = True

    def keep(self, images):
        return {"ui": {"shape": [list(images.shape)]}}


NODE_NAMES = {"4": "CheckpointLoaderSimple", "6": "CLIPTextEncode +", "7": "CLIPTextEncode -",
              "5": "EmptyLatentImage", "3": "KSampler", "8": "VAEDecode", "9": "output"}


def workflow(checkpoint_name: str, size: int, steps: int, seed: int) -> dict:
    """ComfyUI's default text-to-image graph in API format, with ComfyUI's node ids."""
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint_name}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": POSITIVE, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": NEGATIVE, "clip": ["4", 1]}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": size, "height": size, "batch_size": 1}},
        "3": {"class_type": "KSampler", "inputs": {
            "model": ["4", 0], "seed": seed, "steps": steps, "cfg": CFG, "sampler_name": "euler",
            "scheduler": "normal", "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0],
            "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "BenchImageSink", "inputs": {"images": ["8", 0]}},
    }


def setup_torch(options: argparse.Namespace) -> None:
    """Threads and the oneDNN switch, the same in the cold-start child and in this process."""
    import torch

    torch.set_num_threads(options.threads)
    torch.backends.mkldnn.enabled = options.onednn == "on"
    warnings.filterwarnings("ignore", category=FutureWarning)  # diffusers' steps_offset note (unused by linspace)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no torchvision notes from diffusers' imports


def setup_kiln(checkpoint: str):
    """Import Kiln, register the bench output node and make the checkpoint's folder a checkpoints folder.
    The console progress bar is turned off so that the output stays plain lines."""
    import comfy.utils
    import folder_paths
    import nodes

    comfy.utils.PROGRESS_BAR_ENABLED = False
    nodes.NODE_CLASS_MAPPINGS["BenchImageSink"] = BenchImageSink
    folder_paths.add_model_folder_path("checkpoints", os.path.dirname(os.path.abspath(checkpoint)))
    return nodes


def run_prompt(executor, prompt: dict, prompt_id: str) -> TimingSink:
    """Validate and execute `prompt`; the returned sink holds its timings."""
    from execution import validate_prompt

    valid, error, outputs, node_errors = asyncio.run(validate_prompt(prompt_id, prompt, None))
    if not valid:
        raise SystemExit(f"the bench prompt does not validate: {error} {node_errors}")
    from comfy_execution.progress import install_progress_hook

    sink = TimingSink()
    executor.server = sink
    install_progress_hook(sink)  # as main.py does, so KSampler's steps reach the sink as "progress" messages
    started = time.perf_counter()
    executor.execute(prompt, prompt_id, {"client_id": "bench"}, outputs)
    sink.total = time.perf_counter() - started
    if not executor.success:
        raise SystemExit(f"the bench prompt failed (prompt {prompt_id})")
    return sink


def describe_run(label: str, sink: TimingSink, steps: int) -> str:
    per_node = sink.node_seconds()
    parts = " ".join(f"{NODE_NAMES.get(node, node)} {seconds:.2f}" for node, seconds in per_node.items()
                     if seconds >= 0.005)
    sampler, progress = per_node.get("3"), sink.step_seconds()
    per_step = f" | KSampler {sampler / steps:.3f} s/step" if sampler else ""
    if progress:
        per_step += f" (between progress messages: median {statistics.median(progress):.3f})"
    return f"{label:<44} {sink.total:7.2f} s{per_step} | nodes (s): {parts}"


# -- cold start (subprocess) -------------------------------------------------------------------------------------

def cold_start_child(options: argparse.Namespace) -> None:
    """In a fresh process: import Kiln and run the whole prompt once; print one JSON line of timings."""
    started = time.perf_counter()
    setup_torch(options)
    nodes = setup_kiln(options.checkpoint)
    from execution import PromptExecutor

    imported = time.perf_counter() - started
    sink = run_prompt(PromptExecutor(TimingSink()), workflow(os.path.basename(options.checkpoint), options.size,
                                                              options.steps, SEED), "cold")
    del nodes
    print("COLD " + json.dumps({"import_s": imported, "prompt_s": sink.total, "nodes": sink.node_seconds(),
                                "peak_rss": peak_rss_bytes()}))


def cold_start(options: argparse.Namespace) -> None:
    command = [sys.executable, os.path.abspath(__file__), "--cold-start-child", "--checkpoint", options.checkpoint,
               "--size", str(options.size), "--steps", str(options.steps), "--threads", str(options.threads), "--onednn", options.onednn]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    line = next((line for line in completed.stdout.splitlines() if line.startswith("COLD ")), None)
    if completed.returncode != 0 or line is None:
        print(f"cold start failed (exit {completed.returncode}):\n{completed.stderr[-3000:]}")
        return
    result = json.loads(line[5:])
    nodes_part = " ".join(f"{NODE_NAMES.get(node, node)} {seconds:.2f}" for node, seconds in result["nodes"].items()
                          if seconds >= 0.005)
    print(f"cold start, fresh process: {wall:.2f} s from exec to exit | imports {result['import_s']:.2f} s | "
          f"first prompt {result['prompt_s']:.2f} s | first image {result['import_s'] + result['prompt_s']:.2f} s "
          f"after interpreter start | peak RSS {result['peak_rss'] / GIB:.2f} GiB")
    print(f"cold start, per node (s): {nodes_part} | CheckpointLoaderSimple cold: {result['nodes'].get('4', 0):.2f} s")


# -- side by side with diffusers ---------------------------------------------------------------------------------

def diffusers_pipeline(model, vae):
    """diffusers' StableDiffusionPipeline on the UNet and VAE modules Kiln loaded (no text encoder: the prompt
    embeddings come from Kiln's CLIPTextEncode, so the pipeline keeps them in the UNet's dtype)."""
    from diffusers import EulerDiscreteScheduler, StableDiffusionPipeline

    from comfy.text_encoders.clip_tokenizer import clip_tokenizer

    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       num_train_timesteps=1000, timestep_spacing="linspace",
                                       prediction_type="epsilon")
    pipeline = StableDiffusionPipeline(vae=vae.first_stage_model, text_encoder=None, tokenizer=clip_tokenizer(),
                                       unet=model.model.diffusion_model, scheduler=scheduler, safety_checker=None,
                                       feature_extractor=None, requires_safety_checker=False)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline


def side_by_side(nodes, model, vae, positive, negative, options: argparse.Namespace) -> None:
    import torch

    import comfy.cpu_speedups
    import comfy.sample

    size, steps = options.size, options.steps
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(size, size, 1)[0]
    ksampler = nodes.NODE_CLASS_MAPPINGS["KSampler"]()
    decoder = nodes.NODE_CLASS_MAPPINGS["VAEDecode"]()
    pipeline = diffusers_pipeline(model, vae)
    noise = comfy.sample.prepare_noise(latent["samples"], SEED)
    # ComfyUI starts txt2img from noise * sqrt(1 + sigma_max^2); diffusers' Euler with "linspace" spacing from
    # noise * sigma_max. Pre-scale the noise so both start from the same latent.
    sigma_max = float(model.model.model_sampling.sigma_max)
    noise = noise * ((1 + sigma_max**2) ** 0.5 / sigma_max)
    scale = model.model.latent_format.scale_factor

    kiln_times, diffusers_times, kiln_decode, diffusers_decode = [], [], [], []
    kiln_latent = reference = None
    with torch.inference_mode():
        for _ in range(options.repeats):  # interleaved, so drift in the machine's speed hits both alike
            started = time.perf_counter()
            kiln_latent = ksampler.sample(model, SEED, steps, CFG, "euler", "normal", positive, negative,
                                          latent)[0]["samples"]
            kiln_times.append((time.perf_counter() - started) / steps)
            with comfy.cpu_speedups.plain_modules(pipeline.unet):
                started = time.perf_counter()
                reference = pipeline(prompt_embeds=positive[0][0], negative_prompt_embeds=negative[0][0],
                                     latents=noise.clone(), num_inference_steps=steps, guidance_scale=CFG,
                                     height=size, width=size, output_type="latent").images
                diffusers_times.append((time.perf_counter() - started) / steps)
        for _ in range(options.decode_repeats):
            started = time.perf_counter()
            kiln_image = decoder.decode(vae, {"samples": kiln_latent})[0]
            kiln_decode.append(time.perf_counter() - started)
            started = time.perf_counter()
            decoded = pipeline.vae.decode(reference / pipeline.vae.config.scaling_factor, return_dict=False)[0]
            diffusers_image = ((decoded + 1) / 2).clamp(0, 1).movedim(1, -1)
            diffusers_decode.append(time.perf_counter() - started)

    kiln_step, diffusers_step = statistics.median(kiln_times), statistics.median(diffusers_times)
    print(f"sampling {size}x{size}, {steps} euler steps, cfg {CFG:g}, median of {options.repeats}: "
          f"Kiln KSampler {kiln_step:.3f} s/step | diffusers pipeline {diffusers_step:.3f} s/step | "
          f"Kiln/diffusers {kiln_step / diffusers_step:.2f}x | runs (s/step) Kiln "
          f"{' '.join(f'{t:.3f}' for t in kiln_times)}, diffusers {' '.join(f'{t:.3f}' for t in diffusers_times)}")
    if kiln_decode:
        kiln_ms, diffusers_ms = statistics.median(kiln_decode), statistics.median(diffusers_decode)
        print(f"VAE decode {size}x{size}: Kiln VAEDecode {kiln_ms:.3f} s | diffusers vae.decode {diffusers_ms:.3f} s | "
              f"Kiln/diffusers {kiln_ms / diffusers_ms:.2f}x | image max |diff| "
              f"{(kiln_image - diffusers_image).abs().max().item():.2e}")
    # diffusers returns model-space latents; Kiln's KSampler returns VAE-space ones (÷ scale factor).
    difference = (kiln_latent * scale - reference).abs()
    whole = all((999 * index) % (steps - 1) == 0 for index in range(steps)) if steps > 1 else True
    print(f"sanity: final latent max |Kiln*{scale:g} - diffusers| = {difference.max().item():.2e} "
          f"(mean {difference.mean().item():.2e}, latent std {reference.std().item():.3f}); linspace timesteps "
          f"{'are whole numbers, so both schedules agree exactly' if whole else 'are fractional: ComfyUI interpolates log-sigma, diffusers sigma, so a small difference is expected'}")


def controlnet_cost(nodes, model, positive, negative, options: argparse.Namespace) -> None:
    """Seconds per step of KSampler with one ControlNet on both prompts, next to plain sampling."""
    import torch

    import comfy.controlnet
    from core_nodes.controlnet import apply_control

    size, steps = options.size, options.steps
    control_net = comfy.controlnet.load_controlnet(options.controlnet)
    ramp = torch.linspace(0, 1, size)
    hint = torch.stack([ramp[None, :].expand(size, size), ramp[:, None].expand(size, size),
                        (ramp[None, :] * ramp[:, None])], -1)[None]
    guided = apply_control(positive, negative, control_net, hint, 1.0, 0.0, 1.0)
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(size, size, 1)[0]
    ksampler = nodes.NODE_CLASS_MAPPINGS["KSampler"]()
    plain_times, guided_times = [], []
    with torch.inference_mode():
        for _ in range(options.repeats):
            for conds, times in (((positive, negative), plain_times), (guided, guided_times)):
                started = time.perf_counter()
                ksampler.sample(model, SEED, steps, CFG, "euler", "normal", *conds, latent)
                times.append((time.perf_counter() - started) / steps)
    plain, with_control = statistics.median(plain_times), statistics.median(guided_times)
    print(f"ControlNet {os.path.basename(options.controlnet)}, {size}x{size}, {steps} euler steps, cfg {CFG:g}, "
          f"median of {options.repeats}: plain {plain:.3f} s/step | with one ControlNet {with_control:.3f} s/step | "
          f"ControlNet adds {with_control - plain:.3f} s/step ({with_control / plain:.2f}x)")


# -- main ----------------------------------------------------------------------------------------------------------

def ensure_checkpoint(path: str | None) -> str:
    if path:
        if not os.path.exists(path):
            raise SystemExit(f"--checkpoint {path} does not exist")
        return os.path.abspath(path)
    if os.path.exists(DEFAULT_CHECKPOINT):
        return DEFAULT_CHECKPOINT
    os.makedirs(os.path.dirname(DEFAULT_CHECKPOINT), exist_ok=True)
    print(f"building the reference checkpoint at {DEFAULT_CHECKPOINT} (about 30 s, 2.1 GB)...", flush=True)
    subprocess.run([sys.executable, BUILDER, DEFAULT_CHECKPOINT], check=True)
    return DEFAULT_CHECKPOINT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help=f"a built reference checkpoint (default {DEFAULT_CHECKPOINT})")
    parser.add_argument("--size", type=int, default=64, help="image width and height in pixels (default 64)")
    parser.add_argument("--steps", type=int, default=10, help="sampling steps (default 10: whole linspace "
                        "timesteps, so Kiln and diffusers agree to rounding)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=3, help="side-by-side sampling runs (default 3)")
    parser.add_argument("--decode-repeats", type=int, default=1, help="side-by-side VAE decodes (default 1)")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start subprocess")
    parser.add_argument("--onednn", choices=("on", "off"), default="on", help="diagnostic: 'off' runs both "
                        "stacks with torch.backends.mkldnn disabled (default on, as the server runs)")
    parser.add_argument("--controlnet", help="an SD1.5 ControlNet file: also report KSampler's per-step cost with "
                        "it next to plain sampling")
    parser.add_argument("--cold-start-child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    options.checkpoint = ensure_checkpoint(options.checkpoint)
    if options.cold_start_child:
        cold_start_child(options)
        return

    print(f"Kiln sampling benchmark: {os.path.basename(options.checkpoint)}, {options.size}x{options.size}, "
          f"{options.steps} steps, {options.threads} thread(s), OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"oneDNN {options.onednn}")
    print(COMFYUI_FIGURES)
    if not options.no_cold:  # first, so the two processes never hold models at the same time
        cold_start(options)

    setup_torch(options)
    nodes = setup_kiln(options.checkpoint)
    from execution import PromptExecutor

    name = os.path.basename(options.checkpoint)
    executor = PromptExecutor(TimingSink())
    first = run_prompt(executor, workflow(name, options.size, options.steps, SEED), "first")
    print(describe_run("executor, first run in this process", first, options.steps))
    reseeded = run_prompt(executor, workflow(name, options.size, options.steps, SEED + 1), "new-seed")
    print(describe_run("executor, re-run with a new seed", reseeded, options.steps))

    (model,), (clip,), (vae,) = executor.caches.outputs.get("4")  # ComfyUI's layout: per slot, a list over calls
    del clip
    positive, negative = executor.caches.outputs.get("6")[0][0], executor.caches.outputs.get("7")[0][0]
    side_by_side(nodes, model, vae, positive, negative, options)
    if options.controlnet:
        controlnet_cost(nodes, model, positive, negative, options)

    del model, vae, positive, negative
    rss_before = current_rss_bytes()
    executor.reset()
    full = run_prompt(executor, workflow(name, options.size, options.steps, SEED), "after-reset")
    import comfy.model_management

    print(describe_run("executor, re-run after reset()", full, options.steps)
          + f" | RSS {rss_before / GIB:.2f} -> {current_rss_bytes() / GIB:.2f} GiB, "
          f"{len(comfy.model_management.current_loaded_models)} models in model_management.current_loaded_models")
    print(f"peak RSS of this process (both stacks, shared modules): {peak_rss_bytes() / GIB:.2f} GiB")


if __name__ == "__main__":
    main()
