"""Record ComfyUI 0.3.64's final latents for FluxDisableGuidance on the reduced reference FLUX.1-dev
(tests/fixtures/comfyui's flow files: KILN_FLOW_REF, built by make_flow_checkpoints.py), and its /object_info entry.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_flux_disable_guidance.py --oracle /root/.cache/kiln-oracle \\
        --flow $KILN_FLOW_REF

The prompt of the fixtures' flux_dev_euler_simple case ("a photo of a cat" through CLIP-L and the fp8 T5-XXL,
seed 42, 64x64, euler / simple), 2 steps, with the guidance taken off the positive: at cfg 1, and at cfg 2 against
the zeroed negative, which keeps ComfyUI's default guidance (3.5), so cond and uncond differ in having a guidance
value. Writes tests/fixtures/comfyui_nodes/flux_disable_guidance/: workflow.json ({"workflow", "cases"}),
latents.safetensors, object_info.json.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from oracle_server import flow_main, object_info, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "flux_disable_guidance"


def workflow() -> tuple[dict, dict[str, str]]:
    def node(class_type: str, **inputs: object) -> dict:
        return {"class_type": class_type, "inputs": inputs}

    prompt = {
        "1": node("DualCLIPLoader", clip_name1="ref-clip_l.safetensors", clip_name2="ref-t5xxl_fp8_e4m3fn.safetensors",
                  type="flux"),
        "2": node("UNETLoader", unet_name="ref-flux-dev.safetensors", weight_dtype="default"),
        "4": node("CLIPTextEncode", text="a photo of a cat", clip=["1", 0]),
        "5": node("FluxDisableGuidance", conditioning=["4", 0]),
        "6": node("ConditioningZeroOut", conditioning=["4", 0]),
        "7": node("EmptySD3LatentImage", width=64, height=64, batch_size=1),
    }
    cases = {}
    for number, (case, cfg) in enumerate((("cfg1", 1.0), ("cfg2", 2.0))):
        sampler, save = str(10 + 2 * number), str(11 + 2 * number)
        prompt[sampler] = node("KSampler", model=["2", 0], seed=42, steps=2, cfg=cfg, sampler_name="euler",
                               scheduler="simple", positive=["5", 0], negative=["6", 0], latent_image=["7", 0],
                               denoise=1.0)
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_flux_no_guidance_{case}")
        cases[case] = save
    return prompt, cases


def record(oracle: Path, flow: Path) -> None:
    prompt, cases = workflow()
    with tempfile.TemporaryDirectory(prefix="kiln-record-flux-disable-guidance-") as scratch:
        folders = {kind: kind for kind in ("diffusion_models", "text_encoders")}
        with running_oracle(oracle, Path(scratch), folders, base_path=flow) as url:
            info = object_info(url, ["FluxDisableGuidance"])
            latents = saved_latents(url, run(url, prompt), cases)
    write_recording(OUT, latents, {"workflow": prompt, "cases": cases}, info, workflows_name="workflow.json")


if __name__ == "__main__":
    flow_main(record, __doc__)
