"""Record ComfyUI 0.3.64's final latents for ModelComputeDtype on the reference SD1.5 checkpoint, and its
/object_info entry.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_compute_dtype.py --oracle /root/.cache/kiln-oracle \\
        --checkpoint $KILN_REF_SD15

One prompt, every case a branch of one CheckpointLoaderSimple (64x64, euler, normal, 4 steps, cfg 7, seed 42):
the model as loaded (`plain`, float32 weights on the CPU), and through ModelComputeDtype with each choice, plus
fp16 followed by fp32 (the later node's dtype wins). Both conditionings are zeroed (ConditioningZeroOut):
Kiln's CLIP agrees with ComfyUI's to float32 rounding, not bit for bit, and a one-ulp difference in the
context after its cast to fp16 grows over the 4 steps to 2.6 in the final fp16 latent (max |x| 272), more than
the fp16 latent's distance from the float32 one (1.7); with zero contexts the UNet's inputs are identical. The
plain branch shares its loader with the patched ones, so
it shows the clones leave the loaded model as it was. Writes tests/fixtures/comfyui_nodes/compute_dtype/:
workflows.json, latents.safetensors, object_info.json.
"""

from __future__ import annotations

from pathlib import Path

from oracle_server import record_reference_families, reference_main

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "compute_dtype"
# case -> the ModelComputeDtype choices applied in turn to the loaded model
CASES = {"compute_dtype_fp16": ("fp16",), "compute_dtype_bf16": ("bf16",), "compute_dtype_plain": (),
         "compute_dtype_fp32": ("fp32",), "compute_dtype_default": ("default",),
         "compute_dtype_fp16_then_fp32": ("fp16", "fp32")}


def compute_dtype_family() -> tuple[dict, dict[str, str]]:
    workflow = {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "8": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}},
        "9": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["7", 0]}},
    }
    cases = {}
    for number, (case, dtypes) in enumerate(CASES.items()):
        model = ["4", 0]
        for step, dtype in enumerate(dtypes):
            node = str(100 + 10 * number + 2 + step)
            workflow[node] = {"class_type": "ModelComputeDtype", "inputs": {"model": model, "dtype": dtype}}
            model = [node, 0]
        sampler, save = str(100 + 10 * number), str(100 + 10 * number + 1)
        workflow[sampler] = {"class_type": "KSampler", "inputs": {
            "model": model, "seed": 42, "steps": 4, "cfg": 7.0, "sampler_name": "euler", "scheduler": "normal",
            "positive": ["8", 0], "negative": ["9", 0], "latent_image": ["5", 0], "denoise": 1.0}}
        workflow[save] = {"class_type": "SaveLatent", "inputs": {"samples": [sampler, 0],
                                                                 "filename_prefix": f"kiln_{case}"}}
        cases[case] = save
    return workflow, cases


def record(oracle: Path, checkpoint: Path) -> None:
    record_reference_families(oracle, checkpoint, {"compute_dtype": compute_dtype_family()}, ["ModelComputeDtype"],
                              OUT)


if __name__ == "__main__":
    reference_main(record, __doc__)
