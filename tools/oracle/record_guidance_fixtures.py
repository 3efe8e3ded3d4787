#!/usr/bin/env python
"""Record tests/fixtures/comfyui_guidance/ from ComfyUI 0.3.64 run as the oracle (../shared/reference/oracle.md).

Run with the oracle's python (torch, safetensors, numpy, Pillow):

    ORACLE=/root/.cache/kiln-oracle; PY=$ORACLE/venv/bin/python
    $PY tools/oracle/record_guidance_fixtures.py inputs                       # the committed hint images
    $PY tools/oracle/record_guidance_fixtures.py models --batch sd15          # build the batch's random files
    $PY tools/oracle/record_guidance_fixtures.py server --batch sd15 [--only CASE,...]
    flock /tmp/kiln-flux.lock $PY tools/oracle/record_guidance_fixtures.py server --batch flux

`server` starts one fresh `main.py --cpu` per batch whose model folders are WORK/models (the built guidance
files) and the reference files (KILN_REF_SD15's folder for ref-sd15, KILN_FLOW_REF for the flow files), posts each
case of the batch over HTTP, fetches the SaveLatent file and the PNG through /view, and writes `<case>.json`
(workflow, model files with sha256, tolerances, the guidance's measured effect, ComfyUI's load log lines) and
`<case>.safetensors` (latent, image). A case fails when ComfyUI's log warns about missing or unexpected keys.

This is Kiln's own code (MIT). It only drives ComfyUI (GPL-3.0) over HTTP.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import io
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy as np
import torch
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save_file

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(REPO, "tests", "fixtures", "comfyui_guidance")
INPUTS = os.path.join(FIX, "inputs")
COMFY_COMMIT = "a125cd84b054a57729b5eecab930ca9408719832"
sys.path.insert(0, FIX)
import make_guidance_models  # noqa: E402

SEED = 42
SD_TOLERANCES = {"latent_rtol": 1e-4, "image_max_abs": 2, "image_mean_abs": 0.1}
T5_TOLERANCES = {"latent_rtol": 1e-3, "image_max_abs": 2, "image_mean_abs": 0.1}

# --------------------------------------------------------------------------------------------------------------
# input images


def make_inputs() -> None:
    """The hint images: a 64x64 pattern (gradients and stripes: edges for Canny), an 80x48 one (centre crop),
    and a 64x64 RGBA with a transparent square (an inpainting mask)."""
    from PIL import Image

    os.makedirs(INPUTS, exist_ok=True)
    y, x = np.mgrid[0:64, 0:64]
    pattern = np.stack([x * 4, y * 4, np.where((x + y) % 16 < 8, 230, 20)], -1).astype(np.uint8)
    pattern[20:44, 20:44] = (250, 240, 30)
    Image.fromarray(pattern).save(os.path.join(INPUTS, "kiln_hint.png"))
    y, x = np.mgrid[0:48, 0:80]
    tall = np.stack([np.where(x % 20 < 10, 220, 40), y * 5, 255 - x * 3], -1).astype(np.uint8)
    Image.fromarray(tall).save(os.path.join(INPUTS, "kiln_hint_wide.png"))
    rgba = np.concatenate([pattern, np.full((64, 64, 1), 255, np.uint8)], -1)
    rgba[16:40, 24:56, 3] = 0
    Image.fromarray(rgba).save(os.path.join(INPUTS, "kiln_inpaint.png"))


# --------------------------------------------------------------------------------------------------------------
# workflows (API format; node ids follow ../comfyui/e2e: 3 KSampler, 4 checkpoint, 5 empty latent, 6/7 prompts,
# 8 VAEDecode, 9 SaveImage, 10 SaveLatent; guidance nodes from 20)


def _sd15_base(steps: int = 4, cfg: float = 5.0, positive=("6", 0), negative=("7", 0)) -> dict:
    return {
        "3": {"class_type": "KSampler", "inputs": {
            "seed": SEED, "steps": steps, "cfg": cfg, "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0,
            "model": ["4", 0], "positive": list(positive), "negative": list(negative), "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a photo of a cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "kiln_guidance", "images": ["8", 0]}},
        "10": {"class_type": "SaveLatent", "inputs": {"filename_prefix": "latents/kiln_guidance",
                                                      "samples": ["3", 0]}},
    }


def _load_image(name: str = "kiln_hint.png") -> dict:
    return {"class_type": "LoadImage", "inputs": {"image": name}}


def _apply_advanced(positive, negative, control_net, image, strength, start, end, vae=None) -> dict:
    inputs = {"positive": list(positive), "negative": list(negative), "control_net": list(control_net),
              "image": list(image), "strength": strength, "start_percent": start, "end_percent": end}
    if vae is not None:
        inputs["vae"] = list(vae)
    return {"class_type": "ControlNetApplyAdvanced", "inputs": inputs}


def sd15_single_control(file_name: str, strength: float = 0.9, start: float = 0.0, end: float = 1.0) -> dict:
    graph = _sd15_base(positive=("22", 0), negative=("22", 1))
    graph["20"] = _load_image()
    graph["21"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": file_name}}
    graph["22"] = _apply_advanced(("6", 0), ("7", 0), ("21", 0), ("20", 0), strength, start, end)
    return graph


def sd15_chain() -> dict:
    """Two ControlNets chained: the original-layout net on the pattern for the first half of the steps, then the
    diffusers-layout net on the Canny edges of the wide image (centre-cropped) from 30 % to the end."""
    graph = _sd15_base(positive=("24", 0), negative=("24", 1))
    graph["20"] = _load_image()
    graph["21"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "kiln-cn-sd15.safetensors"}}
    graph["22"] = _apply_advanced(("6", 0), ("7", 0), ("21", 0), ("20", 0), 1.0, 0.0, 0.5)
    graph["23"] = {"class_type": "ControlNetLoader",
                   "inputs": {"control_net_name": "kiln-cn-sd15-diffusers.safetensors"}}
    graph["25"] = _load_image("kiln_hint_wide.png")
    graph["26"] = {"class_type": "Canny", "inputs": {"image": ["25", 0], "low_threshold": 0.2, "high_threshold": 0.5}}
    graph["24"] = _apply_advanced(("22", 0), ("22", 1), ("23", 0), ("26", 0), 0.7, 0.3, 1.0)
    return graph


def sd15_apply_old() -> dict:
    """The deprecated ControlNetApply on the positive only: its control also guides the negative."""
    graph = _sd15_base(positive=("22", 0))
    graph["20"] = _load_image()
    graph["21"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "kiln-cn-sd15.safetensors"}}
    graph["22"] = {"class_type": "ControlNetApply", "inputs": {"conditioning": ["6", 0], "control_net": ["21", 0],
                                                             "image": ["20", 0], "strength": 0.8}}
    return graph


def canny_graph() -> dict:
    """Canny alone, at two threshold pairs, on the pattern and on the wide image."""
    graph = {"20": _load_image(), "25": _load_image("kiln_hint_wide.png")}
    outputs = []
    for index, (source, low, high) in enumerate((("20", 0.4, 0.8), ("20", 0.1, 0.3), ("25", 0.2, 0.5))):
        canny_id, save_id = str(30 + index), str(40 + index)
        graph[canny_id] = {"class_type": "Canny", "inputs": {"image": [source, 0], "low_threshold": low,
                                                              "high_threshold": high}}
        graph[save_id] = {"class_type": "SaveImage", "inputs": {"filename_prefix": f"kiln_canny_{index}",
                                                                 "images": [canny_id, 0]}}
        outputs.append(save_id)
    return graph


def _sdxl_base(positive=("6", 0), negative=("7", 0)) -> dict:
    """The Vega-shaped SDXL UNet with the reference CLIP-L / CLIP-G (DualCLIPLoader sdxl); the reference SD1.5
    checkpoint's VAE decodes (the same 4-channel LDM VAE)."""
    graph = _sd15_base(positive=positive, negative=negative)
    graph["3"]["inputs"]["model"] = ["11", 0]
    graph["4"] = {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "ref-sd15.safetensors"}}
    graph["11"] = {"class_type": "UNETLoader", "inputs": {"unet_name": "kiln-sdxl-vega.safetensors",
                                                           "weight_dtype": "default"}}
    graph["12"] = {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "ref-clip_l.safetensors",
                                                               "clip_name2": "ref-clip_g.safetensors",
                                                               "type": "sdxl", "device": "default"}}
    graph["6"]["inputs"]["clip"] = ["12", 0]
    graph["7"]["inputs"]["clip"] = ["12", 0]
    return graph


