"""Custom-node packs on Kiln (and, optionally, on ComfyUI): do they import, list ComfyUI's nodes, serve their web
extensions and run?

    python bench/custom_node_packs.py PACKS_DIR [--deps DIR] [--comfyui COMFYUI_DIR --comfyui-python PYTHON]
                                                [--port 18480] [--keep]

PACKS_DIR holds fetched packs (one folder each, as `git clone` leaves them); `--deps` is a folder of the packs'
requirements installed with `pip install --target` (put on the servers' PYTHONPATH, never into Kiln's own
environment). Each server gets a fresh base directory with copies of the packs in `custom_nodes/` and a small
generated picture in `input/`; it is started with `--cpu` on 127.0.0.1 and stopped afterwards.

Printed per pack: whether it imported (the "IMPORT FAILED" marks of the server's import-times table), how many
nodes it adds to `/object_info`, how many of those entries are identical to ComfyUI's, how many web extension
files it serves (`/extensions`), and its smoke prompt: weight-free nodes of the pack fed by core nodes, whose
previewed pixels (or `ui` text) are hashed; with ComfyUI the hashes are compared. GGUF and UltimateSDUpscale run on random weights
the bench generates (a tiny SD1.5 checkpoint, its UNet as an fp16 `.gguf` written with the `gguf` package, a
random 4x ESRGAN; IPAdapter_plus an SD1.5 IP-Adapter shaped after that checkpoint's cross-attention layers with a
random ViT-L/14 CLIP vision encoder); the Subpack's detectors have no smoke prompt yet ("-"). Entries whose defaults are random per start (WAS's Cache Node) never
match; paths under the base directory are compared as "<base>".

The packs must be complete as their installers leave them: git submodules checked out (UltimateSDUpscale's
`repositories/ultimate_sd_upscale`) and Impact-Pack's Subpack also cloned into its `impact_subpack` folder;
nothing is downloaded by the servers here.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_SECONDS = 600.0
PROMPT_TIMEOUT_SECONDS = 300.0
SMOKE_IMAGE = "kiln_smoke.png"


def _node(class_type: str, **inputs: object) -> dict:
    return {"class_type": class_type, "inputs": inputs}


def _preview(image_link: list) -> dict:
    return _node("PreviewImage", images=image_link)


# A weight-free prompt per pack: pack nodes fed by core nodes; the outputs of the listed node ids are compared.
SMOKE_PROMPTS: dict[str, tuple[dict, list[str]]] = {
    "ComfyUI-Custom-Scripts": ({
        "1": _node("StringFunction|pysssss", action="append", tidy_tags="no", text_a="kiln", text_b="smoke"),
        "2": _node("ShowText|pysssss", text=["1", 0]),
    }, ["2"]),
    "ComfyUI-KJNodes": ({
        "1": _node("CreateGradientMask", invert=False, frames=2, width=64, height=48),
        "2": _node("MaskToImage", mask=["1", 0]),
        "3": _preview(["2", 0]),
    }, ["3"]),
    "was-node-suite-comfyui": ({
        "1": _node("LoadImage", image=SMOKE_IMAGE),
        "2": _node("Image Rotate", images=["1", 0], mode="transpose", rotation=90, sampler="nearest"),
        "3": _preview(["2", 0]),
    }, ["3"]),
    "comfyui_controlnet_aux": ({
        "1": _node("LoadImage", image=SMOKE_IMAGE),
        "2": _node("CannyEdgePreprocessor", image=["1", 0], low_threshold=100, high_threshold=200, resolution=64),
        "3": _preview(["2", 0]),
    }, ["3"]),
    "ComfyUI-Impact-Pack": ({
        "1": _node("LoadImage", image=SMOKE_IMAGE),
        "2": _node("ImageToMask", image=["1", 0], channel="red"),
        "3": _node("ImpactGaussianBlurMask", mask=["2", 0], kernel_size=5, sigma=2.0),
        "4": _node("MaskToImage", mask=["3", 0]),
        "5": _preview(["4", 0]),
    }, ["5"]),
}


SMOKE_CHECKPOINT = "kiln-smoke-sd15.safetensors"
SMOKE_GGUF = "kiln-smoke-sd15-unet.gguf"
SMOKE_ESRGAN = "kiln-smoke-esrgan-x4.safetensors"
SMOKE_CLIP_VISION = "kiln-smoke-vit-l.safetensors"
SMOKE_IPADAPTER = "kiln-smoke-ip-adapter_sd15.safetensors"


def _text_to_image(model: list, seed: int) -> dict:
    """The tiny checkpoint's CLIP and VAE around a 2-step KSampler on `model` (node "1" loads the checkpoint)."""
    return {
        "1": _node("CheckpointLoaderSimple", ckpt_name=SMOKE_CHECKPOINT),
        "3": _node("CLIPTextEncode", text="a red circle", clip=["1", 1]),
        "4": _node("CLIPTextEncode", text="blurry", clip=["1", 1]),
        "5": _node("EmptyLatentImage", width=64, height=64, batch_size=1),
        "6": _node("KSampler", model=model, seed=seed, steps=2, cfg=7.0, sampler_name="euler", scheduler="normal",
                   denoise=1.0, positive=["3", 0], negative=["4", 0], latent_image=["5", 0]),
        "7": _node("VAEDecode", samples=["6", 0], vae=["1", 2]),
        "8": _preview(["7", 0]),
    }


