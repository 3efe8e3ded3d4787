"""Record ComfyUI 0.3.64's Wan 2.1 / 2.2 transformer on the reduced models of
tests/fixtures/comfyui_video/make_wan_files.py (t2v, i2v, flf2v, ti2v_5b; float16 files).

    ORACLE=/root/.cache/kiln-oracle
    flock /tmp/kiln-heavy.lock $ORACLE/venv/bin/python tools/oracle/record_wan_model.py --oracle $ORACLE

Runs in the oracle's interpreter with ComfyUI's folder on sys.path (CPU, float32 compute), each model loaded with
`comfy.sd.load_diffusion_model` (what UNETLoader does). For each variant, on `make_wan_files.probe_inputs`:
  detected        ComfyUI's model class, its model config class and unet_config
  raw             `diffusion_model(x, t=700, context)` on the odd-sized latent (padding to the patch)
  denoised        `model.apply_model(x, sigma=0.7, **conds)` with the conds `model.extra_conds` makes of the
                  conditioning (i2v / flf2v: CLIP-vision output, picture latent and mask; also i2v without any
                  of them; ti2v_5b: with and without the denoise mask; t2v: also with Phantom's subject frame as
                  time_dim_concat)
  c_concat        what extra_conds makes of the picture latent and mask (i2v / flf2v)
  sampled         a 2-step `comfy.sample.sample` (euler, simple, cfg 2.5, seed 7) from the fixed noise on an empty
                  latent, positive / negative conditioning as above (ti2v_5b: also with the denoise mask as
                  noise_mask and the picture latent as latent_image)
Writes tests/fixtures/comfyui_video/wan_model/probes.safetensors (float32) and probes.json (what was run, the
files' and inputs' SHA-256, the detection facts).

The KSampler node's `common_ksampler` (2 euler steps, cfg 3, seed 11): t2v from an empty latent, ti2v_5b from the
probe latent with Wan22ImageToVideoLatent's noise mask ("ksampler/...").

A LoRA (`make_wan_files.lora_state_dict`: ComfyUI, kohya and Wan Fun names) on the t2v model, strength 0.8: the
raw network ("lora/t2v/raw").

"dit" block replacements on the i2v model's apply_model: block 1 skipped, block 0's update halved ("dit/...").

The t2v model in the other formats UNETLoader reads (`make_wan_files.FORMAT_FILES`: bfloat16, float8_e4m3fn,
ComfyUI's scaled_fp8, keys under `model.diffusion_model.`): the raw network on the odd-sized input ("format/...");
and the float16 t2v file loaded with UNETLoader's weight_dtype fp8_e4m3fn ("weight_dtype/fp8_e4m3fn/raw").

Also the full-size layouts (`FULL_SIZE`: ComfyUI's `WanModel` built on the meta device for each released model's
sizes) and what ComfyUI's own detection (`comfy.model_detection.model_config_from_unet`) makes of each, bare and
under `model.diffusion_model.`: layouts.json, each layout as its keys outside the blocks plus block 0's keys
(every block has the same), with shapes.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from in_process import start_comfyui

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_video"
OUT = FIXTURES / "wan_model"
SIGMA = 0.7
RAW_TIMESTEP = 700.0
MASKED_PICTURE_SEED = 99
SAMPLING = {"steps": 2, "cfg": 2.5, "sampler_name": "euler", "scheduler": "simple", "seed": 7}


def tensor_digest(tensors: dict) -> str:
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(tensors[key].float().contiguous().numpy().tobytes())
    return digest.hexdigest()


# name -> ComfyUI WanModel arguments of a released model (sizes from the published configs)
FULL_SIZE = {
    "wan2.1_t2v_1.3B": dict(model_type="t2v", dim=1536, ffn_dim=8960, num_heads=12, num_layers=30, in_dim=16),
    "wan2.1_t2v_14B": dict(model_type="t2v", dim=5120, ffn_dim=13824, num_heads=40, num_layers=40, in_dim=16),
    "wan2.1_i2v_480p_14B": dict(model_type="i2v", dim=5120, ffn_dim=13824, num_heads=40, num_layers=40, in_dim=36),
    "wan2.1_i2v_720p_14B": dict(model_type="i2v", dim=5120, ffn_dim=13824, num_heads=40, num_layers=40, in_dim=36),
    "wan2.1_flf2v_720p_14B": dict(model_type="i2v", dim=5120, ffn_dim=13824, num_heads=40, num_layers=40, in_dim=36,
                                  flf_pos_embed_token_number=514),
    "wan2.1_fun_control_1.3B": dict(model_type="i2v", dim=1536, ffn_dim=8960, num_heads=12, num_layers=30,
                                    in_dim=48),
    "wan2.2_t2v_high_noise_14B": dict(model_type="t2v", dim=5120, ffn_dim=13824, num_heads=40, num_layers=40,
                                      in_dim=16),
    "wan2.2_i2v_low_noise_14B": dict(model_type="t2v", dim=5120, ffn_dim=13824, num_heads=40, num_layers=40,
                                     in_dim=36),
    "wan2.2_ti2v_5B": dict(model_type="t2v", dim=3072, ffn_dim=14336, num_heads=24, num_layers=30, in_dim=48,
                           out_dim=48),
}


def record_layouts() -> dict:
    import torch

    import comfy.ldm.wan.model
    import comfy.model_detection
    import comfy.ops

    layouts = {}
    for name, arguments in FULL_SIZE.items():
        network = comfy.ldm.wan.model.WanModel(**arguments, device="meta", operations=comfy.ops.disable_weight_init)
        shapes = {key: list(value.shape) for key, value in network.state_dict().items()}
        meta = {key: torch.empty(shape, device="meta") for key, shape in shapes.items()}
        detected = {}
        for prefix in ("", "model.diffusion_model."):
            config = comfy.model_detection.model_config_from_unet({prefix + k: v for k, v in meta.items()}, prefix)
            detected[prefix or "bare"] = type(config).__name__ if config is not None else None
        layouts[name] = {
            "num_layers": arguments["num_layers"],
            "keys": {key: shape for key, shape in shapes.items() if not key.startswith("blocks.")},
            "block": {key[len("blocks.0."):]: shape for key, shape in shapes.items() if key.startswith("blocks.0.")},
            "comfyui_class": detected,
        }
        print(name, detected)
    return layouts


def conditioning(inputs: dict, with_image: bool) -> dict:
    """ComfyUI's conditioning options of an image-to-video probe (none for the other variants)."""
    import comfy.clip_vision

    if not with_image or "clip" not in inputs:
        return {}
    clip_vision = comfy.clip_vision.Output()
    clip_vision.penultimate_hidden_states = inputs["clip"]
    return {"clip_vision_output": clip_vision, "concat_latent_image": inputs["picture"], "concat_mask": inputs["mask"]}


