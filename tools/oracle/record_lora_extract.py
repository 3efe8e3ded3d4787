"""Record what ComfyUI 0.3.64's LoraSave extracts from the reference SD1.5 checkpoint with a LoRA on it, and the
final latent that the extracted LoRAs give when loaded back, and LoraSave's /object_info entry.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_lora_extract.py --oracle /root/.cache/kiln-oracle \\
        --checkpoint $KILN_REF_SD15

The source LoRA is the hooks fixtures' kiln-hook-lora-a (tests/fixtures/comfyui_nodes/hooks/make_hook_loras.py:
rank 4 on the UNet's attention projections and CLIP-L's query projections, built from its seed). The extraction
prompt takes ModelMergeSubtract / CLIPMergeSubtract of the LoRA'd and the plain checkpoint and saves the model's
difference whole (full_diff) and the text encoder's at rank 4 (standard), both with bias_diff. The second prompt
loads both extracted files on the plain checkpoint (LoraLoader: model only, then clip only) and samples (64x64,
euler, normal, 2 steps, cfg 7); a branch with the source LoRA itself shows how close the extraction comes. Writes
tests/fixtures/comfyui_nodes/lora_extract/: workflows.json ({"extract", "use": {"workflow", "cases"}}),
latents.safetensors, extracted.json (each extracted file's keys, and per text-encoder layer the Frobenius norm of
up @ down), object_info.json.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from oracle_server import object_info, reference_main, reference_scratch, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)
from safetensors.numpy import load_file

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "lora_extract"
HOOK_LORAS = REPO / "tests" / "fixtures" / "comfyui_nodes" / "hooks"
SOURCE = "kiln-hook-lora-a.safetensors"
EXTRACTED = {"model": "kiln_extract_model_00001_.safetensors", "clip": "kiln_extract_clip_00001_.safetensors"}


def node(class_type: str, **inputs: object) -> dict:
    return {"class_type": class_type, "inputs": inputs}


def extract_prompt() -> dict:
    return {
        "1": node("CheckpointLoaderSimple", ckpt_name="ref-sd15.safetensors"),
        "2": node("LoraLoader", model=["1", 0], clip=["1", 1], lora_name=SOURCE, strength_model=1.0,
                  strength_clip=1.0),
        "3": node("ModelMergeSubtract", model1=["2", 0], model2=["1", 0], multiplier=1.0),
        "4": node("CLIPMergeSubtract", clip1=["2", 1], clip2=["1", 1], multiplier=1.0),
        "5": node("LoraSave", filename_prefix="loras/kiln_extract_model", rank=8, lora_type="full_diff",
                  bias_diff=True, model_diff=["3", 0]),
        "6": node("LoraSave", filename_prefix="loras/kiln_extract_clip", rank=4, lora_type="standard",
                  bias_diff=True, text_encoder_diff=["4", 0]),
    }


def use_prompt() -> tuple[dict, dict[str, str]]:
    prompt = {
        "1": node("CheckpointLoaderSimple", ckpt_name="ref-sd15.safetensors"),
        "2": node("LoraLoader", model=["1", 0], clip=["1", 1], lora_name=EXTRACTED["model"], strength_model=1.0,
                  strength_clip=0.0),
        "3": node("LoraLoader", model=["2", 0], clip=["2", 1], lora_name=EXTRACTED["clip"], strength_model=0.0,
                  strength_clip=1.0),
        "4": node("LoraLoader", model=["1", 0], clip=["1", 1], lora_name=SOURCE, strength_model=1.0,
                  strength_clip=1.0),
        "5": node("EmptyLatentImage", width=64, height=64, batch_size=1),
    }
    cases = {}
    for number, (case, loader) in enumerate((("extracted", "3"), ("source", "4"))):
        positive, negative, sampler, save = (str(100 + 10 * number + offset) for offset in range(4))
        prompt[positive] = node("CLIPTextEncode", text="a photo of a cat", clip=[loader, 1])
        prompt[negative] = node("CLIPTextEncode", text="blurry", clip=[loader, 1])
        prompt[sampler] = node("KSampler", model=[loader, 0], seed=42, steps=2, cfg=7.0, sampler_name="euler",
                               scheduler="normal", positive=[positive, 0], negative=[negative, 0],
                               latent_image=["5", 0], denoise=1.0)
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_lora_extract_{case}")
        cases[case] = save
    return prompt, cases


def describe(folder: Path) -> dict:
    """Each extracted file's sorted keys; per low-rank layer of the text-encoder file, ||up @ down||."""
    described: dict = {}
    for kind, name in EXTRACTED.items():
        tensors = load_file(str(folder / name))
        described[kind] = {"keys": sorted(tensors)}
        if kind == "clip":
            described[kind]["norms"] = {
                key[:-len(".lora_up.weight")]: float(np.linalg.norm(
                    tensors[key].astype(np.float32) @ tensors[key.replace("lora_up", "lora_down")].astype(np.float32)))
                for key in sorted(tensors) if key.endswith(".lora_up.weight")}
    return described


def record(oracle: Path, checkpoint: Path) -> None:
    sys.path.insert(0, str(HOOK_LORAS))
    import make_hook_loras

    use, cases = use_prompt()
    with tempfile.TemporaryDirectory(prefix="kiln-record-lora-extract-") as scratch:
        scratch_path = Path(scratch)
        make_hook_loras.build(checkpoint, scratch_path / "loras")
        folders = {**reference_scratch(scratch_path, checkpoint), "loras": "loras"}
        with running_oracle(oracle, scratch_path, folders) as url:
            info = object_info(url, ["LoraSave"])
            run(url, extract_prompt())
            for name in EXTRACTED.values():
                shutil.copy(scratch_path / "output" / "loras" / name, scratch_path / "loras" / name)
            latents = saved_latents(url, run(url, use), cases)
        extracted = describe(scratch_path / "loras")
    write_recording(OUT, latents, {"extract": {"workflow": extract_prompt()}, "use": {"workflow": use, "cases": cases}},
                    info)
    (OUT / "extracted.json").write_text(json.dumps(extracted, indent=0) + "\n")


if __name__ == "__main__":
    reference_main(record, __doc__)
