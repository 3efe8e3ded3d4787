"""Record ComfyUI 0.3.64's final latents for Wan 2.1 / 2.2 video workflows (issue 19) on reduced random Wan models
(tests/fixtures/comfyui_video/make_wan_files.py) and the Wan VAEs (make_wan_vae_files.py), through its HTTP API.

    python tools/oracle/record_wan_video.py --oracle /root/.cache/kiln-oracle

UMT5-XXL is built by ComfyUI at full size from a fixed config (a reduced file does not load there), so the text
conditioning comes from KilnTestConditioning (tests/e2e/custom_nodes/kiln-test-nodes/conditioning.py, copied into
the oracle's custom nodes): the same seeded tensor on both servers. The image-to-video cases take their CLIP vision
output from KilnTestClipVisionOutput the same way. The text encoder is compared on its own (tests/unit/test_umt5.py).

Cases (32x32 px, 5 frames: latents [1, 16, 2, 4, 4]; the 5B at 64x64: [1, 48, 2, 4, 4]), seed 42:
- t2v / t2v_uni_pc: EmptyHunyuanLatentVideo, ModelSamplingSD3 shift 8, KSampler 2 steps euler / 3 steps uni_pc
  (the templates' sampler), cfg 3;
- t2v_decoded: t2v's latent through VAEDecode then VAEEncode (the Wan 2.1 VAE on 5 frames, both ways);
- two_experts: Wan 2.2's two-expert run as its templates do it: KSamplerAdvanced on the high-noise expert for
  steps 0-2 of 4 returning the leftover noise, then on the low-noise expert for steps 2-4 without new noise;
- i2v: WanImageToVideo with a start image and a CLIP vision output on the I2V model (36 input channels, img_emb);
- flf2v: WanFirstLastFrameToVideo with start and end images and both CLIP vision outputs on the FLF2V model;
- fun_inpaint: WanFunInpaintToVideo (start and end images, the start's CLIP vision output) on the I2V model;
- ti2v_5b: Wan22ImageToVideoLatent with a start image (Wan 2.2 VAE) on the TI2V 5B model (48 channels), whose
  noise mask keeps the first latent frame;
- trimmed: TrimVideoLatent of t2v by 1 frame.
Writes tests/fixtures/comfyui_video/wan_e2e/: workflow.json ({"workflow", "cases"}), latents.safetensors,
object_info.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from oracle_server import object_info, running_oracle, saved_latents, write_recording
from record_loader_nodes import run  # this folder's HTTP helpers (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "tests" / "fixtures" / "comfyui_video" / "wan_e2e"
PACK = REPO / "tests" / "e2e" / "custom_nodes" / "kiln-test-nodes" / "conditioning.py"
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "comfyui_video"))
import make_wan_inputs  # noqa: E402

NODES = ["EmptyHunyuanLatentVideo", "WanImageToVideo", "WanFirstLastFrameToVideo", "WanFunInpaintToVideo",
         "Wan22ImageToVideoLatent", "TrimVideoLatent"]


def node(class_type: str, **inputs: object) -> dict:
    return {"class_type": class_type, "inputs": inputs}


def workflow() -> tuple[dict, dict[str, str]]:
    files = make_wan_inputs.FILES
    prompt = {
        "1": node("UNETLoader", unet_name=files["t2v"], weight_dtype="default"),
        "2": node("UNETLoader", unet_name=files["t2v_low_noise"], weight_dtype="default"),
        "3": node("UNETLoader", unet_name=files["i2v"], weight_dtype="default"),
        "4": node("UNETLoader", unet_name=files["flf2v"], weight_dtype="default"),
        "5": node("UNETLoader", unet_name=files["ti2v_5b"], weight_dtype="default"),
        "6": node("VAELoader", vae_name=files["vae21"]),
        "7": node("VAELoader", vae_name=files["vae22"]),
        "10": node("KilnTestConditioning", seed=1, tokens=12, width=4096, scale=0.5),
        "11": node("KilnTestConditioning", seed=2, tokens=7, width=4096, scale=0.5),
        "12": node("KilnTestClipVisionOutput", seed=3, tokens=257, width=1280, scale=1.0),
        "13": node("KilnTestClipVisionOutput", seed=4, tokens=257, width=1280, scale=1.0),
        "14": node("LoadImage", image=make_wan_inputs.START_PICTURE),
        "15": node("LoadImage", image=make_wan_inputs.END_PICTURE),
        "20": node("ModelSamplingSD3", model=["1", 0], shift=8.0),
        "21": node("ModelSamplingSD3", model=["1", 0], shift=5.0),
        "22": node("ModelSamplingSD3", model=["2", 0], shift=5.0),
        "23": node("ModelSamplingSD3", model=["3", 0], shift=8.0),
        "24": node("ModelSamplingSD3", model=["4", 0], shift=8.0),
        "25": node("ModelSamplingSD3", model=["5", 0], shift=8.0),
        "30": node("EmptyHunyuanLatentVideo", width=32, height=32, length=5, batch_size=1),
        "31": node("WanImageToVideo", positive=["10", 0], negative=["11", 0], vae=["6", 0], width=32, height=32,
                   length=5, batch_size=1, clip_vision_output=["12", 0], start_image=["14", 0]),
        "32": node("WanFirstLastFrameToVideo", positive=["10", 0], negative=["11", 0], vae=["6", 0], width=32,
                   height=32, length=5, batch_size=1, clip_vision_start_image=["12", 0],
                   clip_vision_end_image=["13", 0], start_image=["14", 0], end_image=["15", 0]),
        "34": node("WanFunInpaintToVideo", positive=["10", 0], negative=["11", 0], vae=["6", 0], width=32, height=32,
                   length=5, batch_size=1, clip_vision_output=["12", 0], start_image=["14", 0], end_image=["15", 0]),
        "33": node("Wan22ImageToVideoLatent", vae=["7", 0], width=64, height=64, length=5, batch_size=1,
                   start_image=["14", 0]),
    }
    sampling = dict(seed=42, cfg=3.0, scheduler="simple", denoise=1.0)
    text = dict(positive=["10", 0], negative=["11", 0])
    prompt.update({
        "40": node("KSampler", model=["20", 0], latent_image=["30", 0], steps=2, sampler_name="euler", **text,
                   **sampling),
        "41": node("KSampler", model=["20", 0], latent_image=["30", 0], steps=3, sampler_name="uni_pc", **text,
                   **sampling),
        "42": node("VAEEncode", pixels=["43", 0], vae=["6", 0]),
        "43": node("VAEDecode", samples=["40", 0], vae=["6", 0]),
        "44": node("KSamplerAdvanced", model=["21", 0], add_noise="enable", noise_seed=42, steps=4, cfg=3.0,
                   sampler_name="euler", scheduler="simple", latent_image=["30", 0], start_at_step=0,
                   end_at_step=2, return_with_leftover_noise="enable", **text),
        "45": node("KSamplerAdvanced", model=["22", 0], add_noise="disable", noise_seed=0, steps=4, cfg=3.0,
                   sampler_name="euler", scheduler="simple", latent_image=["44", 0], start_at_step=2,
                   end_at_step=10000, return_with_leftover_noise="disable", **text),
        "46": node("KSampler", model=["23", 0], positive=["31", 0], negative=["31", 1], latent_image=["31", 2],
                   steps=2, sampler_name="euler", **sampling),
        "47": node("KSampler", model=["24", 0], positive=["32", 0], negative=["32", 1], latent_image=["32", 2],
                   steps=2, sampler_name="euler", **sampling),
        "48": node("KSampler", model=["25", 0], latent_image=["33", 0], steps=2, sampler_name="euler", **text,
                   **sampling),
        "49": node("TrimVideoLatent", samples=["40", 0], trim_amount=1),
        "50": node("KSampler", model=["23", 0], positive=["34", 0], negative=["34", 1], latent_image=["34", 2],
                   steps=2, sampler_name="euler", **sampling),
    })
    sources = {"t2v": "40", "t2v_uni_pc": "41", "t2v_decoded": "42", "two_experts": "45", "i2v": "46",
               "flf2v": "47", "ti2v_5b": "48", "trimmed": "49", "fun_inpaint": "50"}
    cases = {}
    for number, (case, source) in enumerate(sources.items()):
        save = str(100 + number)
        prompt[save] = node("SaveLatent", samples=[source, 0], filename_prefix=f"kiln_wan_{case}")
        cases[case] = save
    return prompt, cases


def record(oracle: Path) -> None:
    prompt, cases = workflow()
    with tempfile.TemporaryDirectory(prefix="kiln-record-wan-") as scratch:
        base = Path(scratch)
        make_wan_inputs.build(base)
        (base / "custom_nodes").mkdir()
        shutil.copy(PACK, base / "custom_nodes" / "kiln_test_conditioning.py")
        folders = {kind: kind for kind in ("diffusion_models", "vae", "custom_nodes")}
        with running_oracle(oracle, base, folders, input_dir=base / "input") as url:
            info = object_info(url, NODES)
            latents = saved_latents(url, run(url, prompt), cases)
    write_recording(OUT, latents, {"workflow": prompt, "cases": cases}, info, workflows_name="workflow.json")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oracle", type=Path, required=True, help="the oracle folder (ComfyUI/ and venv/)")
    record(parser.parse_args().oracle)