def sdxl_single_control(file_name: str, strength: float = 0.9, start: float = 0.0, end: float = 1.0,
                        union_type: str | None = None, canny: bool = False) -> dict:
    graph = _sdxl_base(positive=("22", 0), negative=("22", 1))
    graph["20"] = _load_image()
    graph["21"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": file_name}}
    control = ("21", 0)
    if union_type is not None:
        graph["27"] = {"class_type": "SetUnionControlNetType", "inputs": {"control_net": ["21", 0],
                                                                          "type": union_type}}
        control = ("27", 0)
    image = ("20", 0)
    if canny:
        graph["26"] = {"class_type": "Canny", "inputs": {"image": ["20", 0], "low_threshold": 0.2,
                                                          "high_threshold": 0.5}}
        image = ("26", 0)
    graph["22"] = _apply_advanced(("6", 0), ("7", 0), control, image, strength, start, end)
    return graph


def _sd3_base(positive=("6", 0), negative=("7", 0)) -> dict:
    """The reduced reference SD3 in parts (its MMDiT, CLIP-L + CLIP-G without T5, the 16-channel VAE), as the
    flow fixtures' sd3_parts case runs it."""
    graph = _sd15_base(cfg=4.0, positive=positive, negative=negative)
    del graph["4"]
    graph["3"]["inputs"].update(scheduler="simple", model=["12", 0])
    graph["5"] = {"class_type": "EmptySD3LatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}}
    graph["11"] = {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "ref-clip_l.safetensors",
                                                               "clip_name2": "ref-clip_g.safetensors", "type": "sd3"}}
    graph["12"] = {"class_type": "UNETLoader", "inputs": {"unet_name": "ref-sd3-mmdit.safetensors",
                                                           "weight_dtype": "default"}}
    graph["15"] = {"class_type": "VAELoader", "inputs": {"vae_name": "ref-vae16.safetensors"}}
    graph["6"]["inputs"]["clip"] = ["11", 0]
    graph["7"]["inputs"]["clip"] = ["11", 0]
    graph["8"]["inputs"]["vae"] = ["15", 0]
    return graph


def sd3_control() -> dict:
    """The SD3 ControlNet through ControlNetApplySD3 (the hint VAE-encoded), strength 0.8 for the first 75 %."""
    graph = _sd3_base(positive=("22", 0), negative=("22", 1))
    graph["20"] = _load_image()
    graph["21"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "kiln-cn-sd3.safetensors"}}
    graph["22"] = {"class_type": "ControlNetApplySD3", "inputs": {
        "positive": ["6", 0], "negative": ["7", 0], "control_net": ["21", 0], "vae": ["15", 0], "image": ["20", 0],
        "strength": 0.8, "start_percent": 0.0, "end_percent": 0.75}}
    return graph


