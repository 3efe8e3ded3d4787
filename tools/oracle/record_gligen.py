"""Record ComfyUI 0.3.64's final latents for GLIGEN (GLIGENLoader, GLIGENTextBoxApply) on the reference SD1.5 with
the random GLIGEN file of tests/fixtures/comfyui_nodes/make_gligen_file.py, and the nodes' /object_info entries.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_gligen.py --oracle /root/.cache/kiln-oracle \\
        --checkpoint $KILN_REF_SD15

One prompt, two branches from one checkpoint loader (64x64, a 2-step euler KSampler at cfg 7, SaveLatent): one box,
and two boxes chained (the second node adds to the first's). Writes tests/fixtures/comfyui_nodes/gligen/:
workflow.json ({"workflow", "cases": {case: SaveLatent node}}), latents.safetensors, object_info.json.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from oracle_server import object_info, reference_main, reference_scratch, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_nodes"
OUT = FIXTURES / "gligen"
GLIGEN_FILE = "kiln-gligen-sd15.safetensors"
NODES = ("GLIGENLoader", "GLIGENTextBoxApply")


def workflow() -> tuple[dict, dict[str, str]]:
    def node(class_type: str, **inputs: object) -> dict:
        return {"class_type": class_type, "inputs": inputs}

    def sample(positive: list) -> dict:
        return node("KSampler", model=["1", 0], seed=3, steps=2, cfg=7.0, sampler_name="euler", scheduler="normal",
                    positive=positive, negative=["4", 0], latent_image=["5", 0], denoise=1.0)

    prompt = {
        "1": node("CheckpointLoaderSimple", ckpt_name="ref-sd15.safetensors"),
        "2": node("GLIGENLoader", gligen_name=GLIGEN_FILE),
        "3": node("CLIPTextEncode", text="a park in the morning", clip=["1", 1]),
        "4": node("CLIPTextEncode", text="blurry", clip=["1", 1]),
        "5": node("EmptyLatentImage", width=64, height=64, batch_size=1),
        "6": node("GLIGENTextBoxApply", conditioning_to=["3", 0], clip=["1", 1], gligen_textbox_model=["2", 0],
                  text="a red ball", width=32, height=24, x=8, y=16),
        "7": node("GLIGENTextBoxApply", conditioning_to=["6", 0], clip=["1", 1], gligen_textbox_model=["2", 0],
                  text="a small dog", width=24, height=40, x=40, y=0),
        "10": sample(["6", 0]),
        "11": node("SaveLatent", samples=["10", 0], filename_prefix="kiln_gligen_one"),
        "12": sample(["7", 0]),
        "13": node("SaveLatent", samples=["12", 0], filename_prefix="kiln_gligen_two"),
    }
    return prompt, {"one_box": "11", "two_boxes": "13"}


def record(oracle: Path, checkpoint: Path) -> None:
    sys.path.insert(0, str(FIXTURES))
    import make_gligen_file

    prompt, cases = workflow()
    with tempfile.TemporaryDirectory(prefix="kiln-record-gligen-") as scratch:
        scratch_path = Path(scratch)
        make_gligen_file.build(scratch_path / "gligen" / GLIGEN_FILE)
        folders = {**reference_scratch(scratch_path, checkpoint), "gligen": "gligen"}
        with running_oracle(oracle, scratch_path, folders) as url:
            info = object_info(url, NODES)
            latents = saved_latents(url, run(url, prompt), cases)
    write_recording(OUT, latents, {"workflow": prompt, "cases": cases}, info, workflows_name="workflow.json")


if __name__ == "__main__":
    reference_main(record, __doc__)