def record_variant(variant: str, path: Path, recorded: dict) -> dict:
    """Run one reduced model's probes on ComfyUI into `recorded`; returns its facts."""
    import make_wan_files
    import torch

    import comfy.sample
    import comfy.sd

    inputs = make_wan_files.probe_inputs(variant)
    patcher = comfy.sd.load_diffusion_model(str(path))
    model = patcher.model
    facts = {
        "file": path.name, "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "inputs_sha256": tensor_digest(inputs), "model_class": type(model).__name__,
        "config_class": type(model.model_config).__name__,
        "unet_config": {key: list(value) if isinstance(value, tuple) else value
                        for key, value in model.model_config.unet_config.items()},
        "image_to_video": bool(getattr(model, "image_to_video", False)),
        "shift": float(model.model_sampling.shift), "multiplier": float(model.model_sampling.multiplier),
    }
    with torch.no_grad():
        raw = model.diffusion_model(inputs["odd"], torch.tensor([RAW_TIMESTEP]), inputs["context"])
        recorded[f"{variant}/raw"] = raw.float()
        cases = [("plain", {}, {})]
        if "clip" in inputs:
            cases.append(("image", conditioning(inputs, True), {}))
        if "denoise_mask" in inputs:
            cases.append(("masked", {}, {"denoise_mask": inputs["denoise_mask"]}))
        if "subject" in inputs:
            cases.append(("phantom", {"time_dim_concat": inputs["subject"]}, {}))
        for name, options, extra in cases:
            conds = model.extra_conds(cross_attn=inputs["context"], noise=inputs["x"], device=torch.device("cpu"),
                                      **options)
            plain = {key: value.cond for key, value in conds.items()}
            if "c_concat" in plain:
                recorded[f"{variant}/{name}/c_concat"] = plain["c_concat"].float()
            out = model.apply_model(inputs["x"], torch.tensor([SIGMA]), **plain, **extra)
            recorded[f"{variant}/{name}/denoised"] = out.float()

        positive = [[inputs["context"], conditioning(inputs, True)]]
        negative = [[inputs["negative"], conditioning(inputs, True)]]
        arguments = (SAMPLING["steps"], SAMPLING["cfg"], SAMPLING["sampler_name"], SAMPLING["scheduler"], positive,
                     negative)
        sampled = comfy.sample.sample(patcher, inputs["noise"], *arguments, torch.zeros_like(inputs["noise"]),
                                      seed=SAMPLING["seed"])
        recorded[f"{variant}/sampled"] = sampled.float()
        if "denoise_mask" in inputs:
            picture = torch.randn(inputs["noise"].shape, generator=torch.Generator().manual_seed(MASKED_PICTURE_SEED))
            sampled = comfy.sample.sample(patcher, inputs["noise"], *arguments, picture,
                                          noise_mask=inputs["denoise_mask"], seed=SAMPLING["seed"])
            recorded[f"{variant}/sampled_masked"] = sampled.float()
    print(variant, facts["model_class"], facts["config_class"],
          {key: float(value.abs().max()) for key, value in recorded.items() if key.startswith(variant)})
    return facts


