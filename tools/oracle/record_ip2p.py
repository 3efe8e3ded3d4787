"""Record ComfyUI 0.3.64's final latent for InstructPixToPixConditioning on an SD1.5 instruct-pix2pix checkpoint
(the reference SD1.5 with 4 more UNet input channels, tests/fixtures/comfyui_nodes/make_ip2p_checkpoint.py) and
the node's /object_info entry.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_ip2p.py --oracle /root/.cache/kiln-oracle \\
        --checkpoint $KILN_REF_SD15

The oracle gets a scratch folder whose checkpoints/ holds ref-sd15-ip2p.safetensors and whose input/ holds the
fixture's 76x68 picture; one prompt (the picture through InstructPixToPixConditioning, a 2-step euler KSampler at
cfg 7, SaveLatent). Writes tests/fixtures/comfyui_nodes/ip2p/: workflow.json, latent.safetensors,
object_info.json.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from oracle_server import object_info, reference_main, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_nodes"
OUT = FIXTURES / "ip2p"
CHECKPOINT = "ref-sd15-ip2p.safetensors"
PICTURE = "kiln-ip2p.png"


def workflow() -> dict:
    def node(class_type: str, **inputs: object) -> dict:
        return {"class_type": class_type, "inputs": inputs}

    return {
        "1": node("CheckpointLoaderSimple", ckpt_name=CHECKPOINT),
        "2": node("CLIPTextEncode", text="make it snowy", clip=["1", 1]),
        "3": node("CLIPTextEncode", text="blurry", clip=["1", 1]),
        "4": node("LoadImage", image=PICTURE),
        "5": node("InstructPixToPixConditioning", positive=["2", 0], negative=["3", 0], vae=["1", 2],
                  pixels=["4", 0]),
        "6": node("KSampler", model=["1", 0], seed=5, steps=2, cfg=7.0, sampler_name="euler", scheduler="normal",
                  positive=["5", 0], negative=["5", 1], latent_image=["5", 2], denoise=1.0),
        "7": node("SaveLatent", samples=["6", 0], filename_prefix="kiln_ip2p"),
    }


def record(oracle: Path, reference: Path) -> None:
    sys.path.insert(0, str(FIXTURES))
    import make_ip2p_checkpoint

    with tempfile.TemporaryDirectory(prefix="kiln-record-ip2p-") as scratch:
        scratch_path = Path(scratch)
        make_ip2p_checkpoint.build(reference, scratch_path / "checkpoints" / CHECKPOINT)
        (scratch_path / "input").mkdir()
        make_ip2p_checkpoint.picture().save(scratch_path / "input" / PICTURE)
        with running_oracle(oracle, scratch_path, {"checkpoints": "checkpoints"},
                            input_dir=scratch_path / "input") as url:
            info = object_info(url, ["InstructPixToPixConditioning"])
            latent = saved_latents(url, run(url, workflow()), {"latent": "7"})["latent"]
    write_recording(OUT, {"latent": latent}, workflow(), info, latents_name="latent.safetensors",
                    workflows_name="workflow.json")


if __name__ == "__main__":
    reference_main(record, __doc__)
