"""Record ComfyUI 0.3.64's final latents for Skip Layer Guidance (SkipLayerGuidanceSD3, SkipLayerGuidanceDiT,
SkipLayerGuidanceDiTSimple) on the reduced reference SD3 and FLUX.1-dev (tests/fixtures/comfyui's flow files:
KILN_FLOW_REF, built by make_flow_checkpoints.py), and the nodes' /object_info entries.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_skip_layer_guidance.py --oracle /root/.cache/kiln-oracle \\
        --flow $KILN_FLOW_REF

SD3: the whole checkpoint (its CLIP-L + CLIP-G, no T5) encodes the fixtures' sd3 prompts; 64x64, 3 euler steps,
cfg 4; branches: no guidance patch, SkipLayerGuidanceSD3 on joint block 1 all the way, SkipLayerGuidanceDiT on
block 0 from 20 % to 80 % with rescaling 0.5, SkipLayerGuidanceDiTSimple on block 1. FLUX.1-dev: "a photo of a
cat" through CLIP-L and the fp8 T5-XXL, FluxGuidance 3.5, 64x64, 2 euler steps; SkipLayerGuidanceDiT on double
block 0 and single block 0 at cfg 1, and SkipLayerGuidanceDiTSimple on single block 0 at cfg 2 against the zeroed
prompt. Writes tests/fixtures/comfyui_nodes/skip_layer_guidance/: workflows.json ({family: {"workflow", "cases"}}),
latents.safetensors, object_info.json.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from oracle_server import flow_main, object_info, record_families, running_oracle, write_recording

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "skip_layer_guidance"
NODES = ("SkipLayerGuidanceSD3", "SkipLayerGuidanceDiT", "SkipLayerGuidanceDiTSimple")
SD3_POSITIVE = "a photo of a cat"
SD3_NEGATIVE = "blurry"


def node(class_type: str, **inputs: object) -> dict:
    return {"class_type": class_type, "inputs": inputs}


def _branches(prompt: dict, patches: dict[str, dict | None], sampling: dict, latent: list) -> dict[str, str]:
    """A KSampler and SaveLatent per case, on the case's patched model (or the loaded one)."""
    cases = {}
    for number, (case, patch) in enumerate(patches.items()):
        patch_id, sampler, save = (str(100 + 10 * number + offset) for offset in range(3))
        model = ["1", 0]
        if patch is not None:
            prompt[patch_id] = {**patch, "inputs": {**patch["inputs"], "model": ["1", 0]}}
            model = [patch_id, 0]
        prompt[sampler] = node("KSampler", model=model, latent_image=latent, denoise=1.0, seed=42,
                               **sampling.get(case, sampling["default"]))
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_slg_{case}")
        cases[case] = save
    return cases


def sd3() -> tuple[dict, dict[str, str]]:
    prompt = {
        "1": node("CheckpointLoaderSimple", ckpt_name="ref-sd3.safetensors"),
        "2": node("CLIPTextEncode", text=SD3_POSITIVE, clip=["1", 1]),
        "3": node("CLIPTextEncode", text=SD3_NEGATIVE, clip=["1", 1]),
        "4": node("EmptySD3LatentImage", width=64, height=64, batch_size=1),
    }
    patches = {
        "sd3_plain": None,
        "sd3_slg_sd3": node("SkipLayerGuidanceSD3", layers="1", scale=3.0, start_percent=0.0, end_percent=1.0),
        "sd3_slg_dit_window": node("SkipLayerGuidanceDiT", double_layers="0", single_layers="", scale=2.0,
                                   start_percent=0.2, end_percent=0.8, rescaling_scale=0.5),
        "sd3_slg_dit_simple": node("SkipLayerGuidanceDiTSimple", double_layers="1", single_layers="",
                                   start_percent=0.0, end_percent=1.0),
    }
    sampling = {"default": {"steps": 3, "cfg": 4.0, "sampler_name": "euler", "scheduler": "simple",
                            "positive": ["2", 0], "negative": ["3", 0]}}
    return prompt, _branches(prompt, patches, sampling, ["4", 0])


def flux_start() -> dict:
    """FLUX.1-dev's loaders, "a photo of a cat" (CLIP-L + fp8 T5-XXL) at guidance 3.5 ("4"), the zeroed prompt ("5")
    and an empty 64x64 latent ("6"); the model is "1"."""
    return {
        "1": node("UNETLoader", unet_name="ref-flux-dev.safetensors", weight_dtype="default"),
        "2": node("DualCLIPLoader", clip_name1="ref-clip_l.safetensors", clip_name2="ref-t5xxl_fp8_e4m3fn.safetensors",
                  type="flux"),
        "3": node("CLIPTextEncode", text="a photo of a cat", clip=["2", 0]),
        "4": node("FluxGuidance", conditioning=["3", 0], guidance=3.5),
        "5": node("ConditioningZeroOut", conditioning=["3", 0]),
        "6": node("EmptySD3LatentImage", width=64, height=64, batch_size=1),
    }


def flux() -> tuple[dict, dict[str, str]]:
    prompt = flux_start()
    patches = {
        "flux_slg_dit": node("SkipLayerGuidanceDiT", double_layers="0", single_layers="0", scale=3.0,
                             start_percent=0.0, end_percent=1.0, rescaling_scale=0.0),
        "flux_slg_dit_simple": node("SkipLayerGuidanceDiTSimple", double_layers="", single_layers="0",
                                    start_percent=0.0, end_percent=1.0),
    }
    default = {"steps": 2, "cfg": 1.0, "sampler_name": "euler", "scheduler": "simple", "positive": ["4", 0],
               "negative": ["5", 0]}
    sampling = {"default": default, "flux_slg_dit_simple": {**default, "cfg": 2.0}}
    return prompt, _branches(prompt, patches, sampling, ["6", 0])


def record(oracle: Path, flow: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="kiln-record-slg-") as scratch:
        folders = {kind: kind for kind in ("checkpoints", "diffusion_models", "text_encoders")}
        with running_oracle(oracle, Path(scratch), folders, base_path=flow) as url:
            info = object_info(url, NODES)
            latents, recorded = record_families(url, {"sd3": sd3(), "flux": flux()})
    write_recording(OUT, latents, recorded, info)


if __name__ == "__main__":
    flow_main(record, __doc__)
