"""Record end-to-end Chroma runs on ComfyUI 0.3.64 through its HTTP API.

    ORACLE=/root/.cache/kiln-oracle
    flock /tmp/kiln-heavy.lock $ORACLE/venv/bin/python tools/oracle/record_chroma_runs.py --oracle $ORACLE

The model is make_chroma_files.py's REFERENCE_CONFIG file (ComfyUI's hardcoded Chroma sizes, 1 double and 1 single
block), written into a scratch `diffusion_models/`; the text conditioning comes from KilnTestConditioning
(tests/e2e/custom_nodes/kiln-test-nodes/conditioning.py, copied into the oracle's custom_nodes folder), the same
seeded T5-width tensor on both servers, so no T5-XXL is loaded. UNETLoader -> ModelSamplingAuraFlow -> KSampler
(2 steps, euler, simple) on a 64x64 EmptySD3LatentImage -> SaveLatent, one case per entry of CASES. Writes
tests/fixtures/comfyui_image/chroma/runs/ (latents.safetensors, workflow.json, object_info.json).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from oracle_server import object_info, running_oracle, saved_latents, write_recording
from record_loader_nodes import run

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_image"
OUT = FIXTURES / "chroma" / "runs"
CONDITIONING = REPO / "tests" / "e2e" / "custom_nodes" / "kiln-test-nodes" / "conditioning.py"
sys.path.insert(0, str(FIXTURES))
import make_chroma_files  # noqa: E402

NODES = ["ModelSamplingAuraFlow", "EmptySD3LatentImage"]
# case: (cfg, shift)
CASES = {"euler_cfg1": (1.0, 1.0), "euler_cfg3_negative": (3.0, 1.73)}


def node(class_type: str, **inputs: object) -> dict:
    return {"class_type": class_type, "inputs": inputs}


def workflow() -> tuple[dict, dict[str, str]]:
    prompt = {
        "1": node("UNETLoader", unet_name=make_chroma_files.REFERENCE_NAME, weight_dtype="default"),
        "2": node("KilnTestConditioning", seed=1, tokens=9, width=4096, scale=0.5,
                  pooled_output_none=True),
        "3": node("KilnTestConditioning", seed=2, tokens=5, width=4096, scale=0.5,
                  pooled_output_none=True),
        "4": node("EmptySD3LatentImage", width=64, height=64, batch_size=1),
    }
    cases = {}
    for number, (case, (cfg, shift)) in enumerate(CASES.items()):
        patch, sampler, save = (str(100 + 10 * number + offset) for offset in range(3))
        prompt[patch] = node("ModelSamplingAuraFlow", model=["1", 0], shift=shift)
        prompt[sampler] = node("KSampler", model=[patch, 0], seed=42 + number, steps=2, cfg=cfg, sampler_name="euler",
                               scheduler="simple", positive=["2", 0], negative=["3", 0], latent_image=["4", 0],
                               denoise=1.0)
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_chroma_{case}")
        cases[case] = save
    return prompt, cases


def record(oracle: Path) -> None:
    prompt, cases = workflow()
    with tempfile.TemporaryDirectory(prefix="kiln-record-chroma-") as scratch:
        base = Path(scratch)
        (base / "diffusion_models").mkdir()
        make_chroma_files.write_reference(str(base / "diffusion_models" / make_chroma_files.REFERENCE_NAME))
        custom_nodes = base / "custom_nodes"
        custom_nodes.mkdir()
        shutil.copy(CONDITIONING, custom_nodes / "kiln_test_conditioning.py")
        with running_oracle(oracle, base, {"diffusion_models": "diffusion_models",
                                           "custom_nodes": str(custom_nodes)}) as url:
            info = object_info(url, NODES)
            started = time.monotonic()
            latents = saved_latents(url, run(url, prompt), cases)
            print(f"ran in {time.monotonic() - started:.1f} s")
    write_recording(OUT, latents, {"workflow": prompt, "cases": cases}, info, workflows_name="workflow.json")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oracle", type=Path, required=True)
    record(parser.parse_args().oracle)
