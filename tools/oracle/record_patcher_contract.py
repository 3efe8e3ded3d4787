"""Record ComfyUI 0.3.64's final latents for the ModelPatcher contract pack (issue 18): the test pack's
KilnTestPatcherContract (tests/e2e/custom_nodes/kiln-test-nodes/patcher_contract.py, copied into the oracle's
custom_nodes) applies one feature of ComfyUI's documented ModelPatcher API per branch, on four families:

- SD1.5: the reference checkpoint (KILN_REF_SD15), every feature;
- SDXL: the random Vega-shaped SDXL UNet of the guidance fixtures (tests/fixtures/comfyui_guidance, built into
  --guidance-models) with the reference CLIP-L / CLIP-G and the SD1.5 checkpoint's VAE-free sampling, every feature;
- SD3 and FLUX.1-dev: the reduced reference files (KILN_FLOW_REF), the features ComfyUI's DiT models run (the
  sampling functions, the object patch and the weight patches; attention and block patches are UNet-only there).

Weight patches name their weight by ComfyUI's state-dict key, a fused one on the DiT models (FLUX.1's and SD3's
qkv, FLUX.1's single-block linear1), with its shape read from the model file. Every case is a branch of its family's
loader to a KSampler (euler, 2 steps, 64x64, seed 42) and a SaveLatent, and each family has an unpatched branch.

    python tools/oracle/record_patcher_contract.py --oracle /root/.cache/kiln-oracle \\
        --checkpoint $KILN_REF_SD15 --flow $KILN_FLOW_REF --guidance-models /tmp/kiln-guidance

Writes tests/fixtures/comfyui_nodes/patcher_contract/: workflows.json ({family: {"workflow", "cases": {case:
SaveLatent node id}}}) and latents.safetensors.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from oracle_server import running_oracle, saved_latents
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)
from record_skip_layer_guidance import flux_start, node
from safetensors import safe_open
from safetensors.numpy import save_file

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "patcher_contract"
PACK = REPO / "tests" / "e2e" / "custom_nodes" / "kiln-test-nodes" / "patcher_contract.py"
GUIDANCE_MODELS = REPO / "tests" / "fixtures" / "comfyui_guidance" / "make_guidance_models.py"
VEGA = "diffusion_models/kiln-sdxl-vega.safetensors"

UNET_FEATURES = ["attn1_patch", "attn2_patch", "attn1_output_patch", "attn2_output_patch", "attn1_replace",
                 "attn2_replace", "input_block_patch", "output_block_patch"]
SAMPLING_FEATURES = ["unet_function_wrapper", "pre_cfg_function", "cfg_function", "post_cfg_function",
                     "object_patch"]
# Per family: the replacements' blocks (with and without a transformer index) and the weights add_patches names
# (file key, ComfyUI's key).
UNET_FAMILIES = {
    "sd15": {"attn1_replace": "input,4", "attn2_replace": "output,10,0",
             "add_patches_diff": "input_blocks.0.0.weight",
             "add_patches_lora": "output_blocks.11.1.transformer_blocks.0.ff.net.0.proj.weight"},
    "sdxl": {"attn1_replace": "input,7,1", "attn2_replace": "output,1",
             "add_patches_diff": "input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight",
             "add_patches_lora": "output_blocks.0.1.proj_out.weight"},
}
DIT_FAMILIES = {
    "sd3": {"add_patches_diff": "joint_blocks.0.x_block.attn.qkv.weight",
            "add_patches_lora": "joint_blocks.0.context_block.attn.qkv.weight"},
    "flux": {"add_patches_diff": "double_blocks.0.img_attn.qkv.weight",
             "add_patches_lora": "single_blocks.0.linear1.weight"},
}
SAMPLING = {"seed": 42, "steps": 2, "sampler_name": "euler", "denoise": 1.0}


def shapes_of(path: Path, keys: list[str], prefix: str) -> dict[str, str]:
    """{key: "d0,d1,..."} for `prefix` + key in the safetensors file `path`."""
    with safe_open(str(path), framework="np") as weights:
        return {key: ",".join(str(size) for size in weights.get_slice(prefix + key).get_shape()) for key in keys}


def branches(prompt: dict, family: str, model: list, features: dict[str, dict], sampling: dict) -> dict[str, str]:
    """A KSampler and SaveLatent per case (`family`_plain unpatched, then one per feature, its contract node's
    inputs given)."""
    cases = {}
    for number, (feature, inputs) in enumerate({"plain": None, **features}.items()):
        case = f"{family}_{feature}"
        patch_id, sampler, save = (str(100 + 10 * number + offset) for offset in range(3))
        patched = model
        if inputs is not None:
            prompt[patch_id] = node("KilnTestPatcherContract", model=model, feature=feature,
                                    **{"block": "", "key": "", "shape": "", **inputs})
            patched = [patch_id, 0]
        prompt[sampler] = node("KSampler", model=patched, **SAMPLING, **sampling)
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_contract/{case}")
        cases[case] = save
    return cases


def features(family: str, shapes: dict[str, str], unet: bool) -> dict[str, dict]:
    table = {**UNET_FAMILIES, **DIT_FAMILIES}[family]
    chosen: dict[str, dict] = {}
    for feature in (UNET_FEATURES if unet else []) + SAMPLING_FEATURES:
        chosen[feature] = {"block": table[feature]} if feature.endswith("_replace") else {}
    for feature in ("add_patches_diff", "add_patches_lora"):
        key = table[feature]
        chosen[feature] = {"key": "diffusion_model." + key, "shape": shapes[key]}
    return chosen


def _keys(family: str) -> list[str]:
    table = {**UNET_FAMILIES, **DIT_FAMILIES}[family]
    return [table["add_patches_diff"], table["add_patches_lora"]]


def recorded(prompt: dict, family: str, shapes: dict[str, str], sampling: dict) -> dict:
    """The family's recording: its prompt (loaders as "1", prompts "2" and "3", the latent "4" unless `sampling`
    names others) with a branch per case."""
    sampling = {"positive": ["2", 0], "negative": ["3", 0], "latent_image": ["4", 0], **sampling}
    unet = family in UNET_FAMILIES
    return {"workflow": prompt, "cases": branches(prompt, family, ["1", 0], features(family, shapes, unet), sampling)}


def sd15(checkpoint: Path) -> dict:
    prompt = {
        "1": node("CheckpointLoaderSimple", ckpt_name="ref-sd15.safetensors"),
        "2": node("CLIPTextEncode", text="a photo of a cat", clip=["1", 1]),
        "3": node("CLIPTextEncode", text="blurry", clip=["1", 1]),
        "4": node("EmptyLatentImage", width=64, height=64, batch_size=1),
    }
    shapes = shapes_of(checkpoint, _keys("sd15"), "model.diffusion_model.")
    return recorded(prompt, "sd15", shapes, {"cfg": 7.0, "scheduler": "normal"})


def sdxl(vega: Path) -> dict:
    prompt = {
        "1": node("UNETLoader", unet_name="kiln-sdxl-vega.safetensors", weight_dtype="default"),
        "5": node("DualCLIPLoader", clip_name1="ref-clip_l.safetensors", clip_name2="ref-clip_g.safetensors",
                  type="sdxl", device="default"),
        "2": node("CLIPTextEncode", text="a photo of a cat", clip=["5", 0]),
        "3": node("CLIPTextEncode", text="blurry", clip=["5", 0]),
        "4": node("EmptyLatentImage", width=64, height=64, batch_size=1),
    }
    shapes = shapes_of(vega, _keys("sdxl"), "")
    return recorded(prompt, "sdxl", shapes, {"cfg": 5.0, "scheduler": "normal"})


def sd3(flow: Path) -> dict:
    prompt = {
        "1": node("CheckpointLoaderSimple", ckpt_name="ref-sd3.safetensors"),
        "2": node("CLIPTextEncode", text="a photo of a cat", clip=["1", 1]),
        "3": node("CLIPTextEncode", text="blurry", clip=["1", 1]),
        "4": node("EmptySD3LatentImage", width=64, height=64, batch_size=1),
    }
    shapes = shapes_of(flow / "checkpoints" / "ref-sd3.safetensors", _keys("sd3"), "model.diffusion_model.")
    return recorded(prompt, "sd3", shapes, {"cfg": 4.0, "scheduler": "simple"})


def flux(flow: Path) -> dict:
    prompt = flux_start()
    shapes = shapes_of(flow / "diffusion_models" / "ref-flux-dev.safetensors", _keys("flux"), "")
    return recorded(prompt, "flux", shapes, {"cfg": 2.0, "scheduler": "simple", "positive": ["4", 0],
                                             "negative": ["5", 0], "latent_image": ["6", 0]})


def record(oracle: Path, checkpoint: Path, flow: Path, guidance_models: Path, only: list[str]) -> None:
    vega = guidance_models / VEGA
    if "sdxl" in only and not vega.exists():
        subprocess.run([sys.executable, str(GUIDANCE_MODELS), "sdxl-vega", str(guidance_models)], check=True)
    builders = {"sd15": lambda: sd15(checkpoint), "sdxl": lambda: sdxl(vega), "sd3": lambda: sd3(flow),
                "flux": lambda: flux(flow)}
    families = {family: builders[family]() for family in only}
    latents = {}
    with tempfile.TemporaryDirectory(prefix="kiln-record-contract-") as scratch:
        base = Path(scratch)
        for folder in ("checkpoints", "diffusion_models", "text_encoders", "custom_nodes"):
            (base / folder).mkdir()
        links = {"checkpoints/ref-sd15.safetensors": checkpoint, **({VEGA: vega} if vega.exists() else {})}
        for source in flow.glob("*/*.safetensors"):
            links[f"{source.parent.name}/{source.name}"] = source
        for name, source in links.items():
            if (base / name).parent.is_dir():
                (base / name).symlink_to(source.resolve())
        shutil.copy(PACK, base / "custom_nodes" / "kiln_patcher_contract.py")
        folders = {kind: kind for kind in ("checkpoints", "diffusion_models", "text_encoders", "custom_nodes")}
        with running_oracle(oracle, base, folders) as url:
            for family, recorded in families.items():
                outputs = run(url, recorded["workflow"])
                found = saved_latents(url, outputs, recorded["cases"])
                plain = found[f"{family}_plain"]
                for case, latent in found.items():
                    moved = float(abs(latent - plain).max() / abs(plain).max())
                    print(f"{case}: max |x| {abs(latent).max():.4g}, moved {moved:.3g} of the plain latent's max")
                latents.update(found)
    OUT.mkdir(parents=True, exist_ok=True)
    recorded_path = OUT / "workflows.json"
    everything = json.loads(recorded_path.read_text()) if recorded_path.exists() else {}
    everything.update(families)
    old = {}
    if (OUT / "latents.safetensors").exists():
        from safetensors.numpy import load_file

        old = {case: value for case, value in load_file(str(OUT / "latents.safetensors")).items()
               if case.split("_")[0] not in families}
    save_file({**old, **latents}, str(OUT / "latents.safetensors"))
    recorded_path.write_text(json.dumps(everything, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oracle", type=Path, required=True, help="the oracle folder (ComfyUI/ and venv/)")
    parser.add_argument("--checkpoint", type=Path, required=True, help="the reference SD1.5 checkpoint")
    parser.add_argument("--flow", type=Path, required=True, help="the reference flow files' models folder")
    parser.add_argument("--guidance-models", type=Path, required=True,
                        help="a models folder for the Vega-shaped SDXL UNet (built there if absent)")
    parser.add_argument("--families", default="sd15,sdxl,sd3,flux", help="which families to record (comma list)")
    options = parser.parse_args()
    record(options.oracle, options.checkpoint, options.flow, options.guidance_models, options.families.split(","))


if __name__ == "__main__":
    main()
