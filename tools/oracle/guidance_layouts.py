#!/usr/bin/env python
"""Write tests/fixtures/comfyui_guidance/layouts.json: the keys and shapes of every random guidance file the
recorded guidance runs use, in each format's original layout, read off Kiln's own format modules (diffusers
models built on the `meta` device, renamed with the tables Kiln loads them with).

    python tools/oracle/guidance_layouts.py                 # (re)write layouts.json, keeping recorded hashes
    python tools/oracle/guidance_layouts.py --hash DIR      # record sha256 / sizes of the files built in DIR

The files themselves are built by tests/fixtures/comfyui_guidance/make_guidance_models.py (torch and safetensors
only, so the oracle's venv builds the same bytes). That ComfyUI loads them without a missing-key warning is
checked when the runs are recorded (tools/oracle/record_guidance_fixtures.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import comfy  # noqa: E402,F401,I001  (first: keeps transformers importable beside the CPU torch)
import torch  # noqa: E402

LAYOUTS = REPO / "tests" / "fixtures" / "comfyui_guidance" / "layouts.json"
RULE = (Path(REPO / "tests" / "fixtures" / "comfyui_guidance" / "make_guidance_models.py").read_text()
        .split("THE RULE (also under \"rule\" in layouts.json):\n", 1)[1].split('"""', 1)[0].rstrip())


def _meta_state(model_class: type, **config: Any) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return model_class(**config).state_dict()


def _keys(shapes: dict[str, Any]) -> list[list]:
    return [[name, list(shapes[name].shape if hasattr(shapes[name], "shape") else shapes[name])]
            for name in sorted(shapes)]


SD15_CONTROLNET = {
    "in_channels": 4, "conditioning_channels": 3, "block_out_channels": [320, 640, 1280, 1280],
    "down_block_types": ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"], "layers_per_block": 2,
    "cross_attention_dim": 768, "attention_head_dim": 8, "conditioning_embedding_out_channels": [16, 32, 96, 256],
}


def sd15_controlnet() -> dict[str, dict]:
    from diffusers import ControlNetModel

    from comfy.guidance import formats, sd_controlnet

    state = _meta_state(ControlNetModel, **SD15_CONTROLNET)
    names = sd_controlnet.ldm_names(list(state), SD15_CONTROLNET["layers_per_block"])
    assert len(names) == len(state)
    original = {names[key]: value for key, value in state.items()}
    return {
        "cn-sd15": {"path": "controlnet/kiln-cn-sd15.safetensors", "dtype": "float16", "init": "fanin",
                    "prefix": formats.SD_ORIGINAL_PREFIX, "keys": _keys(original), "gains": {"input_hint_block.": 1.7},
                    "about": "SD1.5 ControlNet, full size, lllyasviel's layout (control_model.*)"},
        "cn-sd15-diffusers": {"path": "controlnet/kiln-cn-sd15-diffusers.safetensors", "renamed": "cn-sd15",
                              "renames": {key: names[key] for key in sorted(state)},
                              "about": "the same tensors in diffusers' ControlNetModel layout"},
    }


def sd15_t2i_adapters() -> dict[str, dict]:
    from diffusers import T2IAdapter

    from comfy.guidance import t2i_adapter

    files = {}
    for file_id, adapter_type, blocks, about in (
            ("t2i-sd15", "full_adapter", 2, "SD1.5 T2I-Adapter (full), TencentARC's layout"),
            ("t2i-sd15-light", "light_adapter", 4, "SD1.5 T2I-Adapter (light), TencentARC's layout")):
        channels = [320, 640, 1280, 1280] if adapter_type == "full_adapter" else [320, 640, 1280]
        state = _meta_state(T2IAdapter, in_channels=3, channels=channels, num_res_blocks=blocks,
                            downscale_factor=8, adapter_type=adapter_type)
        table = t2i_adapter.key_table(list(state), light=adapter_type == "light_adapter")
        original = {name: state[key] for name, key in table.items()}
        files[file_id] = {"path": f"controlnet/kiln-{file_id}.safetensors", "dtype": "float16", "init": "fanin",
                          "keys": _keys(original), "about": about}
    return files


