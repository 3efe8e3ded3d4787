"""ComfyUI's template library as a test bed: each local (non-API) workflow of comfyui-workflow-templates 0.1.95,
converted by the server, pointed at reduced random weights written in its family's original layout under the
names it asks for, shrunk to test size (64 px, 2 steps, batch 1), run through a real Kiln server; it passes when
the run completes and every output node saved files.

`classify` says what keeps a template from running (a node class Kiln lacks, a model family or file kind the
bed cannot write weights for); `run_template` runs one. bench/templates.py prints the table,
tests/e2e/test_template_bed.py requires every template that uses only Kiln's nodes and families to run.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from comfy_execution.workflow_format import convert_workflow

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "comfyui"
RECORDED_INTERFACES = FIXTURES / "object_info_0.3.64.json"
TEST_SIZE = 64
TEST_STEPS = 2


def template_folder() -> Path | None:
    try:
        import comfyui_workflow_templates
    except ImportError:
        return None
    return Path(comfyui_workflow_templates.__file__).parent / "templates"


def local_templates() -> list[str]:
    """The template names that run locally (API-node templates, `api_*`, call paid services and are left out)."""
    folder = template_folder()
    if folder is None:
        return []
    return sorted(path.stem for path in folder.glob("*.json")
                  if not path.name.startswith("index") and not path.name.startswith("api_"))


def load_template(name: str) -> dict:
    return json.loads((template_folder() / f"{name}.json").read_text(encoding="utf-8"))


# -- which weights a template needs, and how to write them --------------------------------------------------------

@dataclass(frozen=True)
class ModelFile:
    folder: str  # models/<folder>
    name: str
    kind: str  # one of WRITERS' keys
    family: str


# (pattern on the file name, folder, kind, family). The first match wins.
_FILE_RULES: list[tuple[str, str, str, str]] = [
    (r"^control_v11\w*_sd15_|^control_sd15_", "controlnet", "sd15_controlnet", "SD1.x"),
    (r"^sd3\.5_large_controlnet", "controlnet", "sd35_controlnet", "SD3.5 ControlNet"),
    (r"^(v1-5|dreamshaper|DreamShaper)", "checkpoints", "sd15", "SD1.x"),
    # community SD1.5 fine-tunes the templates name (their layout is SD1.5's)
    (r"^(japaneseStyleRealistic|majicmixRealistic|architecturerealmix|awpainting|interiordesignsuperm)",
     "checkpoints", "sd15", "SD1.x"),
    (r"^v2-1_768", "checkpoints", "sd21_v", "SD2.x"),
    (r"^512-inpainting", "checkpoints", "sd2_inpaint", "SD2.x"),
    (r"^sd_xl_(base|turbo)", "checkpoints", "sdxl", "SDXL"),
    (r"^sd_xl_refiner", "checkpoints", "sdxl_refiner", "SDXL"),
    (r"^flux1-schnell-fp8", "checkpoints", "flux_schnell_checkpoint", "FLUX.1"),
    (r"^flux1-dev-fp8", "checkpoints", "flux_dev_checkpoint", "FLUX.1"),
    (r"^sd3\.?5?_", "checkpoints", "sd3_checkpoint", "SD3"),
    (r"^flux1-fill-dev", "diffusion_models", "flux_fill_model", "FLUX.1 Fill"),
    (r"^flux1-(canny|depth)-dev", "diffusion_models", "flux_depth_model", "FLUX.1 Depth/Canny"),
    (r"^flux1-schnell", "diffusion_models", "flux_schnell_model", "FLUX.1"),
    (r"^flux1-(dev|krea-dev)", "diffusion_models", "flux_dev_model", "FLUX.1"),
    (r"^ae\.safetensors$", "vae", "vae16", "FLUX.1"),
    (r"^vae-ft-mse", "vae", "sd_vae", "SD1.x"),
    (r"^clip_l", "text_encoders", "flux_clip_l", "FLUX.1"),
    (r"^t5xxl", "text_encoders", "flux_t5", "FLUX.1"),
    (r"ESRGAN.*x4|4x", "upscale_models", "esrgan_x4", "upscale"),
    (r"^sigclip_vision_patch14_384", "clip_vision", "siglip_384", "SigLIP"),
    (r"^flux1-redux", "style_models", "flux_redux", "FLUX.1 Redux"),
    (r"gligen", "gligen", "sd15_gligen", "GLIGEN"),
    (r"^wan2\.(1|2)_t2v_", "diffusion_models", "wan_t2v", "Wan"),
    (r"^wan2\.(1|2)_i2v_|^wan2\.2_fun_inpaint_(high|low)_noise_14B|^wan2\.1_fun_inp_", "diffusion_models", "wan_i2v",
     "Wan"),
    (r"^wan2\.2_ti2v_5B", "diffusion_models", "wan_ti2v_5b", "Wan 2.2 5B"),
    (r"^umt5_xxl", "text_encoders", "umt5", "Wan"),
    (r"^wan_2\.1_vae", "vae", "wan21_vae", "Wan"),
    (r"^wan2\.2_vae", "vae", "wan22_vae", "Wan 2.2 5B"),
    (r"^clip_vision_h", "clip_vision", "vit_h", "CLIP ViT-H"),
    (r"^Chroma1-Radiance", "diffusion_models", "chroma_radiance_model", "Chroma Radiance"),
    (r"^Chroma1-(HD|Base)|^chroma-unlocked", "diffusion_models", "chroma_model", "Chroma"),
]
_WRITABLE = {"sd15", "sd21_v", "sd2_inpaint", "sdxl", "sdxl_refiner", "flux_schnell_checkpoint", "flux_dev_checkpoint",
             "flux_schnell_model", "flux_dev_model", "flux_fill_model", "flux_depth_model", "vae16", "sd_vae",
             "flux_clip_l", "flux_t5", "sd3_checkpoint",
             "sd15_lora", "esrgan_x4", "sd15_controlnet", "siglip_384", "flux_redux", "sd15_gligen",
             "wan_t2v", "wan_i2v", "wan_ti2v_5b", "umt5", "wan21_vae", "wan22_vae", "vit_h", "wan_lora",
             "chroma_model"}
_LOADER_INPUTS = {  # class -> {input: models folder}
    "CheckpointLoaderSimple": {"ckpt_name": "checkpoints"},
    "UNETLoader": {"unet_name": "diffusion_models"},
    "VAELoader": {"vae_name": "vae"},
    "DualCLIPLoader": {"clip_name1": "text_encoders", "clip_name2": "text_encoders"},
    "CLIPLoader": {"clip_name": "text_encoders"},
    "LoraLoader": {"lora_name": "loras"},
    "LoraLoaderModelOnly": {"lora_name": "loras"},
    "UpscaleModelLoader": {"model_name": "upscale_models"},
    "ControlNetLoader": {"control_net_name": "controlnet"},
    "DiffControlNetLoader": {"control_net_name": "controlnet"},
    "CLIPVisionLoader": {"clip_name": "clip_vision"},
    "StyleModelLoader": {"style_model_name": "style_models"},
    "GLIGENLoader": {"gligen_name": "gligen"},
}


def model_files(prompt: dict) -> list[ModelFile]:
    files: dict[tuple[str, str], ModelFile] = {}
    for entry in prompt.values():
        for input_name, folder in _LOADER_INPUTS.get(entry["class_type"], {}).items():
            name = entry["inputs"].get(input_name)
            if not isinstance(name, str):
                continue
            if folder == "loras":
                if re.search(r"^flux1-(depth|canny)-dev-lora", name):  # widens FLUX.1's input: not built yet
                    files[(folder, name)] = ModelFile(folder, name, "flux_control_lora", "FLUX.1 Depth/Canny LoRA")
                elif re.search(r"^wan2\.2_(t2v|i2v)_lightx2v", name):
                    files[(folder, name)] = ModelFile(folder, name, "wan_lora", "Wan")
                else:
                    files[(folder, name)] = ModelFile(folder, name, "sd15_lora", "SD1.x")
                continue
            for pattern, _, kind, family in _FILE_RULES:
                if re.search(pattern, name):
                    files[(folder, name)] = ModelFile(folder, name, kind, family)
                    break
            else:
                files[(folder, name)] = ModelFile(folder, name, "unknown", f"unknown ({name})")
    return list(files.values())


def write_model(file: ModelFile, models_dir: Path) -> None:
    """Reduced random weights for `file` in its original layout (tests/model_factory)."""
    import torch

    from tests import model_factory as factory

    path = models_dir / file.folder / file.name
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = file.kind
    if kind in ("sd15", "sdxl", "sdxl_refiner", "sd21_v", "sd2_inpaint"):
        family = {"sd15": "SD15", "sdxl": "SDXL", "sdxl_refiner": "SDXLRefiner", "sd21_v": "SD21",
                  "sd2_inpaint": "SD2_inpaint"}[kind]
        factory.write_tiny_checkpoint(path, family, 0, v_pred_key=kind == "sd21_v")
        return
    if kind == "sd_vae":
        factory.write_safetensors(path, factory.tiny_vae_state_dict(0)[0])
    elif kind == "sd15_controlnet":
        factory.write_safetensors(path, factory.tiny_controlnet_sd15_state_dict())
    elif kind == "sd15_lora":
        factory.write_safetensors(path, factory.tiny_lora_sd1_state_dict(0))
    elif kind == "flux_schnell_checkpoint":
        factory.write_safetensors(path, factory.tiny_flux_schnell_checkpoint_state_dict(0))
    elif kind == "flux_dev_checkpoint":
        tensors = factory.tiny_flow_model_state_dict("Flux", 0, prefixed=True)
        tensors.update(factory.tiny_vae16_state_dict(0, prefix="vae."))
        for encoder, weights in factory.tiny_flow_text_encoder_state_dicts("Flux", 0).items():
            tensors.update({f"text_encoders.{encoder}.transformer.{key}": value for key, value in weights.items()})
        factory.write_safetensors(path, tensors)
    elif kind == "sd3_checkpoint":
        tensors = factory.tiny_flow_model_state_dict("SD3", 0, prefixed=True)
        tensors.update(factory.tiny_vae16_state_dict(0, prefix="first_stage_model."))
        for encoder, weights in factory.tiny_flow_text_encoder_state_dicts("SD3", 0).items():
            tensors.update({f"text_encoders.{encoder}.transformer.{key}": value for key, value in weights.items()})
        factory.write_safetensors(path, tensors)
    elif kind in ("flux_schnell_model", "flux_dev_model"):
        family = "FluxSchnell" if kind == "flux_schnell_model" else "Flux"
        factory.write_safetensors(path, factory.tiny_flow_model_state_dict(family, 0))
    elif kind in ("flux_fill_model", "flux_depth_model"):  # img_in widened to 96 / 32 latent channels
        tensors = factory.tiny_flow_model_state_dict("Flux", 0)
        tensors["img_in.weight"] = _flux_tools_files().widened_img_in(
            tensors["img_in.weight"], 96 if kind == "flux_fill_model" else 32, torch.Generator().manual_seed(0), 0.02)
        factory.write_safetensors(path, tensors)
    elif kind == "vae16":
        factory.write_safetensors(path, factory.tiny_vae16_state_dict(0))
    elif kind == "esrgan_x4":  # a random 4x RRDBNet (ESRGAN's layout), as the upscale-model tests build them
        factory.write_safetensors(path, _upscale_models().esrgan(4, 0))
    elif kind == "siglip_384":  # full size: image encoders are recognised by their width and depth
        factory.write_safetensors(path, _clip_vision_files().state_dict("siglip_384"))
    elif kind == "flux_redux":  # SigLIP's 1152 features to the reduced FLUX.1's text width
        text_width = factory.tiny_flow_model_state_dict("Flux", 0)["txt_in.weight"].shape[1]
        generator = torch.Generator().manual_seed(0)
        shapes = {"redux_up.weight": (3 * text_width, 1152), "redux_up.bias": (3 * text_width,),
                  "redux_down.weight": (text_width, 3 * text_width), "redux_down.bias": (text_width,)}
        factory.write_safetensors(path, {key: torch.randn(*shape, generator=generator) * 0.02
                                         for key, shape in shapes.items()})
    elif kind == "sd15_gligen":
        factory.write_safetensors(path, _tiny_gligen(factory))
    elif kind in ("wan_t2v", "wan_i2v", "wan_ti2v_5b"):
        _video_fixture_module("make_wan_files").write_wan_model(path, kind.removeprefix("wan_"))
    elif kind == "wan_lora":
        factory.write_safetensors(path, _video_fixture_module("make_wan_files").lora_state_dict())
    elif kind == "umt5":  # as wide as Wan's text input; Kiln reads its other sizes from the shapes
        umt5 = _video_fixture_module("make_umt5_files")
        config = {**umt5.CONFIG, "d_model": 4096}  # two blocks: UMT5 is told from T5 by block 1's own position table
        factory.write_safetensors(path, umt5.umt5_state_dict("scaled_fp8", config))
    elif kind in ("wan21_vae", "wan22_vae"):  # reduced (16 wide): Kiln reads a Wan VAE's sizes from its shapes
        from comfy.families import wan_vae

        version = "wan2.1" if kind == "wan21_vae" else "wan2.2"
        vae_files = _video_fixture_module("make_wan_vae_files")
        width, decoder_width, z_dim, channels = vae_files.REDUCED[version]
        config = wan_vae.WanVAEConfig(version, width, decoder_width, z_dim, (1, 2, 4, 4), 2, (False, True, True),
                                      channels)
        vae_files.write(path, wan_vae.original_layout(config), vae_files.SEEDS[version])
    elif kind == "vit_h":  # full size: image encoders are recognised by their width and depth
        factory.write_safetensors(path, _clip_vision_files().state_dict("vit_h"))
    elif kind == "chroma_model":  # the reduced Chroma, as wide as the reduced T5; scaled fp8 when the name says so
        text_width = factory.tiny_flow_model_state_dict("Flux", 0)["txt_in.weight"].shape[1]
        chroma_files = _chroma_files()
        tensors = chroma_files.state_dict("", {**chroma_files.CONFIG, "context_in_dim": text_width})
        factory.write_safetensors(path, chroma_files.scaled_fp8(tensors) if "fp8_scaled" in file.name else tensors)
    elif kind in ("flux_clip_l", "flux_t5"):
        encoders = factory.tiny_flow_text_encoder_state_dicts("Flux", 0)
        factory.write_safetensors(path, encoders["clip_l" if kind == "flux_clip_l" else "t5xxl"])
    else:
        raise ValueError(f"no writer for {file}")
    del torch


def _tiny_gligen(factory) -> dict:
    """A random GLIGEN for the reduced SD1.x checkpoint: a fuser per transformer block of its UNet, phrases as
    wide as its CLIP."""
    import tempfile

    import torch
    from safetensors.torch import load_file

    with tempfile.TemporaryDirectory() as scratch:
        checkpoint = Path(scratch) / "sd15.safetensors"
        factory.write_tiny_checkpoint(checkpoint, "SD15", 0)
        sd = load_file(str(checkpoint))
    phrase_width = sd["cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"].shape[1]
    generator = torch.Generator().manual_seed(0)
    out = {}

    def normal(key: str, *shape: int) -> None:
        out[key] = torch.randn(shape, generator=generator) * 0.05

    for key, value in sd.items():
        if not key.endswith(".attn1.to_q.weight"):
            continue
        width = value.shape[0]
        fuser = key.removeprefix("model.diffusion_model.").removesuffix("attn1.to_q.weight") + "fuser."
        normal(fuser + "linear.weight", width, phrase_width)
        for part in ("attn.to_q.weight", "attn.to_k.weight", "attn.to_v.weight", "attn.to_out.0.weight"):
            normal(fuser + part, width, width)
        normal(fuser + "ff.net.0.proj.weight", 8 * width, width)
        normal(fuser + "ff.net.2.weight", width, 4 * width)
        for bias, size in (("linear", width), ("attn.to_out.0", width), ("ff.net.0.proj", 8 * width),
                           ("ff.net.2", width), ("norm1", width), ("norm2", width)):
            normal(f"{fuser}{bias}.bias", size)
        for norm in ("norm1", "norm2"):
            out[f"{fuser}{norm}.weight"] = torch.ones(width)
        out[fuser + "alpha_attn"] = torch.tensor(0.5)
        out[fuser + "alpha_dense"] = torch.tensor(0.5)
    normal("position_net.linears.0.weight", 512, phrase_width + 64)
    normal("position_net.linears.2.weight", 512, 512)
    normal("position_net.linears.4.weight", phrase_width, 512)
    for index, size in ((0, 512), (2, 512), (4, phrase_width)):
        normal(f"position_net.linears.{index}.bias", size)
    normal("position_net.null_positive_feature", phrase_width)
    normal("position_net.null_position_feature", 64)
    return out


def _fixture_module(name: str):
    """The fixture script tests/fixtures/comfyui_nodes/`name`.py as a module (that folder is not a package)."""
    import importlib.util

    script = Path(__file__).resolve().parent / "fixtures" / "comfyui_nodes" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _video_fixture_module(name: str):
    """The fixture script tests/fixtures/comfyui_video/`name`.py as a module."""
    import importlib.util
    import sys

    folder = Path(__file__).resolve().parent / "fixtures" / "comfyui_video"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))  # its scripts import each other
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flux_tools_files():
    return _fixture_module("make_flux_tools_files")


def _chroma_files():
    """tests/fixtures/comfyui_image/make_chroma_files.py as a module."""
    import importlib.util

    script = Path(__file__).resolve().parent / "fixtures" / "comfyui_image" / "make_chroma_files.py"
    spec = importlib.util.spec_from_file_location("make_chroma_files", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _clip_vision_files():
    return _fixture_module("make_clip_vision_files")


def _upscale_models():
    return _fixture_module("make_upscale_models")


# -- shrinking to test size ---------------------------------------------------------------------------------------

_VIDEO_LATENT_SOURCES = ("EmptyHunyuanLatentVideo", "WanImageToVideo", "WanFirstLastFrameToVideo",
                         "Wan22ImageToVideoLatent")
_LATENT_SOURCES = ("EmptyLatentImage", "EmptySD3LatentImage", *_VIDEO_LATENT_SOURCES)
TEST_FRAMES = 5  # video lengths: two latent frames of a 4x temporal VAE


def shrink(prompt: dict) -> dict:
    """The prompt at test size: latents of TEST_SIZE px (areas and upscales scaled alike; a video's sides in
    multiples of 32, which every video VAE and patch size divides), TEST_FRAMES frames, TEST_STEPS steps,
    batches of 1."""
    latents = [(entry["inputs"].get("width", 0), entry["inputs"].get("height", 0))
               for entry in prompt.values() if entry["class_type"] in _LATENT_SOURCES]
    shortest = min((min(size) for size in latents if min(size) > 0), default=512)
    scale = TEST_SIZE / shortest  # the latent's shorter side becomes TEST_SIZE
    bounds = {"x": max((w for w, _ in latents), default=512) * scale - 64,
              "y": max((h for _, h in latents), default=512) * scale - 64}
    for entry in prompt.values():
        inputs = entry["inputs"]
        for name in ("width", "height", "x", "y"):
            value = inputs.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and entry["class_type"] != "ModelSamplingFlux":
                # 64 is the smallest area ConditioningSetArea takes; areas start inside the latent
                scaled = int(round(value * scale / 8)) * 8
                inputs[name] = min(scaled, max(0, int(bounds[name]) // 8 * 8)) if name in bounds else max(64, scaled)
        if entry["class_type"] in _VIDEO_LATENT_SOURCES:
            for name in ("width", "height"):
                inputs[name] = max(64, int(round(inputs[name] / 32)) * 32)
            inputs["length"] = TEST_FRAMES
        if isinstance(inputs.get("batch_size"), int):
            inputs["batch_size"] = 1
        if isinstance(inputs.get("steps"), int):
            old_steps = inputs["steps"]
            inputs["steps"] = TEST_STEPS
            for name in ("start_at_step", "end_at_step"):
                if isinstance(inputs.get(name), int):
                    inputs[name] = min(TEST_STEPS, round(inputs[name] * TEST_STEPS / max(old_steps, 1)))
        if entry["class_type"] == "ImageScaleToTotalPixels":
            inputs["megapixels"] = 0.01  # its minimum: 100 x 100 px
    return prompt


def write_input_images(prompt: dict, input_dir: Path) -> None:
    """A small picture under every name a LoadImage asks for in `input_dir` (and a LoadImageOutput, "name.png
    [output]", in the output folder beside it)."""
    for entry in prompt.values():
        name = entry["inputs"].get("image") if entry["class_type"] in ("LoadImage", "LoadImageOutput") else None
        if not isinstance(name, str):
            continue
        folder = input_dir
        if name.endswith(" [output]"):
            name, folder = name.removesuffix(" [output]"), input_dir.parent / "output"
        if not (folder / name).exists():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)  # names may have a subfolder ("pasted/")
            image = Image.new("RGBA", (TEST_SIZE, TEST_SIZE), (120, 90, 200, 255))
            image.paste((0, 0, 0, 0), (16, 16, 48, 48))  # a transparent hole: an inpainting mask
            if Path(name).suffix.lower() in (".jpg", ".jpeg"):  # no alpha in a JPEG
                image = image.convert("RGB")
            image.save(folder / name)