def _flux_base(positive=("14", 0), negative=("13", 0)) -> dict:
    """The reduced reference FLUX.1-dev (one double, one single block) with CLIP-L + the fp8 T5-XXL, as the flow
    fixtures' flux_dev case runs it (cfg 1, FluxGuidance 3.5, a zeroed negative)."""
    graph = _sd3_base(positive=positive, negative=negative)
    del graph["7"]
    graph["3"]["inputs"]["cfg"] = 1.0
    graph["11"] = {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "ref-clip_l.safetensors",
                                                               "clip_name2": "ref-t5xxl_fp8_e4m3fn.safetensors",
                                                               "type": "flux"}}
    graph["12"]["inputs"]["unet_name"] = "ref-flux-dev.safetensors"
    graph["13"] = {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}}
    graph["14"] = {"class_type": "FluxGuidance", "inputs": {"conditioning": ["6", 0], "guidance": 3.5}}
    return graph


def flux_xlabs_control() -> dict:
    """The XLabs ControlNet through ControlNetApplyAdvanced (no VAE: it encodes the pixels itself)."""
    graph = _flux_base(positive=("22", 0), negative=("22", 1))
    graph["20"] = _load_image()
    graph["21"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "kiln-cn-flux-xlabs.safetensors"}}
    graph["22"] = _apply_advanced(("14", 0), ("13", 0), ("21", 0), ("20", 0), 0.7, 0.0, 1.0)
    return graph


