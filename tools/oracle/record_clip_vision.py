"""Record ComfyUI 0.3.64's CLIP vision outputs (`comfy.clip_vision.load(...).encode_image`, what CLIPVisionEncode
returns) for the random encoders of tests/fixtures/comfyui_nodes/make_clip_vision_files.py.

    ORACLE=/root/.cache/kiln-oracle
    flock /tmp/kiln-heavy.lock $ORACLE/venv/bin/python tools/oracle/record_clip_vision.py --oracle $ORACLE

Runs in the oracle's interpreter with ComfyUI's folder on sys.path (ComfyUI's own loader and encoder, CPU), on
the fixture's two pictures (160x240 and 256x192 random pixels) with crop "center" and "none". Writes
tests/fixtures/comfyui_nodes/clip_vision/outputs.safetensors: for each case, `image_embeds`, `last_hidden_state`
and `penultimate_hidden_states` (float32), of token sequences every 16th token;
and for FLUX.1 Redux (`comfy.sd.load_style_model`, `nodes.StyleModelApply` on the fixture's text conditioning and
the first picture's SigLIP output) the resulting tokens (every 16th token, every 8th feature) and attention mask (every 16th row).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_nodes"
OUT = FIXTURES / "clip_vision" / "outputs.safetensors"
CASES = {"vit_l": ("center", "none"), "siglip_384": ("center",)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--oracle", required=True, help="the folder comfy-oracle prints")
    parser.add_argument("--files", help="a folder for the encoder files (default: a temporary one)")
    options = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(FIXTURES))
    sys.path.insert(0, str(Path(options.oracle) / "ComfyUI"))
    sys.argv = [sys.argv[0], "--cpu"]
    import comfy.options

    comfy.options.enable_args_parsing()  # so that ComfyUI reads --cpu
    import make_clip_vision_files
    from safetensors.torch import save_file

    import comfy.clip_vision  # ComfyUI's, from the oracle's folder
    import comfy.sd
    import nodes

    work = Path(options.files or tempfile.mkdtemp(prefix="kiln-cv-"))
    files = make_clip_vision_files.build(work, [*CASES, "redux"])
    recorded = {}
    stride = make_clip_vision_files.TOKEN_STRIDE
    for name, crops in CASES.items():
        encoder = comfy.clip_vision.load(str(files[name]))
        for crop in crops:
            for index, picture in enumerate(make_clip_vision_files.pictures()):
                out = encoder.encode_image(picture, crop=crop == "center")
                case = f"{name}/{crop}/{index}"
                for key in ("image_embeds", "last_hidden_state", "penultimate_hidden_states"):
                    value = out[key] if out[key].ndim == 2 else out[key][:, ::make_clip_vision_files.TOKEN_STRIDE]
                    recorded[f"{case}/{key}"] = value.float().contiguous()
                print(case, {key: tuple(value.shape) for key, value in recorded.items() if key.startswith(case)})
        if name == "siglip_384":  # FLUX.1 Redux on the first picture's SigLIP tokens
            style_model = comfy.sd.load_style_model(str(files["redux"]))
            siglip_output = encoder.encode_image(make_clip_vision_files.pictures()[0], crop=True)
            for case, (strength, strength_type) in make_clip_vision_files.STYLE_CASES.items():
                (conditioning,) = nodes.StyleModelApply().apply_stylemodel(
                    make_clip_vision_files.style_conditioning(), style_model, siglip_output, strength, strength_type)
                tokens, options = conditioning[0]
                recorded[f"redux/{case}/tokens"] = tokens[:, ::stride, ::8].float().contiguous()
                if "attention_mask" in options:
                    recorded[f"redux/{case}/attention_mask"] = options["attention_mask"][:, ::stride].float().contiguous()
                print(case, tuple(tokens.shape), sorted(options))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file(recorded, str(OUT), metadata={"comfyui": "0.3.64",
                                                 "token_stride": str(make_clip_vision_files.TOKEN_STRIDE)})
    print(OUT)


if __name__ == "__main__":
    main()