# -- status and running -------------------------------------------------------------------------------------------

@dataclass
class Verdict:
    name: str
    family: str
    status: str  # "runs", "missing node X", "missing family Y", "error: ..."
    seconds: float = 0.0


def classify(name: str, kiln_classes: set[str]) -> tuple[str, str, dict | None]:
    """(family, status before running, the API prompt as ComfyUI's interfaces give it)."""
    interfaces = json.loads(RECORDED_INTERFACES.read_text(encoding="utf-8"))
    try:
        prompt = convert_workflow(load_template(name), interfaces, strict=False)
    except Exception as error:  # noqa: BLE001 (reported in the table)
        return "-", f"error: {error}", None
    families = sorted({file.family for file in model_files(prompt)}) or ["-"]
    family = " + ".join(dict.fromkeys(families))
    missing = sorted({entry["class_type"] for entry in prompt.values()} - kiln_classes)
    if missing:
        return family, "missing node " + ", ".join(missing), prompt
    unwritable = sorted({file.family for file in model_files(prompt) if file.kind not in _WRITABLE})
    if unwritable:
        return family, "missing family " + ", ".join(unwritable), prompt
    return family, "ready", prompt


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{url}: {error.code} {error.read()[:600].decode(errors='replace')}") from None


def run_template(name: str, server_url: str, base_dir: Path, timeout: float = 300) -> str:
    """Run one template on the server at `server_url` (whose base directory is `base_dir`): "runs" or why not."""
    converted = _post(f"{server_url}/api/workflow/convert", {"workflow": load_template(name)})["prompt"]
    prompt = shrink(converted)
    for file in model_files(prompt):
        write_model(file, base_dir / "models")
    write_input_images(prompt, base_dir / "input")
    answer = _post(f"{server_url}/prompt", {"prompt": prompt})
    prompt_id = answer["prompt_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server_url}/history/{prompt_id}", timeout=30) as response:
            history = json.load(response).get(prompt_id)
        if history and history.get("status", {}).get("completed") is not None \
                and history["status"].get("status_str") in ("success", "error"):
            break
        time.sleep(0.2)
    else:
        return f"error: not finished within {timeout:.0f} s"
    if history["status"]["status_str"] != "success":
        failure = next((data for event, data in history["status"]["messages"] if event == "execution_error"), {})
        return f"error: node {failure.get('node_id')} ({failure.get('node_type')}): " \
               f"{failure.get('exception_message', '')}".strip()[:300]
    output_nodes = [node_id for node_id, entry in prompt.items()
                    if entry["class_type"] in ("SaveImage", "PreviewImage")]
    for node_id in output_nodes:
        images = history["outputs"].get(node_id, {}).get("images", [])
        folder = base_dir / ("output" if all(image.get("type") == "output" for image in images) else "temp")
        if not images or not all((base_dir / image.get("type", "output") / image.get("subfolder", "")
                                  / image["filename"]).is_file() for image in images):
            return f"error: output node {node_id} saved no files (looked in {folder})"
    return "runs"


def kiln_node_classes() -> set[str]:
    import nodes

    nodes.init_extra_nodes(init_custom_nodes=False)
    return set(nodes.NODE_CLASS_MAPPINGS)
