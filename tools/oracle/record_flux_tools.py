"""Record ComfyUI 0.3.64's final latents for FLUX.1 Fill and FLUX.1 Depth / Canny models (issue 17) on widened
copies of the reduced reference FLUX.1-dev (tests/fixtures/comfyui_nodes/make_flux_tools_files.py: `img_in` reads
96 and 32 latent channels), with the reduced 16-channel VAE and the reference CLIP-L + fp8 T5-XXL.

    python tools/oracle/record_flux_tools.py --oracle /root/.cache/kiln-oracle --flow $KILN_FLOW_REF

One prompt, "a photo of a cat" at FluxGuidance 3.5 and the zeroed prompt, 64x64, euler, 2 steps, seed 42:
- Fill: the fixture's picture under a mask ramping from 0 at the left edge to 1 at 32 pixels, through
  InpaintModelConditioning with noise_mask on (the sampled latent keeps the picture where the mask is 0) and off,
  cfg 1; and with cfg 2 (the zeroed prompt also carries the picture and mask);
- Depth: the picture as the control through InstructPixToPixConditioning, cfg 1 and cfg 2.
Writes tests/fixtures/comfyui_nodes/flux_tools/: workflow.json ({"workflow", "cases"}), latents.safetensors,
object_info.json.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from oracle_server import flow_main, object_info, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)
from record_skip_layer_guidance import flux_start, node

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "flux_tools"
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "comfyui_nodes"))
import make_flux_tools_files  # noqa: E402

NODES = ["InpaintModelConditioning", "InstructPixToPixConditioning"]


def workflow() -> tuple[dict, dict[str, str]]:
    prompt = flux_start()
    del prompt["1"], prompt["6"]
    prompt.update({
        "10": node("UNETLoader", unet_name="kiln-flux-fill.safetensors", weight_dtype="default"),
        "11": node("UNETLoader", unet_name="kiln-flux-depth.safetensors", weight_dtype="default"),
        "12": node("VAELoader", vae_name="ref-vae16.safetensors"),
        "13": node("LoadImage", image=make_flux_tools_files.PICTURE),
        "14": node("SolidMask", value=1.0, width=64, height=64),
        "15": node("FeatherMask", mask=["14", 0], left=32, top=0, right=0, bottom=0),
        "20": node("InpaintModelConditioning", positive=["4", 0], negative=["5", 0], vae=["12", 0],
                   pixels=["13", 0], mask=["15", 0], noise_mask=True),
        "21": node("InpaintModelConditioning", positive=["4", 0], negative=["5", 0], vae=["12", 0],
                   pixels=["13", 0], mask=["15", 0], noise_mask=False),
        "22": node("InstructPixToPixConditioning", positive=["4", 0], negative=["5", 0], vae=["12", 0],
                   pixels=["13", 0]),
    })
    branches = {
        # case: (model, conditioning node, cfg)
        "fill_noise_mask": ("10", "20", 1.0),
        "fill_no_noise_mask": ("10", "21", 1.0),
        "fill_cfg2": ("10", "20", 2.0),
        "depth": ("11", "22", 1.0),
        "depth_cfg2": ("11", "22", 2.0),
    }
    cases = {}
    for number, (case, (model, conditioning, cfg)) in enumerate(branches.items()):
        sampler, save = str(100 + 2 * number), str(101 + 2 * number)
        prompt[sampler] = node("KSampler", model=[model, 0], seed=42, steps=2, cfg=cfg, sampler_name="euler",
                               scheduler="simple", positive=[conditioning, 0], negative=[conditioning, 1],
                               latent_image=[conditioning, 2], denoise=1.0)
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_flux_tools_{case}")
        cases[case] = save
    return prompt, cases


def record(oracle: Path, flow: Path) -> None:
    prompt, cases = workflow()
    with tempfile.TemporaryDirectory(prefix="kiln-record-flux-tools-") as scratch:
        base = Path(scratch)
        for kind in ("text_encoders", "vae"):
            (base / kind).symlink_to(flow / kind)
        make_flux_tools_files.build(flow / "diffusion_models" / "ref-flux-dev.safetensors", base / "diffusion_models")
        (base / "input").mkdir()
        make_flux_tools_files.picture().save(base / "input" / make_flux_tools_files.PICTURE)
        folders = {kind: kind for kind in ("diffusion_models", "text_encoders", "vae")}
        with running_oracle(oracle, base, folders, input_dir=base / "input") as url:
            info = object_info(url, NODES)
            latents = saved_latents(url, run(url, prompt), cases)
    write_recording(OUT, latents, {"workflow": prompt, "cases": cases}, info, workflows_name="workflow.json")


if __name__ == "__main__":
    flow_main(record, __doc__)