def flux_instantx_control() -> dict:
    """The InstantX ControlNet through ControlNetApplyAdvanced with the VAE (it reads the encoded hint)."""
    graph = _flux_base(positive=("22", 0), negative=("22", 1))
    graph["20"] = _load_image()
    graph["21"] = {"class_type": "ControlNetLoader",
                   "inputs": {"control_net_name": "kiln-cn-flux-instantx.safetensors"}}
    graph["22"] = _apply_advanced(("14", 0), ("13", 0), ("21", 0), ("20", 0), 0.8, 0.0, 0.8, vae=("15", 0))
    return graph


# name, batch, graph builder, model files (layout ids), reference files (folder, name), tolerances, what it shows
CASES: list[dict] = [
    {"name": "sd15_base", "batch": "sd15", "graph": _sd15_base, "files": [], "internal": True},
    {"name": "sd15_controlnet_original", "batch": "sd15", "files": ["cn-sd15"],
     "graph": lambda: sd15_single_control("kiln-cn-sd15.safetensors"),
     "about": "SD1.5 ControlNet in lllyasviel's layout, ControlNetApplyAdvanced strength 0.9 over all steps"},
    {"name": "sd15_controlnet_diffusers", "batch": "sd15", "files": ["cn-sd15-diffusers"],
     "graph": lambda: sd15_single_control("kiln-cn-sd15-diffusers.safetensors"),
     "about": "the same ControlNet in diffusers' layout (the same tensors renamed)"},
    {"name": "sd15_controlnet_chain", "batch": "sd15", "files": ["cn-sd15", "cn-sd15-diffusers"], "graph": sd15_chain,
     "about": "two ControlNets chained with different hints, strengths and start/end percents (0-0.5, 0.3-1)"},
    {"name": "sd15_controlnet_apply_old", "batch": "sd15", "files": ["cn-sd15"], "graph": sd15_apply_old,
     "about": "the deprecated ControlNetApply on the positive; its control guides the negative too"},
    {"name": "sd15_t2i_adapter", "batch": "sd15", "files": ["t2i-sd15"],
     "graph": lambda: sd15_single_control("kiln-t2i-sd15.safetensors", 1.0),
     "about": "SD1.5 T2I-Adapter (full), TencentARC's layout"},
    {"name": "sd15_t2i_adapter_light", "batch": "sd15", "files": ["t2i-sd15-light"],
     "graph": lambda: sd15_single_control("kiln-t2i-sd15-light.safetensors", 0.8, 0.0, 0.75),
     "about": "SD1.5 T2I-Adapter (light), strength 0.8 for the first 75 %"},
    {"name": "canny", "batch": "sd15", "files": [], "graph": canny_graph, "images_only": True,
     "about": "the Canny node at (0.4, 0.8) and (0.1, 0.3) on the pattern, (0.2, 0.5) on the wide image"},
]
CASES += [
    {"name": "sdxl_base", "batch": "sdxl", "graph": _sdxl_base, "files": ["sdxl-vega"], "internal": True},
    {"name": "sdxl_controlnet", "batch": "sdxl", "files": ["sdxl-vega", "cn-sdxl"],
     "graph": lambda: sdxl_single_control("kiln-cn-sdxl-mid.safetensors", 0.9, 0.0, 0.8),
     "about": "SDXL ControlNet (ComfyUI's SDXL_mid_cnet shape, diffusers' layout) on the Vega-shaped SDXL, "
              "strength 0.9 for the first 80 %"},
    {"name": "sdxl_controlnet_union", "batch": "sdxl", "files": ["sdxl-vega", "cn-sdxl-union"],
     "graph": lambda: sdxl_single_control("kiln-cn-sdxl-union-promax.safetensors", 0.9,
                                          union_type="canny/lineart/anime_lineart/mlsd", canny=True),
     "about": "xinsir's ControlNet-union (promax) with SetUnionControlNetType canny on Canny edges"},
    {"name": "sdxl_controlnet_union_auto", "batch": "sdxl", "files": ["sdxl-vega", "cn-sdxl-union"],
     "graph": lambda: sdxl_single_control("kiln-cn-sdxl-union-promax.safetensors", 0.8, union_type="auto"),
     "about": "the ControlNet-union with SetUnionControlNetType auto (no control type)"},
    {"name": "sdxl_control_lora", "batch": "sdxl", "files": ["sdxl-vega", "control-lora-sdxl"],
     "graph": lambda: sdxl_single_control("kiln-control-lora-sdxl-rank8.safetensors", 1.0),
     "about": "a rank-8 Control-LoRA (Stability's layout) built on the sampled Vega-shaped SDXL"},
    {"name": "sdxl_t2i_adapter", "batch": "sdxl", "files": ["sdxl-vega", "t2i-sdxl"],
     "graph": lambda: sdxl_single_control("kiln-t2i-sdxl.safetensors", 1.0),
     "about": "SDXL T2I-Adapter (full_adapter_xl), TencentARC's layout"},
]
CASES += [
    {"name": "sd3_base", "batch": "sd3", "graph": _sd3_base, "files": [], "internal": True},
    {"name": "sd3_controlnet", "batch": "sd3", "files": ["cn-sd3"], "graph": sd3_control,
     "about": "SD3 ControlNet (diffusers' layout, one block) through ControlNetApplySD3 on the reduced SD3"},
]
CASES += [
    {"name": "flux_base", "batch": "flux", "graph": _flux_base, "files": [], "internal": True},
    {"name": "flux_controlnet_xlabs", "batch": "flux", "files": ["cn-flux-xlabs"], "graph": flux_xlabs_control,
     "tolerances": T5_TOLERANCES,
     "about": "an XLabs FLUX.1 ControlNet (one double block) on the reduced FLUX.1-dev, strength 0.7"},
    {"name": "flux_controlnet_instantx", "batch": "flux", "files": ["cn-flux-instantx"],
     "graph": flux_instantx_control, "tolerances": T5_TOLERANCES,
     "about": "an InstantX FLUX.1 ControlNet (one double, one single block) with the VAE, strength 0.8 for the "
              "first 80 %"},
]
BATCH_BASE = {"sd15": "sd15_base", "sdxl": "sdxl_base", "sd3": "sd3_base", "flux": "flux_base"}

