"""Record ComfyUI 0.3.64's final latents for TomePatchModel (Token Merging) on the reference SD1.5 checkpoint, and
its /object_info entry.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_tome.py --oracle /root/.cache/kiln-oracle \\
        --checkpoint $KILN_REF_SD15

One prompt, every case a branch of one CheckpointLoaderSimple (euler, normal, 2 steps, cfg 7, seed 42): ratio 0.3
at 64x64 (an 8x8 latent: 64 tokens at full resolution), 0.5 at 128x128, and 0.5 at 64x72, whose 9 latent rows
leave the last row outside the 2x2 cells. The destinations are drawn from torch's global generator, which
KSampler's noise preparation reseeds, so each branch's draws are fixed. Writes tests/fixtures/comfyui_nodes/tome/:
workflows.json, latents.safetensors, object_info.json.
"""

from __future__ import annotations

from pathlib import Path

from oracle_server import record_reference_families, reference_main

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "tome"
CASES = {"tome_ratio_0_3": (0.3, 64, 64), "tome_ratio_0_5_128": (0.5, 128, 128), "tome_ratio_0_5_64x72": (0.5, 64, 72)}


def tome_family() -> tuple[dict, dict[str, str]]:
    workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    }
    cases = {}
    for number, (case, (ratio, width, height)) in enumerate(CASES.items()):
        latent, patch, sampler, save = (str(100 + 10 * number + offset) for offset in range(4))
        workflow[latent] = {"class_type": "EmptyLatentImage", "inputs": {"width": width, "height": height,
                                                                         "batch_size": 1}}
        workflow[patch] = {"class_type": "TomePatchModel", "inputs": {"model": ["4", 0], "ratio": ratio}}
        workflow[sampler] = {"class_type": "KSampler", "inputs": {
            "model": [patch, 0], "seed": 42, "steps": 2, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
            "positive": ["6", 0], "negative": ["7", 0], "latent_image": [latent, 0], "denoise": 1.0}}
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"samples": [sampler, 0],
                                                                 "filename_prefix": f"kiln_{case}"}}
        cases[case] = save
    return workflow, cases


def record(oracle: Path, checkpoint: Path) -> None:
    record_reference_families(oracle, checkpoint, {"tome": tome_family()}, ["TomePatchModel"], OUT)


if __name__ == "__main__":
    reference_main(record, __doc__)