KSAMPLER = {"seed": 11, "steps": 2, "cfg": 3.0, "sampler_name": "euler", "scheduler": "simple"}


def record_ksampler(files: dict, recorded: dict) -> None:
    """The KSampler node's sampling (`nodes.common_ksampler`: seeded noise, empty-latent handling, noise mask) on
    the t2v model from an empty video latent, and on the 5B from a picture latent with Wan22ImageToVideoLatent's
    noise mask [1, 1, T, H, W] (0 on the first frame)."""
    import make_wan_files
    import torch

    import comfy.sd
    import nodes

    for variant in ("t2v", "ti2v_5b"):
        inputs = make_wan_files.probe_inputs(variant)
        patcher = comfy.sd.load_diffusion_model(str(files[variant]))
        latent = {"samples": torch.zeros_like(inputs["x"])}
        if variant == "ti2v_5b":
            mask = torch.ones(1, 1, *inputs["x"].shape[2:])
            mask[:, :, 0] = 0.0
            latent = {"samples": inputs["x"], "noise_mask": mask}
        positive, negative = [[inputs["context"], {}]], [[inputs["negative"], {}]]
        (out,) = nodes.common_ksampler(patcher, KSAMPLER["seed"], KSAMPLER["steps"], KSAMPLER["cfg"],
                                       KSAMPLER["sampler_name"], KSAMPLER["scheduler"], positive, negative, latent)
        recorded[f"ksampler/{variant}"] = out["samples"].float()
        print("ksampler", variant, float(out["samples"].abs().max()))


LORA_STRENGTH = 0.8


def record_lora(files: dict, recorded: dict) -> None:
    """The raw t2v network with `make_wan_files.lora_state_dict()` applied (LoraLoaderModelOnly's
    `comfy.sd.load_lora_for_models`, strength 0.8), and how many of the LoRA's keys ComfyUI took."""
    import make_wan_files
    import torch

    import comfy.lora
    import comfy.sd

    inputs = make_wan_files.probe_inputs("t2v")
    patcher = comfy.sd.load_diffusion_model(str(files["t2v"]))
    lora = make_wan_files.lora_state_dict()
    key_map = comfy.lora.model_lora_keys_unet(patcher.model, {})
    taken = comfy.lora.load_lora(comfy.lora_convert.convert_lora(lora), key_map, log_missing=False)
    assert len(taken) == len(make_wan_files.LORA_LAYERS), sorted(taken)
    patched, _ = comfy.sd.load_lora_for_models(patcher, None, lora, LORA_STRENGTH, 0)
    patched.patch_model()
    with torch.no_grad():
        raw = patched.model.diffusion_model(inputs["odd"], torch.tensor([RAW_TIMESTEP]), inputs["context"])
    recorded["lora/t2v/raw"] = raw.float()
    print("lora", float(raw.abs().max()), float((raw - recorded["t2v/raw"]).abs().max()))


