"""Record what a pack's DiT block replacements are given on ComfyUI 0.3.64, and the final latents they lead to, on
the reduced reference SD3 and FLUX.1-dev (tests/fixtures/comfyui's flow files, KILN_FLOW_REF).

    flock /tmp/kiln-heavy.lock python tools/oracle/record_dit_block_patches.py --oracle /root/.cache/kiln-oracle \\
        --flow $KILN_FLOW_REF

KilnTestDitBlockProbe (tests/e2e/custom_nodes/kiln-test-nodes/dit_block_patches.py, copied into the oracle's
custom_nodes) registers `set_model_patch_replace(..., "dit", "double_block" | "single_block", i)` replacements that
run the original block and keep only `mix` of its change, noting each block's arguments during the first network
call. SD3: the checkpoint's CLIP-L + CLIP-G, both joint blocks at mix 0.5, 64x64, 2 euler steps, cfg 4. FLUX.1-dev:
"a photo of a cat" through CLIP-L and the fp8 T5-XXL, FluxGuidance 3.5, double block 0 and single block 0 at mix
0.7, cfg 2 against the zeroed prompt. Writes tests/fixtures/comfyui_nodes/dit_blocks/: workflows.json
({family: {"workflow", "cases", "probes"}}), latents.safetensors, probe_notes.json.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from oracle_server import flow_main, running_oracle, saved_latents
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)
from record_skip_layer_guidance import flux_start, node
from safetensors.numpy import save_file

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "dit_blocks"
PROBE = REPO / "tests" / "e2e" / "custom_nodes" / "kiln-test-nodes" / "dit_block_patches.py"


def _probe_branch(prompt: dict, family: str, model: list, probe: dict, sampling: dict) -> tuple[dict, dict]:
    prompt["100"] = node("KilnTestDitBlockProbe", model=model, probe=family, **probe)
    prompt["101"] = node("KSampler", model=["100", 0], seed=42, denoise=1.0, sampler_name="euler", scheduler="simple",
                         **sampling)
    prompt["102"] = node("SaveLatent", samples=["101", 0], filename_prefix=f"kiln_dit_probe_{family}")
    prompt["103"] = node("KilnTestDitBlockReport", samples=["101", 0], probe=family)
    return {f"{family}_probe": "102"}, {family: "103"}


def sd3() -> dict:
    prompt = {
        "1": node("CheckpointLoaderSimple", ckpt_name="ref-sd3.safetensors"),
        "2": node("CLIPTextEncode", text="a photo of a cat", clip=["1", 1]),
        "3": node("CLIPTextEncode", text="blurry", clip=["1", 1]),
        "4": node("EmptySD3LatentImage", width=64, height=64, batch_size=1),
    }
    cases, probes = _probe_branch(prompt, "sd3", ["1", 0], {"double_blocks": "0, 1", "single_blocks": "", "mix": 0.5},
                                  {"steps": 2, "cfg": 4.0, "positive": ["2", 0], "negative": ["3", 0],
                                   "latent_image": ["4", 0]})
    return {"workflow": prompt, "cases": cases, "probes": probes}


def flux() -> dict:
    prompt = flux_start()
    cases, probes = _probe_branch(prompt, "flux", ["1", 0], {"double_blocks": "0", "single_blocks": "0", "mix": 0.7},
                                  {"steps": 2, "cfg": 2.0, "positive": ["4", 0], "negative": ["5", 0],
                                   "latent_image": ["6", 0]})
    return {"workflow": prompt, "cases": cases, "probes": probes}


def record(oracle: Path, flow: Path) -> None:
    families = {"sd3": sd3(), "flux": flux()}
    latents, notes = {}, {}
    with tempfile.TemporaryDirectory(prefix="kiln-record-dit-blocks-") as scratch:
        custom_nodes = Path(scratch) / "custom_nodes"
        custom_nodes.mkdir()
        shutil.copy(PROBE, custom_nodes / "kiln_dit_block_probe.py")
        folders = {kind: kind for kind in ("checkpoints", "diffusion_models", "text_encoders")}
        with running_oracle(oracle, Path(scratch), {**folders, "custom_nodes": str(custom_nodes)},
                            base_path=flow) as url:
            for family, recorded in families.items():
                outputs = run(url, recorded["workflow"])
                latents.update(saved_latents(url, outputs, recorded["cases"]))
                notes.update({probe: outputs[report]["notes"] for probe, report in recorded["probes"].items()})
                print(family, {case: float(abs(latents[case]).max()) for case in recorded["cases"]}, notes[family])
    OUT.mkdir(parents=True, exist_ok=True)
    save_file(latents, str(OUT / "latents.safetensors"))
    (OUT / "workflows.json").write_text(json.dumps(families, indent=1) + "\n")
    (OUT / "probe_notes.json").write_text(json.dumps(notes, indent=1) + "\n")


if __name__ == "__main__":
    flow_main(record, __doc__)