# Packs whose nodes need weights run on generated random ones (write_smoke_models): a tiny SD1.5 checkpoint, its
# UNet as a GGUF file, a random 4x ESRGAN.
SMOKE_PROMPTS["ComfyUI-GGUF"] = ({**_text_to_image(["2", 0], 1),
                                  "2": _node("UnetLoaderGGUF", unet_name=SMOKE_GGUF)}, ["8"])
SMOKE_PROMPTS["ComfyUI_UltimateSDUpscale"] = ({
    **{key: value for key, value in _text_to_image(["1", 0], 2).items() if key in ("1", "3", "4")},
    "10": _node("LoadImage", image=SMOKE_IMAGE),
    "11": _node("UpscaleModelLoader", model_name=SMOKE_ESRGAN),
    "12": _node("UltimateSDUpscale", image=["10", 0], model=["1", 0], positive=["3", 0], negative=["4", 0],
                vae=["1", 2], upscale_by=2.0, seed=3, steps=2, cfg=7.0, sampler_name="euler", scheduler="normal",
                denoise=0.3, upscale_model=["11", 0], mode_type="Linear", tile_width=64, tile_height=64,
                mask_blur=8, tile_padding=16, seam_fix_mode="None", seam_fix_denoise=1.0, seam_fix_width=64,
                seam_fix_mask_blur=8, seam_fix_padding=16, force_uniform_tiles=True, tiled_decode=False,
                batch_size=1),
    "13": _preview(["12", 0]),
}, ["13"])
SMOKE_PROMPTS["ComfyUI_IPAdapter_plus"] = ({
    **_text_to_image(["12", 0], 4),
    "10": _node("LoadImage", image=SMOKE_IMAGE),
    "11": _node("IPAdapterModelLoader", ipadapter_file=SMOKE_IPADAPTER),
    "13": _node("CLIPVisionLoader", clip_name=SMOKE_CLIP_VISION),
    "12": _node("IPAdapterAdvanced", model=["1", 0], ipadapter=["11", 0], image=["10", 0], weight=1.0,
                weight_type="linear", combine_embeds="concat", start_at=0.0, end_at=1.0, embeds_scaling="V only",
                clip_vision=["13", 0]),
}, ["8"])


def ip_adapter_weights(checkpoint: dict, image_embedding_width: int, seed: int = 0) -> dict:
    """A random plain IP-Adapter for an SD1.x checkpoint: `image_proj` maps a CLIP image embedding to 4 context
    tokens; `ip_adapter.{2n+1}.to_k_ip/to_v_ip` give the n-th cross-attention layer (input blocks, then output
    blocks, then the middle block, as IPAdapter_plus numbers them) keys and values of that layer's shapes."""
    import torch

    def order(key: str) -> tuple:
        kind, number = key.split(".")[2:4]
        return ({"input_blocks": 0, "output_blocks": 1, "middle_block": 2}[kind], int(number), key)

    layers = sorted((key for key in checkpoint if key.startswith("model.diffusion_model.")
                     and key.endswith(".attn2.to_k.weight")), key=order)
    generator = torch.Generator().manual_seed(seed)

    def random(*shape: int) -> torch.Tensor:
        return (torch.randn(*shape, generator=generator) * 0.02).half()

    context = checkpoint[layers[0]].shape[1]
    weights = {"image_proj.proj.weight": random(4 * context, image_embedding_width),
               "image_proj.proj.bias": random(4 * context),
               "image_proj.norm.weight": torch.ones(context).half(), "image_proj.norm.bias": random(context)}
    for number, key in enumerate(layers):
        for name in ("to_k_ip", "to_v_ip"):
            weights[f"ip_adapter.{2 * number + 1}.{name}.weight"] = random(*checkpoint[key].shape)
    return weights


