"""Record ComfyUI 0.3.64's final latents for DifferentialDiffusion on the reference SD1.5 checkpoint, and its
/object_info entry.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_differential_diffusion.py \\
        --oracle /root/.cache/kiln-oracle --checkpoint $KILN_REF_SD15

One prompt: a flat 64x64 picture (EmptyImage) encoded by the checkpoint's VAE, with a noise mask that ramps from 0
at the left edge to 1 at 48 pixels (SolidMask, FeatherMask), sampled by KSampler (euler, normal, 4 steps, cfg 7,
denoise 0.9, seed 42) on the plain model (the mask alone: a hard inpainting mask) and through DifferentialDiffusion
at strength 1 and 0.5 (the mask thresholded by the steps' progress). Writes
tests/fixtures/comfyui_nodes/differential_diffusion/: workflows.json, latents.safetensors, object_info.json.
"""

from __future__ import annotations

from pathlib import Path

from oracle_server import record_reference_families, reference_main

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "differential_diffusion"
CASES = {"masked_plain": None, "differential_1_0": 1.0, "differential_0_5": 0.5}


def differential_family() -> tuple[dict, dict[str, str]]:
    workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "10": {"class_type": "EmptyImage", "inputs": {"width": 64, "height": 64, "batch_size": 1,
                                                       "color": 0x8040C0}},
        "11": {"class_type": "VAEEncode", "inputs": {"pixels": ["10", 0], "vae": ["4", 2]}},
        "12": {"class_type": "SolidMask", "inputs": {"value": 1.0, "width": 64, "height": 64}},
        "13": {"class_type": "FeatherMask", "inputs": {"mask": ["12", 0], "left": 48, "top": 0, "right": 0,
                                                        "bottom": 0}},
        "14": {"class_type": "SetLatentNoiseMask", "inputs": {"samples": ["11", 0], "mask": ["13", 0]}},
    }
    cases = {}
    for number, (case, strength) in enumerate(CASES.items()):
        patch, sampler, save = (str(100 + 10 * number + offset) for offset in range(3))
        model = ["4", 0]
        if strength is not None:
            workflow[patch] = {"class_type": "DifferentialDiffusion", "inputs": {"model": ["4", 0],
                                                                                 "strength": strength}}
            model = [patch, 0]
        workflow[sampler] = {"class_type": "KSampler", "inputs": {
            "model": model, "seed": 42, "steps": 4, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
            "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["14", 0], "denoise": 0.9}}
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"samples": [sampler, 0],
                                                                 "filename_prefix": f"kiln_{case}"}}
        cases[case] = save
    return workflow, cases


def record(oracle: Path, checkpoint: Path) -> None:
    record_reference_families(oracle, checkpoint, {"differential_diffusion": differential_family()},
                              ["DifferentialDiffusion"], OUT)


if __name__ == "__main__":
    reference_main(record, __doc__)
