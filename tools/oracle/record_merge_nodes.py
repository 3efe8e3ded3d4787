"""Record the files ComfyUI 0.3.64 saves from merged models (issue 18: ModelMergeSimple, ModelMergeBlocks,
ModelMergeSD1, CLIPMergeSimple, CLIPMergeSubtract, CLIPMergeAdd, CheckpointSave,
ModelSave, CLIPSave, VAESave) on the reference SD1.5 checkpoint, as digests, and the merge nodes' /object_info.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_merge_nodes.py \\
        --oracle /root/.cache/kiln-oracle --checkpoint $KILN_REF_SD15

The second model is the checkpoint with a rank-1 LoRA on every UNet convolution and linear weight and on two
layers of each CLIP-L layer (tests/fixtures/comfyui_nodes/merging/merge_fixture.py builds it from the checkpoint's
header). One prompt, every merge a branch from one CheckpointLoaderSimple and one LoraLoader:

- "simple": ModelMergeSimple and CLIPMergeSimple at 0.3, saved with the VAE by CheckpointSave;
- "blocks": ModelMergeBlocks (input 0.2, middle 0.55, out 0.85), then ModelMergeSD1 of that with the second model
  (30 distinct ratios), saved by ModelSave;
- "clip": CLIPMergeAdd of CLIPMergeSubtract(second, first, 0.7), saved by CLIPSave; "vae": VAESave. (Add and
  Subtract take the same path for models as for CLIPs; on the 3.4 GB UNet they would double the replay's time.)

ComfyUI's files are read from the oracle's output folder and kept as digests (`merge_fixture.digest`: every
tensor's name, dtype, shape, sums and 48 sampled values) in tests/fixtures/comfyui_nodes/merging/: workflow.json,
files.json ({case: {"path", "metadata", "tensors"}}), digests.safetensors, object_info.json.

`--load-back FILE` instead starts the oracle with FILE (a Kiln-saved checkpoint) as checkpoints/merged.safetensors
and ComfyUI's own saved "simple" file, samples both (64x64, 2 steps) and prints the largest latent difference.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path

from oracle_server import object_info, running_oracle
from record_loader_nodes import download, run  # this folder's HTTP helpers (the script's folder is on sys.path)
from safetensors.torch import save_file

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_nodes" / "merging"
LORA_NAME = "kiln-merge-lora.safetensors"
NODES = ["ModelMergeSimple", "ModelMergeBlocks", "ModelMergeSubtract", "ModelMergeAdd", "CLIPMergeSimple",
         "CLIPMergeSubtract", "CLIPMergeAdd", "CLIPSave", "VAESave", "ModelSave", "CheckpointSave", "ModelMergeSD1",
         "ModelMergeSD2", "ModelMergeSDXL", "ModelMergeSD3_2B", "ModelMergeAuraflow", "ModelMergeFlux1",
         "ModelMergeSD35_Large", "ModelMergeMochiPreview", "ModelMergeLTXV", "ModelMergeCosmos7B",
         "ModelMergeCosmos14B", "ModelMergeWAN2_1", "ModelMergeCosmosPredict2_2B", "ModelMergeCosmosPredict2_14B",
         "ModelMergeQwenImage"]
SD1_BLOCKS = (["time_embed.", "label_emb."] + [f"input_blocks.{i}." for i in range(12)]
              + [f"middle_block.{i}." for i in range(3)] + [f"output_blocks.{i}." for i in range(12)] + ["out."])
# The files each case saves, under the output folder (CLIPSave adds the text encoder's name).
SAVED = {"simple": "kiln/simple_00001_.safetensors", "blocks": "kiln/blocks_00001_.safetensors",
         "clip": "kiln/clip_clip_l_00001_.safetensors", "vae": "kiln/vae_00001_.safetensors"}


def merge_fixture():
    spec = importlib.util.spec_from_file_location("merge_fixture", OUT / "merge_fixture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def workflow() -> dict:
    sd1_ratios = {prefix: round(0.05 + 0.03 * index, 2) for index, prefix in enumerate(SD1_BLOCKS)}
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": LORA_NAME,
                                                      "strength_model": 1.0, "strength_clip": 1.0}},
        "20": {"class_type": "ModelMergeSimple", "inputs": {"model1": ["4", 0], "model2": ["10", 0], "ratio": 0.3}},
        "21": {"class_type": "CLIPMergeSimple", "inputs": {"clip1": ["4", 1], "clip2": ["10", 1], "ratio": 0.3}},
        "30": {"class_type": "CheckpointSave", "inputs": {"model": ["20", 0], "clip": ["21", 0], "vae": ["4", 2],
                                                          "filename_prefix": "kiln/simple"}},
        "22": {"class_type": "ModelMergeBlocks", "inputs": {"model1": ["4", 0], "model2": ["10", 0], "input": 0.2,
                                                            "middle": 0.55, "out": 0.85}},
        "23": {"class_type": "ModelMergeSD1", "inputs": {"model1": ["22", 0], "model2": ["10", 0], **sd1_ratios}},
        "31": {"class_type": "ModelSave", "inputs": {"model": ["23", 0], "filename_prefix": "kiln/blocks"}},
        "26": {"class_type": "CLIPMergeSubtract", "inputs": {"clip1": ["10", 1], "clip2": ["4", 1],
                                                             "multiplier": 0.7}},
        "27": {"class_type": "CLIPMergeAdd", "inputs": {"clip1": ["4", 1], "clip2": ["26", 0]}},
        "32": {"class_type": "CLIPSave", "inputs": {"clip": ["27", 0], "filename_prefix": "kiln/clip"}},
        "33": {"class_type": "VAESave", "inputs": {"vae": ["4", 2], "filename_prefix": "kiln/vae"}},
    }


def sampling_workflow(checkpoint: str, prefix: str) -> dict:
    """ComfyUI's text-to-image graph on `checkpoint` (64x64, euler, 2 steps, cfg 7), its latent saved."""
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": checkpoint}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 2, "cfg": 7.0, "sampler_name": "euler",
                                                   "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
                                                   "positive": ["6", 0], "negative": ["7", 0],
                                                   "latent_image": ["5", 0]}},
        "9": {"class_type": "SaveLatent", "inputs": {"filename_prefix": prefix, "samples": ["3", 0]}},
    }