def write_smoke_models(models: Path, deps: Path | None, checkpoint_file: Path | None) -> None:
    """The weights the smoke prompts load, under `models/` (checkpoints, unet, upscale_models, clip_vision,
    ipadapter): `checkpoint_file` (an SD1.5 checkpoint; by default a tiny random one, which only Kiln can detect),
    its UNet as a GGUF file, a random 4x ESRGAN, a random ViT-L/14 CLIP vision encoder and an IP-Adapter for the
    checkpoint."""
    sys.path.insert(0, str(REPO_ROOT))
    if deps is not None:
        sys.path.append(str(deps))  # for `gguf`; after Kiln's own packages, which it must not shadow
    import importlib.util

    import comfy.torchvision_compat

    comfy.torchvision_compat.install()

    import gguf
    from safetensors.torch import load_file

    from tests import model_factory

    for folder in ("checkpoints", "unet", "upscale_models", "clip_vision", "ipadapter"):
        (models / folder).mkdir(parents=True, exist_ok=True)
    checkpoint = models / "checkpoints" / SMOKE_CHECKPOINT
    if checkpoint_file is None:
        model_factory.write_tiny_checkpoint(checkpoint, "SD15", 0)
    else:
        checkpoint.symlink_to(checkpoint_file.resolve())
    # The UNet as ComfyUI-GGUF's converter writes SD1 files: LDM keys without "model.diffusion_model.", fp16.
    writer = gguf.GGUFWriter(str(models / "unet" / SMOKE_GGUF), "sd1")
    for key, tensor in load_file(checkpoint).items():
        if key.startswith("model.diffusion_model."):
            writer.add_tensor(key.removeprefix("model.diffusion_model."), tensor.half().numpy())
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    spec = importlib.util.spec_from_file_location(
        "make_upscale_models", REPO_ROOT / "tests" / "fixtures" / "comfyui_nodes" / "make_upscale_models.py")
    upscale_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(upscale_models)
    model_factory.write_safetensors(models / "upscale_models" / SMOKE_ESRGAN, upscale_models.esrgan(4, 0))
    sys.path.insert(0, str(REPO_ROOT / "tests" / "fixtures" / "comfyui_nodes"))
    import make_clip_vision_files

    vit_l = make_clip_vision_files.state_dict("vit_l")
    model_factory.write_safetensors(models / "clip_vision" / SMOKE_CLIP_VISION, vit_l)
    model_factory.write_safetensors(models / "ipadapter" / SMOKE_IPADAPTER,
                                    ip_adapter_weights(load_file(checkpoint), vit_l["visual_projection.weight"].shape[0]))


def smoke_picture() -> Image.Image:
    """64x64 RGB: a diagonal gradient with a bright square, so edges, rotations and blurs all show."""
    y, x = np.mgrid[0:64, 0:64]
    rgb = np.stack([x * 4, y * 4, (x + y) * 2], axis=-1).astype(np.uint8)
    rgb[20:44, 16:40] = (250, 240, 30)
    return Image.fromarray(rgb, "RGB")


@dataclass
class ServerRun:
    """What one server said about the packs."""

    name: str
    imported: dict[str, bool] = field(default_factory=dict)
    nodes: dict[str, dict[str, dict]] = field(default_factory=dict)  # pack -> {node name: object_info entry}
    extensions: dict[str, int] = field(default_factory=dict)
    smoke: dict[str, str] = field(default_factory=dict)  # pack -> hash of its outputs, or "error: ..."
    pixels: dict[str, list] = field(default_factory=dict)  # pack -> the decoded previews, uint8 arrays
    log: str = ""


