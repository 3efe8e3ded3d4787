"""Record ComfyUI 0.3.64's final latents for the UNet-level patch nodes of issue 18 (FreeU, FreeU_V2 and
PatchModelAddDownscale, Kohya Deep Shrink) on the reference SD1.5 checkpoint, and their /object_info entries.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_unet_patch_nodes.py \\
        --oracle /root/.cache/kiln-oracle --checkpoint $KILN_REF_SD15

One prompt: every case is a branch from one CheckpointLoaderSimple through its patch node to its own KSampler
(euler, STEPS steps, cfg 7) and a SaveLatent, on 128x128 images (a 16x16 latent): there the deepest level is
2x2, so FreeU's filter has frequencies to act on and FreeU_V2's normalisation of the channel mean is defined (at
1x1 it divides 0 by 0), and Deep Shrink's shrunk levels are still 2x2 or more. One more branch (one step) runs the test pack's
KilnTestBlockPatchProbe (tests/e2e/custom_nodes/kiln-test-nodes/block_patches.py, copied into the oracle's
custom_nodes): what a pack's input/output block patches are given on ComfyUI. Writes
tests/fixtures/comfyui_nodes/unet_patches/: workflows.json ({"unet_patches": {"workflow", "cases": {case:
SaveLatent node id}, "probes": {probe: report node id}}}), latents.safetensors, probe_notes.json ({probe: notes})
and object_info.json. The oracle is started and stopped as in record_patch_guider_nodes.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from oracle_server import object_info, running_oracle, saved_latents
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)
from safetensors.numpy import save_file

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "unet_patches"
PROBE = REPO / "tests" / "e2e" / "custom_nodes" / "kiln-test-nodes" / "block_patches.py"
NODES = ["FreeU", "FreeU_V2", "PatchModelAddDownscale"]
SEED = 42
STEPS = 2  # as in record_patch_guider_nodes.py: the replay's time budget
SHRINK = {"block_number": 3, "downscale_factor": 2.0, "start_percent": 0.0, "end_percent": 1.0,
          "downscale_after_skip": True, "downscale_method": "bicubic", "upscale_method": "bicubic"}
CASES = {
    # case: (class_type, inputs, image side)
    "freeu": ("FreeU", {"b1": 1.1, "b2": 1.2, "s1": 0.9, "s2": 0.2}, 128),
    "freeu_v2": ("FreeU_V2", {"b1": 1.3, "b2": 1.4, "s1": 0.9, "s2": 0.2}, 128),
    # active on both steps
    "deep_shrink": ("PatchModelAddDownscale", SHRINK, 128),
    # the skip kept at the shrunk size; bislerp down, nearest-exact up; on the first step only (end_percent 0.35
    # is past the second step's sigma)
    "deep_shrink_before_skip": ("PatchModelAddDownscale",
                                {**SHRINK, "end_percent": 0.35, "downscale_after_skip": False,
                                 "downscale_method": "bislerp", "upscale_method": "nearest-exact"}, 128),
    # a later block, a factor that rounds (4x4 -> 3x3), area down, bilinear up
    "deep_shrink_block6": ("PatchModelAddDownscale",
                           {**SHRINK, "block_number": 6, "downscale_factor": 1.5, "downscale_method": "area",
                            "upscale_method": "bilinear"}, 128),
}


def workflow_and_cases() -> tuple[dict, dict[str, str], dict[str, str]]:
    workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    }
    latents = {}
    cases = {}
    for index, (case, (class_type, inputs, side)) in enumerate(CASES.items()):
        if side not in latents:
            latents[side] = str(10 + len(latents))
            workflow[latents[side]] = {"class_type": "EmptyLatentImage",
                                       "inputs": {"width": side, "height": side, "batch_size": 1}}
        patch, sampler, save = str(100 + index), str(200 + index), str(300 + index)
        workflow[patch] = {"class_type": class_type, "inputs": {"model": ["4", 0], **inputs}}
        workflow[sampler] = {"class_type": "KSampler", "inputs": {
            "seed": SEED, "steps": STEPS, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1.0, "model": [patch, 0], "positive": ["6", 0], "negative": ["7", 0],
            "latent_image": [latents[side], 0]}}
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"filename_prefix": f"kiln/{case}",
                                                                 "samples": [sampler, 0]}}
        cases[case] = save
    # The probe: one step on a 64x64 latent; its notes come from the first network call.
    workflow["20"] = {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
    workflow["400"] = {"class_type": "KilnTestBlockPatchProbe", "inputs": {"model": ["4", 0], "probe": "sd15"}}
    workflow["401"] = {"class_type": "KSampler", "inputs": {
        "seed": SEED, "steps": 1, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
        "model": ["400", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["20", 0]}}
    workflow["402"] = {"class_type": "KilnTestBlockPatchReport", "inputs": {"samples": ["401", 0], "probe": "sd15"}}
    return workflow, cases, {"sd15": "402"}


def record(oracle: Path, checkpoint: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiln-record-unet-patches-") as scratch:
        scratch_path = Path(scratch)
        (scratch_path / "checkpoints").mkdir()
        (scratch_path / "checkpoints" / "ref-sd15.safetensors").symlink_to(checkpoint.resolve())
        (scratch_path / "custom_nodes").mkdir()
        shutil.copy(PROBE, scratch_path / "custom_nodes" / "kiln_block_patch_probe.py")
        with running_oracle(oracle, scratch_path, {"checkpoints": "checkpoints", "custom_nodes": "custom_nodes"}) \
                as url:
            info = object_info(url, NODES)
            workflow, cases, probes = workflow_and_cases()
            started = time.monotonic()
            outputs = run(url, workflow)
            latents = saved_latents(url, outputs, cases)
            for case, latent in latents.items():
                print(f"{case}: shape {latent.shape}, max |x| {abs(latent).max():.4g}")
            notes = {probe: outputs[node]["notes"] for probe, node in probes.items()}
            print(f"unet_patches: {time.monotonic() - started:.1f} s; probe notes: {len(notes['sd15'])}")
    save_file(latents, str(OUT / "latents.safetensors"))
    recorded = {"unet_patches": {"workflow": workflow, "cases": cases, "probes": probes}}
    (OUT / "probe_notes.json").write_text(json.dumps(notes, indent=None) + "\n")
    (OUT / "workflows.json").write_text(json.dumps(recorded, indent=1) + "\n")
    (OUT / "object_info.json").write_text(json.dumps(info, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oracle", type=Path, required=True, help="the oracle folder (ComfyUI/ and venv/)")
    parser.add_argument("--checkpoint", type=Path, required=True, help="the reference SD1.5 checkpoint")
    options = parser.parse_args()
    record(options.oracle, options.checkpoint)


if __name__ == "__main__":
    main()