MODEL_FOLDERS = {"checkpoints": "checkpoints", "loras": "loras"}


def _scratch_models(scratch: Path, checkpoint: Path) -> None:
    (scratch / "checkpoints").mkdir(exist_ok=True)
    (scratch / "loras").mkdir(exist_ok=True)
    (scratch / "checkpoints" / "ref-sd15.safetensors").symlink_to(checkpoint.resolve())
    merge_fixture().write(checkpoint, scratch / "loras" / LORA_NAME)


def record(oracle: Path, checkpoint: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    fixture = merge_fixture()
    with tempfile.TemporaryDirectory(prefix="kiln-record-merges-", dir=os.environ.get("KILN_SCRATCH")) as scratch:
        scratch_path = Path(scratch)
        _scratch_models(scratch_path, checkpoint)
        with running_oracle(oracle, scratch_path, MODEL_FOLDERS) as url:
            info = object_info(url, NODES)
            started = time.monotonic()
            run(url, workflow())
            print(f"merges and saves: {time.monotonic() - started:.1f} s")
        files, digests = {}, {}
        for case, relative in SAVED.items():
            path = scratch_path / "output" / relative
            index, values = fixture.digest(path)
            files[case] = {"path": relative, **index}
            digests.update({f"{case}/{key}": value for key, value in values.items()})
            print(f"{case}: {relative}, {len(index['tensors'])} tensors, {path.stat().st_size / 1e9:.2f} GB")
    save_file(digests, str(OUT / "digests.safetensors"))
    (OUT / "workflow.json").write_text(json.dumps(workflow(), indent=1) + "\n")
    (OUT / "files.json").write_text(json.dumps(files, separators=(",", ":")) + "\n")
    (OUT / "object_info.json").write_text(json.dumps(info, indent=1) + "\n")


def load_back(oracle: Path, checkpoint: Path, kiln_file: Path) -> None:
    """Sample Kiln's saved checkpoint and ComfyUI's own save of the same merge on the oracle; print the
    difference."""
    from safetensors.numpy import load as load_safetensors_bytes

    with tempfile.TemporaryDirectory(prefix="kiln-merge-load-back-", dir=os.environ.get("KILN_SCRATCH")) as scratch:
        scratch_path = Path(scratch)
        _scratch_models(scratch_path, checkpoint)
        (scratch_path / "checkpoints" / "kiln-merged.safetensors").symlink_to(kiln_file.resolve())
        with running_oracle(oracle, scratch_path, MODEL_FOLDERS) as url:
            simple_branch = {node: entry for node, entry in workflow().items() if node in ("4", "10", "20", "21", "30")}
            run(url, simple_branch)  # ComfyUI's own file of the same merge, output/kiln/simple_00001_
            (scratch_path / "checkpoints" / "comfy-merged.safetensors").symlink_to(
                scratch_path / "output" / SAVED["simple"])
            latents = {}
            for name in ("kiln-merged", "comfy-merged"):
                outputs = run(url, sampling_workflow(f"{name}.safetensors", f"kiln/{name}"))
                latents[name] = load_safetensors_bytes(download(url, outputs["9"]["latents"][0]))["latent_tensor"]
        difference = abs(latents["kiln-merged"] - latents["comfy-merged"]).max()
        print(f"ComfyUI sampled Kiln's file: latent max |x| {abs(latents['comfy-merged']).max():.4g}, "
              f"largest difference from ComfyUI's own file {difference:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oracle", type=Path, required=True, help="the oracle folder (ComfyUI/ and venv/)")
    parser.add_argument("--checkpoint", type=Path, required=True, help="the reference SD1.5 checkpoint")
    parser.add_argument("--load-back", type=Path, help="a Kiln-saved merged checkpoint to sample on the oracle")
    options = parser.parse_args()
    if options.load_back:
        load_back(options.oracle, options.checkpoint, options.load_back)
    else:
        record(options.oracle, options.checkpoint)


if __name__ == "__main__":
    main()