class Server:
    def __init__(self, name: str, command: list[str], cwd: Path, base: Path, port: int, env: dict[str, str]):
        self.name, self.command, self.cwd, self.base, self.port, self.env = name, command, cwd, base, port, env
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = base / "server.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = self.log_path.open("w")
        self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.url + "/system_stats", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(1.0)
        raise RuntimeError(f"{self.name} did not answer within {STARTUP_TIMEOUT_SECONDS:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=120) as answer:
            return answer.read()

    def get_json(self, path: str) -> object:
        return json.loads(self.get(path))

    def run_prompt(self, prompt: dict) -> dict:
        request = urllib.request.Request(self.url + "/prompt", data=json.dumps({"prompt": prompt}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                prompt_id = json.loads(answer.read())["prompt_id"]
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"rejected: {error.read().decode()[:200]}") from None
        deadline = time.monotonic() + PROMPT_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            history = self.get_json(f"/history/{prompt_id}")
            if prompt_id in history and history[prompt_id].get("status", {}).get("completed") is not None:
                return history[prompt_id]
            time.sleep(0.5)
        raise RuntimeError("timed out")


def prepare_base(base: Path, packs: list[Path], models: Path) -> None:
    for model in models.rglob("*.*"):  # linked, not copied: a full-size checkpoint is 2 GB
        (base / "models" / model.relative_to(models)).parent.mkdir(parents=True, exist_ok=True)
        (base / "models" / model.relative_to(models)).symlink_to(model.resolve())
    (base / "custom_nodes").mkdir(parents=True)
    (base / "input").mkdir()
    for pack in packs:
        shutil.copytree(pack, base / "custom_nodes" / pack.name, ignore=shutil.ignore_patterns(".git", "__pycache__"),
                        symlinks=True)
    smoke_picture().save(base / "input" / SMOKE_IMAGE)


def import_results(log: str, packs: list[Path]) -> dict[str, bool]:
    """pack -> imported, from the "Import times for custom nodes" table both servers print."""
    results = {}
    for pack in packs:
        lines = [line for line in log.splitlines() if line.rstrip().endswith("custom_nodes/" + pack.name)
                 and "seconds" in line]
        results[pack.name] = bool(lines) and not any("IMPORT FAILED" in line for line in lines)
    return results


def outputs_hash(server: Server, entry: dict, node_ids: list[str], pixels_out: list) -> str:
    """A short hash of what the listed output nodes produced: decoded pixels of their images (also appended to
    `pixels_out`), else their ui."""
    status = entry.get("status", {})
    if status.get("status_str") != "success":
        errors = [data.get("exception_message", "") for kind, data in status.get("messages", [])
                  if kind == "execution_error"]
        return "error: " + (errors[0].strip().splitlines()[-1][:80] if errors and errors[0].strip() else "failed")
    digest = hashlib.sha256()
    for node_id in node_ids:
        output = entry.get("outputs", {}).get(node_id, {})
        images = output.get("images")
        if images:
            for image in images:
                query = urllib.parse.urlencode({key: image[key] for key in ("filename", "subfolder", "type")})
                pixels = np.asarray(Image.open(io.BytesIO(server.get("/view?" + query))).convert("RGB"))
                digest.update(str(pixels.shape).encode() + pixels.tobytes())
                pixels_out.append(pixels)
        else:
            digest.update(json.dumps(output, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def run_server(name: str, command: list[str], cwd: Path, packs: list[Path], models: Path, port: int,
               deps: Path | None, keep: bool) -> ServerRun:
    base = Path(tempfile.mkdtemp(prefix=f"packs-{name.lower()}-"))
    prepare_base(base, packs, models)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if deps is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(deps), env.get("PYTHONPATH")]))
    server = Server(name, [*command, "--cpu", "--listen", "127.0.0.1", "--port", str(port), "--base-directory",
                           str(base)], cwd, base, port, env)
    run = ServerRun(name)
    try:
        server.start()
        # the packs' defaults that hold the base directory (WAS's output paths) read alike on both servers
        info = json.loads(server.get("/object_info").decode().replace(json.dumps(str(base))[1:-1], "<base>"))
        (base / "object_info.json").write_text(json.dumps(info, indent=1))  # for a closer look with --keep
        for pack in packs:
            run.nodes[pack.name] = {node_name: entry for node_name, entry in info.items()
                                    if entry.get("python_module", "").split(".")[1:2] == [pack.name]}
        extensions = server.get_json("/extensions")
        for pack in packs:
            run.extensions[pack.name] = sum(1 for path in extensions if path.startswith(f"/extensions/{pack.name}/"))
        for pack in packs:
            if pack.name not in SMOKE_PROMPTS:
                continue
            prompt, node_ids = SMOKE_PROMPTS[pack.name]
            try:
                run.pixels[pack.name] = []
                run.smoke[pack.name] = outputs_hash(server, server.run_prompt(prompt), node_ids,
                                                    run.pixels[pack.name])
            except Exception as error:  # noqa: BLE001 - reported in the table
                run.smoke[pack.name] = f"error: {str(error)[:80]}"
    finally:
        server.stop()
        run.log = server.log_path.read_text(errors="replace")
        run.imported = import_results(run.log, packs)
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"{name} base directory kept: {base}", file=sys.stderr)
    return run