# --------------------------------------------------------------------------------------------------------------
# the server


ORACLE_PORTS = range(18500, 18600)  # the oracle servers' agreed port range on shared machines


def _free_port() -> int:
    for port in ORACLE_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {ORACLE_PORTS}")


class Server:
    """One fresh ComfyUI `main.py --cpu` with the work folder's models, inputs and output."""

    def __init__(self, oracle: str, work: str, tag: str):
        self.oracle, self.work = oracle, work
        self.out = os.path.join(work, f"out-{tag}")
        shutil.rmtree(self.out, ignore_errors=True)
        os.makedirs(self.out)
        self.inputs = os.path.join(work, "input")
        os.makedirs(self.inputs, exist_ok=True)
        for name in os.listdir(INPUTS):
            shutil.copy(os.path.join(INPUTS, name), self.inputs)
        self.yaml = os.path.join(work, "extra_model_paths.yaml")
        with open(self.yaml, "w", encoding="utf-8") as handle:
            handle.write(f"kiln_guidance:\n  base_path: {work}/models\n")
            for folder in ("checkpoints", "diffusion_models", "text_encoders", "vae", "controlnet", "clip_vision",
                           "style_models", "gligen", "photomaker"):
                handle.write(f"  {folder}: {folder}\n")
        self.port = _free_port()
        self.log_path = os.path.join(work, f"server-{tag}.log")
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [os.path.join(self.oracle, "venv", "bin", "python"), "main.py", "--cpu", "--listen", "127.0.0.1",
                   "--port", str(self.port), "--disable-auto-launch", "--output-directory", self.out,
                   "--input-directory", self.inputs, "--extra-model-paths-config", self.yaml]
        self.log = open(self.log_path, "w", encoding="utf-8")
        self.process = subprocess.Popen(command, cwd=os.path.join(self.oracle, "ComfyUI"), stdout=self.log,
                                        stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        started = time.time()
        while time.time() - started < 120:
            if self.process.poll() is not None:
                raise RuntimeError("server exited; see " + self.log_path)
            try:
                urllib.request.urlopen(self.url + "/system_stats", timeout=2).read()
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def get(self, path: str) -> bytes:
        return urllib.request.urlopen(self.url + path, timeout=120).read()

    def run(self, graph: dict) -> tuple[dict, float, str]:
        position = os.path.getsize(self.log_path)
        body = json.dumps({"prompt": graph, "client_id": "kiln-guidance-recorder"}).encode()
        request = urllib.request.Request(self.url + "/prompt", data=body, headers={"Content-Type": "application/json"})
        started = time.time()
        try:
            prompt_id = json.loads(urllib.request.urlopen(request, timeout=60).read())["prompt_id"]
        except urllib.error.HTTPError as error:
            raise RuntimeError(error.read().decode()[:3000]) from None
        while True:
            history = json.loads(self.get("/history/" + prompt_id))
            status = history.get(prompt_id, {}).get("status", {})
            if status.get("completed") or status.get("status_str") == "error":
                break
            time.sleep(0.25)
        wall = time.time() - started
        time.sleep(0.3)
        with open(self.log_path, encoding="utf-8") as handle:
            handle.seek(position)
            log = handle.read()
        return history[prompt_id], wall, log

    def view(self, item: dict) -> bytes:
        query = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item["subfolder"],
                                        "type": item["type"]})
        return self.get("/view?" + query)