def skip_block(args: dict, extra: dict) -> dict:
    """A "dit" replacement that answers its input: the block is skipped (what Skip Layer Guidance registers)."""
    return {"img": args["img"]}


def halve_block_update(args: dict, extra: dict) -> dict:
    """A "dit" replacement that runs the block and keeps half of what it added."""
    out = extra["original_block"](args)
    return {"img": args["img"] + 0.5 * (out["img"] - args["img"])}


def record_block_patches(files: dict, recorded: dict) -> None:
    """apply_model on the i2v model (with its image conditioning) with block 1 skipped and with block 0's update
    halved, through transformer_options["patches_replace"]["dit"][("double_block", i)]."""
    import make_wan_files
    import torch

    import comfy.sd

    inputs = make_wan_files.probe_inputs("i2v")
    model = comfy.sd.load_diffusion_model(str(files["i2v"])).model
    conds = model.extra_conds(cross_attn=inputs["context"], noise=inputs["x"], device=torch.device("cpu"),
                              **conditioning(inputs, True))
    plain = {key: value.cond for key, value in conds.items()}
    for name, patches in (("skip1", {("double_block", 1): skip_block}),
                          ("halve0", {("double_block", 0): halve_block_update})):
        options = {"patches_replace": {"dit": patches}}
        with torch.no_grad():
            out = model.apply_model(inputs["x"], torch.tensor([SIGMA]), transformer_options=options, **plain)
        recorded[f"dit/i2v/{name}"] = out.float()
        print("dit", name, float((out - recorded["i2v/image/denoised"]).abs().max()))


def main() -> None:
    start_comfyui(FIXTURES, __doc__)
    import make_wan_files
    import torch
    from safetensors.torch import save_file

    import comfy.sd

    work = Path(tempfile.mkdtemp(prefix="kiln-wan-"))
    files = make_wan_files.write_all(work)
    recorded: dict[str, torch.Tensor] = {}
    facts: dict[str, dict] = {}
    for variant, path in files.items():
        facts[variant] = record_variant(variant, path, recorded)
    record_ksampler(files, recorded)
    record_lora(files, recorded)
    record_block_patches(files, recorded)
    formats = {}
    inputs = make_wan_files.probe_inputs("t2v")
    for name, path in make_wan_files.write_formats(work).items():
        model = comfy.sd.load_diffusion_model(str(path)).model
        with torch.no_grad():
            raw = model.diffusion_model(inputs["odd"], torch.tensor([RAW_TIMESTEP]), inputs["context"])
        recorded[f"format/{name}/raw"] = raw.float()
        formats[name] = {"file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                         "config_class": type(model.model_config).__name__,
                         "weight_dtype": str(model.diffusion_model.blocks[0].ffn[0].weight.dtype)}
        print(name, formats[name], float(raw.abs().max()))
        path.unlink()
    # UNETLoader's weight_dtype fp8_e4m3fn on the float16 t2v file: weights stored in fp8, computed in float32
    model = comfy.sd.load_diffusion_model(str(files["t2v"]), model_options={"dtype": torch.float8_e4m3fn}).model
    with torch.no_grad():
        raw = model.diffusion_model(inputs["odd"], torch.tensor([RAW_TIMESTEP]), inputs["context"])
    recorded["weight_dtype/fp8_e4m3fn/raw"] = raw.float()
    print("weight_dtype fp8_e4m3fn", float(raw.abs().max()), float((raw - recorded["t2v/raw"]).abs().max()))
    OUT.mkdir(parents=True, exist_ok=True)
    save_file({key: value.contiguous() for key, value in recorded.items()}, str(OUT / "probes.safetensors"))
    (OUT / "probes.json").write_text(json.dumps({
        "comfyui": "0.3.64 (a125cd84), CPU, float32 compute, float16 files",
        "sigma": SIGMA, "raw_timestep": RAW_TIMESTEP, "sampling": SAMPLING,
        "sampled_masked_latent_image_seed": MASKED_PICTURE_SEED, "variants": facts, "formats": formats,
        "ksampler": KSAMPLER, "lora_strength": LORA_STRENGTH,
        "tolerance": "1e-4 of the largest absolute value"}, indent=1, default=str) + "\n")
    (OUT / "layouts.json").write_text(json.dumps(record_layouts(), indent=None, separators=(",", ":")) + "\n")
    for path in files.values():
        path.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()
