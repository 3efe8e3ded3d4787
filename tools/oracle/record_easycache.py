"""Record ComfyUI 0.3.64's final latents for EasyCache and LazyCache on the reference SD1.5 checkpoint, with the
same run without a cache, and their /object_info entries.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_easycache.py --oracle /root/.cache/kiln-oracle \\
        --checkpoint $KILN_REF_SD15

One prompt, every case a branch of one CheckpointLoaderSimple (64x64, euler, normal, 12 steps, cfg 7, seed 42;
start_percent 0.15, end_percent 0.95). The thresholds are picked so that each cache reuses some steps but not all
(the oracle's verbose log says: EasyCache at 0.2 reuses 3 of 12 steps, LazyCache at 0.05 reuses 7 of 12), so the
cached latents differ from the uncached one. Writes tests/fixtures/comfyui_nodes/easycache/: workflows.json,
latents.safetensors, object_info.json.
"""

from __future__ import annotations

from pathlib import Path

from oracle_server import record_reference_families, reference_main

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "easycache"
# case: (cache node or None, reuse_threshold, verbose)
CASES = {"no_cache": (None, 0.0, False), "easycache_0_2": ("EasyCache", 0.2, False),
         "lazycache_0_05": ("LazyCache", 0.05, True)}


def easycache_family() -> tuple[dict, dict[str, str]]:
    workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    }
    cases = {}
    for number, (case, (node, threshold, verbose)) in enumerate(CASES.items()):
        cache, sampler, save = (str(100 + 10 * number + offset) for offset in range(3))
        model = ["4", 0]
        if node is not None:
            workflow[cache] = {"class_type": node, "inputs": {
                "model": ["4", 0], "reuse_threshold": threshold, "start_percent": 0.15, "end_percent": 0.95,
                "verbose": verbose}}
            model = [cache, 0]
        workflow[sampler] = {"class_type": "KSampler", "inputs": {
            "model": model, "seed": 42, "steps": 12, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
            "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0], "denoise": 1.0}}
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"samples": [sampler, 0],
                                                                 "filename_prefix": f"kiln_{case}"}}
        cases[case] = save
    return workflow, cases


def record(oracle: Path, checkpoint: Path) -> None:
    record_reference_families(oracle, checkpoint, {"easycache": easycache_family()}, ["EasyCache", "LazyCache"],
                              OUT)


if __name__ == "__main__":
    reference_main(record, __doc__)
