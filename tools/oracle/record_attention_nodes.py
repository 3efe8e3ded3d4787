"""Record ComfyUI 0.3.64's final latents for the attention-level patch nodes of issue 18 (UNetSelfAttentionMultiply,
UNetCrossAttentionMultiply, CLIPAttentionMultiply, UNetTemporalAttentionMultiply, HyperTile, SelfAttentionGuidance,
PerturbedAttentionGuidance) on the reference SD1.5 checkpoint, and their /object_info entries.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_attention_nodes.py \\
        --oracle /root/.cache/kiln-oracle --checkpoint $KILN_REF_SD15

It starts the oracle (../shared/reference/oracle.md) on a free port with a scratch folder whose checkpoints/
holds the checkpoint as ref-sd15.safetensors, runs one prompt (every case a branch from one CheckpointLoaderSimple,
STEPS steps, each branch ending in SaveLatent), stops it, and writes to tests/fixtures/comfyui_nodes/attention/:
workflows.json ({"attention": {"workflow", "cases": {case: SaveLatent node id}}}), latents.safetensors
({case: latent}) and object_info.json. Standard library, numpy and safetensors.

Image sizes: 64x64 where the node works at any size. HyperTile and SelfAttentionGuidance get 128x128 (a 16x16
latent): HyperTile draws its tiling from torch's global generator only where the latent side has at least three
divisors of the tile size or more (at 8x8 the choice is fixed), and SAG lays out the middle block's attention map
(the latent / 8) by a divisor search that finds nothing for a 1x1 map, so ComfyUI fails at 64x64.
"""

from __future__ import annotations

from pathlib import Path

from oracle_server import record_reference_families, reference_main

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "attention"
NODES = ["UNetSelfAttentionMultiply", "UNetCrossAttentionMultiply", "CLIPAttentionMultiply",
         "UNetTemporalAttentionMultiply", "HyperTile", "SelfAttentionGuidance", "PerturbedAttentionGuidance"]
SEED = 42
STEPS = 2  # as in record_patch_guider_nodes.py: the replay's CPU budget


def attention_family() -> tuple[dict, dict[str, str]]:
    """Each patch between the checkpoint and its own KSampler (euler, normal, STEPS steps, cfg 7); the CLIP patch
    between the checkpoint and its own pair of text encodes."""
    workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "10": {"class_type": "EmptyLatentImage", "inputs": {"width": 128, "height": 128, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "20": {"class_type": "CLIPAttentionMultiply", "inputs": {"clip": ["4", 1], "q": 1.2, "k": 0.8, "v": 1.1,
                                                                  "out": 0.9}},
        "21": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["20", 0]}},
        "22": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["20", 0]}},
    }
    factors = {"q": 1.2, "k": 0.8, "v": 1.1, "out": 0.9}
    model_patches = {
        "self_attention_multiply": ("UNetSelfAttentionMultiply", factors, "5"),
        "cross_attention_multiply": ("UNetCrossAttentionMultiply", {"q": 0.9, "k": 1.2, "v": 0.8, "out": 1.1}, "5"),
        "temporal_attention_multiply": ("UNetTemporalAttentionMultiply",
                                        {"self_structural": 0.8, "self_temporal": 2.0, "cross_structural": 1.2,
                                         "cross_temporal": 3.0}, "5"),
        "perturbed_attention_guidance": ("PerturbedAttentionGuidance", {"scale": 3.0}, "5"),
        "hypertile": ("HyperTile", {"tile_size": 32, "swap_size": 3, "max_depth": 1, "scale_depth": False}, "10"),
        "hypertile_scale_depth": ("HyperTile", {"tile_size": 32, "swap_size": 3, "max_depth": 1,
                                                "scale_depth": True}, "10"),
        "self_attention_guidance": ("SelfAttentionGuidance", {"scale": 0.5, "blur_sigma": 2.0}, "10"),
    }
    cases: dict[str, str] = {}

    def branch(index: int, case: str, model: list, positive: list, negative: list, latent: str) -> None:
        sampler, save = str(200 + index), str(300 + index)
        workflow[sampler] = {"class_type": "KSampler", "inputs": {
            "seed": SEED, "steps": STEPS, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
            "model": model, "positive": positive, "negative": negative, "latent_image": [latent, 0]}}
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"filename_prefix": f"kiln/{case}",
                                                                 "samples": [sampler, 0]}}
        cases[case] = save

    for index, (case, (class_type, inputs, latent)) in enumerate(model_patches.items()):
        patch = str(100 + index)
        workflow[patch] = {"class_type": class_type, "inputs": {"model": ["4", 0], **inputs}}
        branch(index, case, [patch, 0], ["6", 0], ["7", 0], latent)
    branch(len(model_patches), "clip_attention_multiply", ["4", 0], ["21", 0], ["22", 0], "5")
    return workflow, cases


def families() -> dict[str, tuple[dict, dict[str, str]]]:
    return {"attention": attention_family()}


def record(oracle: Path, checkpoint: Path) -> None:
    record_reference_families(oracle, checkpoint, families(), NODES, OUT)


if __name__ == "__main__":
    reference_main(record, __doc__)
