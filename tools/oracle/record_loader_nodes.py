"""Record ComfyUI's runs of the deprecated loaders (CheckpointLoader with a config, DiffusersLoader) and of
HypernetworkLoader on the reproducible SD1.5 reference checkpoint, over HTTP.

    python tools/oracle/record_loader_nodes.py --url http://127.0.0.1:8199 [--out tests/fixtures/comfyui_nodes/loaders]

The oracle must see, through its --extra-model-paths-config, the reference checkpoint as
checkpoints/ref-sd15.safetensors and the files `tests/fixtures/comfyui_nodes/make_loader_files.py` builds
(configs/kiln-v-clip-skip.yaml, hypernetworks/kiln-random.pt, diffusers/ref-sd15/). Each case is the recorded
euler_normal workflow of tests/fixtures/comfyui/e2e with its loader replaced; the final latent (SaveLatent, node
10) and image (SaveImage, node 9) are kept as `<case>.safetensors` ("latent", "image") beside `<case>.json`.
Standard library and numpy/safetensors only.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors.numpy import load as load_safetensors_bytes
from safetensors.numpy import save_file

REPO = Path(__file__).resolve().parents[2]
BASE_WORKFLOW = REPO / "tests" / "fixtures" / "comfyui" / "e2e" / "euler_normal.json"


def cases() -> dict[str, dict]:
    """{case name: workflow}: the base workflow with node 4 (the loader) replaced."""
    base = json.loads(BASE_WORKFLOW.read_text())["workflow"]
    result = {}

    workflow = copy.deepcopy(base)
    workflow["4"] = {"class_type": "CheckpointLoader",
                     "inputs": {"config_name": "kiln-v-clip-skip.yaml", "ckpt_name": "ref-sd15.safetensors"}}
    result["checkpoint_loader_config"] = workflow

    workflow = copy.deepcopy(base)
    workflow["11"] = {"class_type": "HypernetworkLoader",
                      "inputs": {"model": ["4", 0], "hypernetwork_name": "kiln-random.pt", "strength": 0.8}}
    workflow["3"]["inputs"]["model"] = ["11", 0]
    result["hypernetwork_loader"] = workflow

    workflow = copy.deepcopy(base)
    workflow["4"] = {"class_type": "DiffusersLoader", "inputs": {"model_path": "ref-sd15"}}
    result["diffusers_loader"] = workflow
    return result


def _request(url: str, data: dict | None = None) -> bytes:
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.read()


def run(url: str, workflow: dict) -> dict:
    prompt_id = json.loads(_request(f"{url}/prompt", {"prompt": workflow}))["prompt_id"]
    while True:
        history = json.loads(_request(f"{url}/history/{prompt_id}"))
        if prompt_id in history and history[prompt_id]["status"].get("completed") is not None:
            entry = history[prompt_id]
            if entry["status"]["status_str"] != "success":
                raise RuntimeError(json.dumps(entry["status"], indent=1))
            return entry["outputs"]
        time.sleep(1)


def download(url: str, item: dict) -> bytes:
    query = urllib.parse.urlencode({"filename": item["filename"], "subfolder": item["subfolder"],
                                    "type": item["type"]})
    return _request(f"{url}/view?{query}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "comfyui_nodes" / "loaders")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    url = options.url.rstrip("/")
    for name, workflow in cases().items():
        outputs = run(url, workflow)
        latent = load_safetensors_bytes(download(url, outputs["10"]["latents"][0]))["latent_tensor"]
        image = np.asarray(Image.open(io.BytesIO(download(url, outputs["9"]["images"][0]))).convert("RGB"))
        save_file({"latent": latent, "image": image[None].copy()}, str(options.out / f"{name}.safetensors"))
        (options.out / f"{name}.json").write_text(json.dumps({"case": name, "workflow": workflow}, indent=1) + "\n")
        print(name, latent.shape, float(np.abs(latent).max()))


if __name__ == "__main__":
    main()