# --------------------------------------------------------------------------------------------------------------
# phases

LOG_PROBLEMS = ("missing controlnet keys", "leftover keys", "t2i missing", "missing clip vision", "unexpected",
                "Traceback", "ERROR", "could not be applied", "WARNING")


def _png(data: bytes) -> torch.Tensor:
    from PIL import Image

    return torch.from_numpy(np.array(Image.open(io.BytesIO(data)).convert("RGB"))).unsqueeze(0)


def _rel(a: torch.Tensor, b: torch.Tensor) -> dict:
    a, b = a.double(), b.double()
    return {"rel_l2": float((a - b).norm() / b.norm()), "max_abs_over_max_ref": float((a - b).abs().max()
                                                                                    / b.abs().max())}


def _sha256(path: str) -> str:
    return make_guidance_models.file_sha256(path)


def _model_files(graph: dict, work: str) -> list[dict]:
    """Every model file the graph loads, with folder and sha256."""
    inputs = {"ckpt_name": "checkpoints", "unet_name": "diffusion_models", "clip_name": None, "clip_name1":
              "text_encoders", "clip_name2": "text_encoders", "clip_name3": "text_encoders", "vae_name": "vae",
              "control_net_name": "controlnet", "style_model_name": "style_models", "gligen_name": "gligen",
              "photomaker_model_name": "photomaker"}
    found = {}
    for entry in graph.values():
        for name, folder in inputs.items():
            value = entry["inputs"].get(name)
            if not isinstance(value, str):
                continue
            if folder is None:
                folder = "clip_vision" if entry["class_type"] == "CLIPVisionLoader" else "text_encoders"
            path = os.path.join(work, "models", folder, value)
            found[(folder, value)] = {"folder": folder, "name": value, "sha256": _sha256(path)}
    return list(found.values())


def phase_models(options) -> None:
    layouts = make_guidance_models.load_layouts()
    wanted = []
    for case in CASES:
        if case["batch"] == options.batch:
            for file_id in case["files"]:
                if file_id not in wanted:
                    wanted.append(file_id)
    models = os.path.join(options.work, "models")
    for file_id in wanted:
        make_guidance_models.write(file_id, layouts, models)
    _link_references(models)


def _link_references(models: str) -> None:
    """ref-sd15 and the flow reference files, linked into the work folder's models under their names."""
    sd15 = os.environ.get("KILN_REF_SD15", "/tmp/kiln-ref/ref-sd15.safetensors")
    flow = os.environ.get("KILN_FLOW_REF", "/tmp/kiln-ref/flow")
    links = [(sd15, os.path.join(models, "checkpoints", "ref-sd15.safetensors"))]
    for folder in ("checkpoints", "diffusion_models", "text_encoders", "vae"):
        source = os.path.join(flow, folder)
        if os.path.isdir(source):
            links += [(os.path.join(source, name), os.path.join(models, folder, name)) for name in os.listdir(source)]
    for source, target in links:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.exists(source) and not os.path.lexists(target):
            os.symlink(source, target)