# The smallest SDXL ComfyUI 0.3.64 loads: Segmind Vega's depths ([0, 0, 1, 1, 2, 2]); the middle block as deep as
# the last level. Full widths (320, 640, 1280; context 2048; adm 2816).
SDXL_VEGA_UNET = {
    "sample_size": 128, "in_channels": 4, "out_channels": 4, "block_out_channels": [320, 640, 1280],
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"], "layers_per_block": 2,
    "cross_attention_dim": 2048, "attention_head_dim": [5, 10, 20], "use_linear_projection": True,
    "transformer_layers_per_block": [1, 1, 2], "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
# ComfyUI's `SDXL_mid_cnet` (diffusers' controlnet-*-sdxl-1.0-mid): attention in the last level only.
SDXL_MID_CONTROLNET = {
    "in_channels": 4, "conditioning_channels": 3, "block_out_channels": [320, 640, 1280],
    "down_block_types": ["DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"], "layers_per_block": 2,
    "cross_attention_dim": 2048, "attention_head_dim": [5, 10, 20], "use_linear_projection": True,
    "transformer_layers_per_block": [1, 1, 1], "addition_embed_type": "text_time", "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816, "conditioning_embedding_out_channels": [16, 32, 96, 256],
}
CONTROL_LORA_RANK = 8


def sdxl() -> dict[str, dict]:
    from diffusers import ControlNetModel, ControlNetUnionModel, T2IAdapter, UNet2DConditionModel

    from comfy.families.unet import unet_ldm_names
    from comfy.guidance import formats, sd_controlnet, t2i_adapter

    unet_state = _meta_state(UNet2DConditionModel, **SDXL_VEGA_UNET)
    unet_names = unet_ldm_names(list(unet_state), SDXL_VEGA_UNET)
    files = {"sdxl-vega": {"path": "diffusion_models/kiln-sdxl-vega.safetensors", "dtype": "float16",
                           "init": "fanin", "keys": _keys({unet_names[key]: value for key, value in unet_state.items()}),
                           "about": "an SDXL UNet of Segmind Vega's depths (ComfyUI's smallest SDXL), LDM layout"}}
    controlnet = _meta_state(ControlNetModel, **SDXL_MID_CONTROLNET)
    files["cn-sdxl"] = {"path": "controlnet/kiln-cn-sdxl-mid.safetensors", "dtype": "float16", "init": "fanin",
                        "keys": _keys(controlnet), "gains": {"controlnet_cond_embedding.": 1.7}, "seed": 1000000,
                        "about": "SDXL ControlNet of ComfyUI's SDXL_mid_cnet shape, diffusers' layout"}
    union = _meta_state(ControlNetUnionModel, num_control_type=8,
                        **{key: value for key, value in SDXL_MID_CONTROLNET.items()})
    files["cn-sdxl-union"] = {"path": "controlnet/kiln-cn-sdxl-union-promax.safetensors", "dtype": "float16",
                              "init": "fanin", "keys": _keys(union), "seed": 2000000,
                              "gains": {"controlnet_cond_embedding.": 1.7},
                              "about": "xinsir's ControlNet-union (promax, 8 types) of the SDXL_mid_cnet shape"}
    # Control-LoRA: the ControlNet a Vega-shaped UNet makes, its hint encoder, zero convs, norms and biases in
    # full, every other weight as a rank-8 up/down pair (Stability's control-lora layout, LDM names)
    with torch.device("meta"):
        made = ControlNetModel.from_unet(UNet2DConditionModel(**SDXL_VEGA_UNET),
                                         conditioning_embedding_out_channels=(16, 32, 96, 256))
    names = sd_controlnet.ldm_names(list(made.state_dict()), 2)
    lora: dict[str, list[int]] = {formats.CONTROL_LORA_MARKER: []}
    for key, value in made.state_dict().items():
        name = names[key]
        full = name.startswith(("input_hint_block.", "zero_convs.", "middle_block_out.")) or value.ndim == 1
        if full:
            lora[name] = list(value.shape)
            continue
        base = name.removesuffix(".weight")
        rest = list(value.shape[2:])
        lora[base + ".up"] = [value.shape[0], CONTROL_LORA_RANK] + [1] * len(rest)
        lora[base + ".down"] = [CONTROL_LORA_RANK, value.shape[1]] + rest
    files["control-lora-sdxl"] = {"path": "controlnet/kiln-control-lora-sdxl-rank8.safetensors", "dtype": "float16",
                                  "init": "fanin", "keys": _keys(lora), "seed": 3000000,
                                  "special": {formats.CONTROL_LORA_MARKER: "zeros"},
                                  "gains": {"input_hint_block.": 1.7},
                                  "about": "a rank-8 Control-LoRA for the Vega-shaped SDXL, Stability's layout"}
    adapter = _meta_state(T2IAdapter, in_channels=3, channels=[320, 640, 1280, 1280], num_res_blocks=2,
                          downscale_factor=16, adapter_type="full_adapter_xl")
    table = t2i_adapter.key_table(list(adapter), light=False)
    files["t2i-sdxl"] = {"path": "controlnet/kiln-t2i-sdxl.safetensors", "dtype": "float16", "init": "fanin",
                         "keys": _keys({name: adapter[key] for name, key in table.items()}), "seed": 4000000,
                         "about": "SDXL T2I-Adapter (full_adapter_xl), TencentARC's layout"}
    return files


# An SD3 ControlNet (diffusers' SD3ControlNetModel) for the reduced reference SD3 (tests/fixtures/comfyui/
# sd3_keys.json: width 128 = depth 2, 64x64 positions): one block, whose output ComfyUI feeds to joint block 0.
SD3_CONTROLNET = {
    "patch_size": 2, "in_channels": 16, "num_layers": 1, "attention_head_dim": 64, "num_attention_heads": 2,
    "joint_attention_dim": 4096, "caption_projection_dim": 128, "pooled_projection_dim": 2048, "out_channels": 16,
    "pos_embed_max_size": 64,
}


def sd3() -> dict[str, dict]:
    from diffusers import SD3ControlNetModel

    state = _meta_state(SD3ControlNetModel, **SD3_CONTROLNET)
    return {"cn-sd3": {"path": "controlnet/kiln-cn-sd3.safetensors", "dtype": "float16", "init": "fanin",
                       "keys": _keys(state), "seed": 5000000,
                       "about": "SD3 ControlNet (diffusers' layout), one block, for the reduced reference SD3"}}


# An XLabs FLUX.1 ControlNet of one double block (XLabs' own have two) at FLUX.1's full width, for the reduced
# reference FLUX.1-dev (tests/fixtures/comfyui/flux_keys.json: one double and one single block).
FLUX_XLABS_CONTROLNET = {
    "hidden_size": 3072, "head_dim": 128, "mlp_ratio": 4.0, "depth": 1, "depth_single_blocks": 0,
    "context_in_dim": 4096, "vec_in_dim": 768, "in_channels": 16, "out_channels": 16, "patch_size": 2,
    "guidance_embed": True,
}


def flux_controlnets() -> dict[str, dict]:
    from comfy.families import flux
    from comfy.guidance import flux_controlnet

    layout = {key: value for key, value in flux.original_layout(FLUX_XLABS_CONTROLNET).items()
              if not key.startswith("final_layer.")}
    hidden = FLUX_XLABS_CONTROLNET["hidden_size"]
    for index in range(FLUX_XLABS_CONTROLNET["depth"]):
        layout[f"{flux_controlnet.CONTROL_BLOCKS_PREFIX}{index}.weight"] = (hidden, hidden)
        layout[f"{flux_controlnet.CONTROL_BLOCKS_PREFIX}{index}.bias"] = (hidden,)
    layout[flux_controlnet.HINT_EMBEDDER_PREFIX + "weight"] = (hidden, 16 * 4)
    layout[flux_controlnet.HINT_EMBEDDER_PREFIX + "bias"] = (hidden,)
    with torch.device("meta"):
        encoder = flux_controlnet.HintEncoder()
    for key, value in encoder.layers.state_dict().items():
        layout[flux_controlnet.HINT_PREFIX + key] = tuple(value.shape)
    from diffusers import FluxControlNetModel

    instantx = _meta_state(FluxControlNetModel, num_layers=1, num_single_layers=1, guidance_embeds=True)
    return {"cn-flux-instantx": {"path": "controlnet/kiln-cn-flux-instantx.safetensors", "dtype": "float16",
                                 "init": "fanin", "keys": _keys(instantx), "seed": 7000000,
                                 "about": "an InstantX FLUX.1 ControlNet (diffusers' layout), one double and one "
                                          "single block, full width"},
            "cn-flux-xlabs": {"path": "controlnet/kiln-cn-flux-xlabs.safetensors", "dtype": "float16",
                              "init": "fanin", "keys": _keys(layout), "seed": 6000000,
                              "gains": {flux_controlnet.HINT_PREFIX: 1.7},
                              "about": "an XLabs FLUX.1 ControlNet (BFL names), one double block, full width"}}


BUILDERS: list[Callable[[], dict[str, dict]]] = [sd15_controlnet, sd15_t2i_adapters, sdxl, sd3, flux_controlnets]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hash", metavar="MODELS_DIR", help="record sha256 and sizes of the built files")
    options = parser.parse_args()
    previous = json.loads(LAYOUTS.read_text())["files"] if LAYOUTS.exists() else {}
    files: dict[str, dict] = {}
    for builder in BUILDERS:
        files.update(builder())
    for file_id, spec in files.items():
        for kept in ("sha256", "file_bytes"):
            if kept in previous.get(file_id, {}) and previous[file_id].get("keys") == spec.get("keys") \
                    and previous[file_id].get("renames") == spec.get("renames"):
                spec[kept] = previous[file_id][kept]
    if options.hash:
        sys.path.insert(0, str(LAYOUTS.parent))
        import make_guidance_models

        for spec in files.values():
            path = os.path.join(options.hash, spec["path"])
            if os.path.exists(path):
                spec["sha256"] = make_guidance_models.file_sha256(path)
                spec["file_bytes"] = os.path.getsize(path)
    LAYOUTS.parent.mkdir(parents=True, exist_ok=True)
    LAYOUTS.write_text(json.dumps({"rule": RULE, "files": files}, indent=1) + "\n")
    print(f"{LAYOUTS}: {len(files)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
