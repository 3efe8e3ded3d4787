"""Record ComfyUI 0.3.64's final latents for FLUX.1 Kontext's reference latents (ReferenceLatent,
FluxKontextMultiReferenceLatentMethod) on the reduced reference FLUX.1-dev (tests/fixtures/comfyui's flow files:
KILN_FLOW_REF, built by make_flow_checkpoints.py), and the nodes' /object_info entries.

    flock /tmp/kiln-heavy.lock python tools/oracle/record_kontext.py --oracle /root/.cache/kiln-oracle \\
        --flow $KILN_FLOW_REF

One prompt: "a photo of a cat" through CLIP-L and the fp8 T5-XXL, two pictures (64x48 and 32x64, the fixture's
`pictures()`) VAE-encoded as references; five branches (64x64, 2 euler steps, FluxGuidance 3.5, SaveLatent): one
reference at cfg 1; the same with the reference on the zeroed negative too at cfg 2 (cond and uncond batched);
two references placed by "offset", "index" and "uxo/uno". Writes tests/fixtures/comfyui_nodes/kontext/:
workflow.json ({"workflow", "cases"}), latents.safetensors, object_info.json.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from oracle_server import flow_main, object_info, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_nodes"
OUT = FIXTURES / "kontext"
NODES = ("ReferenceLatent", "FluxKontextMultiReferenceLatentMethod")
PICTURES = ("kiln-kontext-a.png", "kiln-kontext-b.png")


def workflow() -> tuple[dict, dict[str, str]]:
    def node(class_type: str, **inputs: object) -> dict:
        return {"class_type": class_type, "inputs": inputs}

    prompt = {
        "1": node("DualCLIPLoader", clip_name1="ref-clip_l.safetensors", clip_name2="ref-t5xxl_fp8_e4m3fn.safetensors",
                  type="flux"),
        "2": node("UNETLoader", unet_name="ref-flux-dev.safetensors", weight_dtype="default"),
        "3": node("VAELoader", vae_name="ref-vae16.safetensors"),
        "4": node("CLIPTextEncode", text="a photo of a cat", clip=["1", 0]),
        "5": node("LoadImage", image=PICTURES[0]),
        "6": node("VAEEncode", pixels=["5", 0], vae=["3", 0]),
        "7": node("LoadImage", image=PICTURES[1]),
        "8": node("VAEEncode", pixels=["7", 0], vae=["3", 0]),
        "9": node("ReferenceLatent", conditioning=["4", 0], latent=["6", 0]),
        "10": node("ReferenceLatent", conditioning=["9", 0], latent=["8", 0]),
        "11": node("FluxKontextMultiReferenceLatentMethod", conditioning=["10", 0],
                   reference_latents_method="index"),
        "12": node("FluxKontextMultiReferenceLatentMethod", conditioning=["10", 0],
                   reference_latents_method="uxo/uno"),
        "13": node("ConditioningZeroOut", conditioning=["4", 0]),
        "14": node("ReferenceLatent", conditioning=["13", 0], latent=["6", 0]),
        "15": node("EmptySD3LatentImage", width=64, height=64, batch_size=1),
    }
    branches = {"one_reference": (["9", 0], ["13", 0], 1.0), "one_reference_cfg2": (["9", 0], ["14", 0], 2.0),
                "two_offset": (["10", 0], ["13", 0], 1.0), "two_index": (["11", 0], ["13", 0], 1.0),
                "two_uxo": (["12", 0], ["13", 0], 1.0)}
    cases = {}
    for number, (case, (positive, negative, cfg)) in enumerate(branches.items()):
        guidance, sampler, save = (str(100 + 10 * number + offset) for offset in range(3))
        prompt[guidance] = node("FluxGuidance", conditioning=positive, guidance=3.5)
        prompt[sampler] = node("KSampler", model=["2", 0], seed=42, steps=2, cfg=cfg, sampler_name="euler",
                               scheduler="simple", positive=[guidance, 0], negative=negative,
                               latent_image=["15", 0], denoise=1.0)
        prompt[save] = node("SaveLatent", samples=[sampler, 0], filename_prefix=f"kiln_kontext_{case}")
        cases[case] = save
    return prompt, cases


def record(oracle: Path, flow: Path) -> None:
    sys.path.insert(0, str(FIXTURES))
    import make_kontext_pictures

    prompt, cases = workflow()
    with tempfile.TemporaryDirectory(prefix="kiln-record-kontext-") as scratch:
        scratch_path = Path(scratch)
        (scratch_path / "input").mkdir()
        for name, picture in zip(PICTURES, make_kontext_pictures.pictures(), strict=True):
            picture.save(scratch_path / "input" / name)
        folders = {kind: kind for kind in ("diffusion_models", "text_encoders", "vae")}
        with running_oracle(oracle, scratch_path, folders, base_path=flow, input_dir=scratch_path / "input") as url:
            info = object_info(url, NODES)
            latents = saved_latents(url, run(url, prompt), cases)
    write_recording(OUT, latents, {"workflow": prompt, "cases": cases}, info, workflows_name="workflow.json")


if __name__ == "__main__":
    flow_main(record, __doc__)