def compare_smoke(kiln: ServerRun, comfy: ServerRun, name: str) -> str:
    """"= ComfyUI" for identical outputs; for pixels within ComfyUI's float drift (oracle tolerance: at most 2
    levels, mean 0.1) "≈ ComfyUI" with the largest difference; else what ComfyUI gave."""
    if comfy.smoke.get(name) == kiln.smoke.get(name):
        return "= ComfyUI"
    ours, theirs = kiln.pixels.get(name, []), comfy.pixels.get(name, [])
    if ours and len(ours) == len(theirs) and all(a.shape == b.shape for a, b in zip(ours, theirs, strict=True)):
        differences = [np.abs(a.astype(int) - b.astype(int)) for a, b in zip(ours, theirs, strict=True)]
        largest, mean = max(int(d.max()) for d in differences), max(float(d.mean()) for d in differences)
        verdict = "≈ ComfyUI" if largest <= 2 and mean <= 0.1 else "differs from ComfyUI"
        return f"{verdict}: max {largest} levels, mean {mean:.3f}"
    return f"ComfyUI: {comfy.smoke.get(name)}"


def table(packs: list[Path], kiln: ServerRun, comfy: ServerRun | None) -> str:
    header = ["pack", "imports", "nodes", "object_info = ComfyUI's", "web extensions", "smoke prompt"]
    rows = []
    for pack in packs:
        name = pack.name
        nodes = kiln.nodes.get(name, {})
        imported = "yes" if kiln.imported.get(name) else "NO"
        if comfy is None:
            node_count, identical, web = str(len(nodes)), "(no ComfyUI)", str(kiln.extensions.get(name, 0))
        else:
            reference = comfy.nodes.get(name, {})
            same = sum(1 for node_name, entry in reference.items() if nodes.get(node_name) == entry)
            imported += "" if comfy.imported.get(name) else " (ComfyUI: NO)"
            node_count = f"{len(nodes)} / {len(reference)}"
            identical = f"{same} / {len(reference)}"
            web = f"{kiln.extensions.get(name, 0)} / {comfy.extensions.get(name, 0)}"
        smoke = kiln.smoke.get(name)
        if smoke is None:
            smoke_cell = "- (not written yet)"
        elif comfy is None or smoke.startswith("error"):
            smoke_cell = smoke
        else:
            smoke_cell = f"{smoke} ({compare_smoke(kiln, comfy, name)})"
        rows.append([name, imported, node_count, identical, web, smoke_cell])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    imported_count = sum(1 for pack in packs if kiln.imported.get(pack.name))
    lines.append("")
    lines.append(f"Kiln imports {imported_count} of {len(packs)} packs"
                 + ("" if comfy is None else
                    f"; ComfyUI {sum(1 for pack in packs if comfy.imported.get(pack.name))} of {len(packs)}")
                 + (". Counts read Kiln / ComfyUI." if comfy is not None else "."))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packs_dir", type=Path)
    parser.add_argument("--deps", type=Path, help="the packs' requirements (pip install --target DIR)")
    parser.add_argument("--comfyui", type=Path, help="a ComfyUI checkout to compare with")
    parser.add_argument("--comfyui-python", default=sys.executable, help="the Python of ComfyUI's environment")
    parser.add_argument("--port", type=int, default=18480, help="Kiln's port; ComfyUI gets the next one")
    parser.add_argument("--checkpoint", type=Path, help="an SD1.5 checkpoint for the GGUF and UltimateSDUpscale "
                        "smoke prompts (ComfyUI cannot detect the tiny random one used by default)")
    parser.add_argument("--keep", action="store_true", help="keep the servers' base directories")
    args = parser.parse_args()

    packs = sorted(path for path in args.packs_dir.iterdir() if path.is_dir() and not path.name.startswith("."))
    with tempfile.TemporaryDirectory(prefix="packs-models-") as models:
        write_smoke_models(Path(models), args.deps, args.checkpoint)
        kiln = run_server("Kiln", [sys.executable, str(REPO_ROOT / "main.py")], REPO_ROOT, packs, Path(models),
                          args.port, args.deps, args.keep)
        comfy = None
        if args.comfyui is not None:
            comfy = run_server("ComfyUI", [args.comfyui_python, str(args.comfyui / "main.py"),
                                           "--disable-auto-launch"], args.comfyui, packs, Path(models),
                               args.port + 1, args.deps, args.keep)
    print(table(packs, kiln, comfy))


if __name__ == "__main__":
    main()