def phase_server(options) -> None:
    cases = [case for case in CASES if case["batch"] == options.batch
             and (not options.only or case["name"] in options.only.split(",") or case.get("internal"))]
    os.makedirs(FIX, exist_ok=True)
    _link_references(os.path.join(options.work, "models"))
    server = Server(options.oracle, options.work, options.batch)
    server.start()
    recorded: dict[str, dict] = {}
    try:
        for case in cases:
            graph = case["graph"]()
            history, wall, log = server.run(copy.deepcopy(graph))
            status = history["status"]
            if status.get("status_str") != "success":
                print(json.dumps(status, indent=1)[:4000])
                print(log[-4000:])
                raise RuntimeError(case["name"] + " failed")
            problems = [line for line in log.splitlines() if any(marker in line for marker in LOG_PROBLEMS)]
            if problems:
                raise RuntimeError(f"{case['name']}: ComfyUI's log reports problems:\n" + "\n".join(problems[:20]))
            outputs = history["outputs"]
            tensors: dict[str, torch.Tensor] = {}
            if case.get("images_only"):
                for node_id in sorted(outputs):
                    tensors[f"image_{node_id}"] = _png(server.view(outputs[node_id]["images"][0]))
            else:
                tensors["latent"] = load_safetensors_bytes(server.view(outputs["10"]["latents"][0]))[
                    "latent_tensor"].float()
                tensors["image"] = _png(server.view(outputs["9"]["images"][0]))
            recorded[case["name"]] = tensors
            if case.get("internal"):
                print(f"{case['name']}: {wall:.1f} s (reference for the effects)", flush=True)
                continue
            base = recorded.get(BATCH_BASE.get(case["batch"], ""))
            effect = None
            if base is not None and "latent" in tensors:
                effect = {"latent": _rel(tensors["latent"], base["latent"]),
                          "image_mean_abs_diff": float((tensors["image"].float() - base["image"].float())
                                                       .abs().mean())}
            record = {
                "name": case["name"], "about": case.get("about", ""), "workflow": graph,
                "model_files": _model_files(graph, options.work), "guidance_files": case["files"],
                "tolerances": case.get("tolerances", SD_TOLERANCES), "effect_vs_unguided": effect,
                "outputs": sorted(tensors), "server_wall_s": round(wall, 2),
                "log": [line for line in log.splitlines() if "model" in line.lower() or "load" in line.lower()][:40],
                "environment": {"comfyui_commit": COMFY_COMMIT, "torch": torch.__version__, "device": "cpu",
                                "torch_threads": torch.get_num_threads(),
                                "machine": f"{platform.machine()}, {os.cpu_count()} cores, no GPU",
                                "recorded": datetime.date.today().isoformat()},
            }
            with open(os.path.join(FIX, case["name"] + ".json"), "w", encoding="utf-8") as handle:
                json.dump(record, handle, indent=1)
                handle.write("\n")
            save_file({key: value.contiguous() for key, value in tensors.items()},
                      os.path.join(FIX, case["name"] + ".safetensors"))
            print(f"{case['name']}: {wall:.1f} s effect {json.dumps(effect)}", flush=True)
    finally:
        server.stop()
    _write_index()


def _write_index() -> None:
    names = sorted(name[:-5] for name in os.listdir(FIX) if name.endswith(".json") and name not in
                   ("layouts.json", "cases.json"))
    index = []
    for name in names:
        with open(os.path.join(FIX, name + ".json"), encoding="utf-8") as handle:
            record = json.load(handle)
        index.append({"name": name, "about": record["about"], "guidance_files": record["guidance_files"],
                      "tolerances": record["tolerances"], "effect_vs_unguided": record["effect_vs_unguided"]})
    with open(os.path.join(FIX, "cases.json"), "w", encoding="utf-8") as handle:
        json.dump({"cases": index}, handle, indent=1)
        handle.write("\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=["inputs", "models", "server", "index"])
    parser.add_argument("--batch", default="sd15")
    parser.add_argument("--only", default="")
    parser.add_argument("--oracle", default=os.environ.get("ORACLE", "/root/.cache/kiln-oracle"))
    parser.add_argument("--work", default=os.environ.get("KILN_GUIDANCE_WORK", "/tmp/kiln-guidance-oracle"))
    options = parser.parse_args()
    os.makedirs(options.work, exist_ok=True)
    if options.phase == "inputs":
        make_inputs()
    elif options.phase == "models":
        phase_models(options)
    elif options.phase == "server":
        phase_server(options)
    else:
        _write_index()
    return 0


if __name__ == "__main__":
    sys.exit(main())
