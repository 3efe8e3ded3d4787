"""Record ComfyUI 0.3.64's final latents for EasyCache and LazyCache on the reduced reference FLUX.1-dev
(tests/fixtures/comfyui's flow files: KILN_FLOW_REF, built by make_flow_checkpoints.py), with the same run without
a cache.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_easycache_flux.py --oracle /root/.cache/kiln-oracle \\
        --flow $KILN_FLOW_REF

The prompt of the fixtures' flux_dev_euler_simple case ("a photo of a cat" through CLIP-L and the fp8 T5-XXL,
seed 42, 64x64, euler / simple, cfg 1), 10 steps; start_percent 0.15, end_percent 0.95. The thresholds are picked
so that each cache reuses some steps but not all (this network's changes are larger than the SD1.5 one's). Writes
tests/fixtures/comfyui_nodes/easycache_flux/: workflow.json ({"workflow", "cases"}), latents.safetensors,
object_info.json.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from oracle_server import flow_main, object_info, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "easycache_flux"
# case: (cache node or None, reuse_threshold)
CASES = {"no_cache": (None, 0.0), "easycache_0_5": ("EasyCache", 0.5), "lazycache_0_2": ("LazyCache", 0.2)}


def workflow() -> tuple[dict, dict[str, str]]:
    def node(class_type: str, **inputs: object) -> dict:
        return {"class_type": class_type, "inputs": inputs}

    prompt = {
        "1": node("DualCLIPLoader", clip_name1="ref-clip_l.safetensors", clip_name2="ref-t5xxl_fp8_e4m3fn.safetensors",
                  type="flux"),
        "2": node("UNETLoader", unet_name="ref-flux-dev.safetensors", weight_dtype="default"),
        "4": node("CLIPTextEncode", text="a photo of a cat", clip=["1", 0]),
        "6": node("ConditioningZeroOut", conditioning=["4", 0]),
        "7": node("EmptySD3LatentImage", width=64, height=64, batch_size=1),
    }
    cases = {}
    for number, (case, (cache_node, threshold)) in enumerate(CASES.items()):
        cache, sampler, save = (str(10 + 3 * number + offset) for offset in range(3))
        model = ["2", 0]
        if cache_node is not None:
            prompt[cache] = node(cache_node, model=["2", 0], reuse_threshold=threshold, start_percent=0.15,
                                 end_percent=0.95, verbose=True)
            model = [cache, 0]
        prompt[sampler] = node("KSampler", model=model, seed=42, steps=10, cfg=1.0, sampler_name="euler",
                               scheduler="simple", positive=["4", 0], negative=["6", 0], latent_image=["7", 0],
                               denoise=1.0)
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_flux_{case}")
        cases[case] = save
    return prompt, cases


def record(oracle: Path, flow: Path) -> None:
    prompt, cases = workflow()
    with tempfile.TemporaryDirectory(prefix="kiln-record-easycache-flux-") as scratch:
        folders = {kind: kind for kind in ("diffusion_models", "text_encoders")}
        with running_oracle(oracle, Path(scratch), folders, base_path=flow) as url:
            info = object_info(url, ["EasyCache", "LazyCache"])
            latents = saved_latents(url, run(url, prompt), cases)
    write_recording(OUT, latents, {"workflow": prompt, "cases": cases}, info, workflows_name="workflow.json")


if __name__ == "__main__":
    flow_main(record, __doc__)
