"""Record ComfyUI 0.3.64's Chroma network on the reduced random Chroma of make_chroma_files.py.

    ORACLE=/root/.cache/kiln-oracle
    flock /tmp/kiln-heavy.lock $ORACLE/venv/bin/python tools/oracle/record_chroma.py --oracle $ORACLE

Runs in the oracle's interpreter with ComfyUI's folder on sys.path (CPU, float32). ComfyUI's detection hardcodes
Chroma's full sizes, so this builds ComfyUI's own network class (`comfy.ldm.chroma.model.Chroma`) with the reduced
sizes, loads the file's weights into it strictly, and records its output (the velocity, in ComfyUI's latent
layout) for each case of CASES: latent size, batch, text length, sigma (ComfyUI's Chroma timestep, multiplier 1)
and guidance. Writes tests/fixtures/comfyui_image/chroma/network.safetensors (inputs and outputs) and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_image"
OUT = FIXTURES / "chroma" / "network"
# name: (batch, height, width (latent pixels), text tokens, sigma, guidance)
CASES = {"square": (1, 16, 16, 7, 0.8, 0.0), "odd_size_guided": (1, 14, 18, 5, 0.3, 4.0),
         "batch": (2, 8, 12, 9, 1.0, 0.0)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--oracle", required=True)
    options = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.path.insert(0, str(FIXTURES))
    sys.path.insert(0, str(Path(options.oracle) / "ComfyUI"))
    sys.argv = [sys.argv[0], "--cpu"]
    import comfy.options

    comfy.options.enable_args_parsing()
    import make_chroma_files
    import torch
    from safetensors.torch import save_file

    import comfy.ldm.chroma.model  # ComfyUI's, from the oracle's folder
    import comfy.ops

    config = dict(make_chroma_files.CONFIG)
    config.pop("head_dim")
    # ComfyUI's Chroma counts its channels packed (2x2 patches of 16: 64), as its detection sets them
    config.update(in_channels=64, out_channels=64)
    network = comfy.ldm.chroma.model.Chroma(image_model="chroma", qkv_bias=True, dtype=torch.float32,
                                            operations=comfy.ops.disable_weight_init, **config)
    network.load_state_dict(make_chroma_files.state_dict(), strict=True)
    network.eval()
    tensors, cases = {}, {}
    for index, (name, (batch, height, width, length, sigma, guidance)) in enumerate(CASES.items()):
        generator = torch.Generator().manual_seed(100 + index)
        x = torch.randn((batch, 16, height, width), generator=generator)
        context = torch.randn((batch, length, config["context_in_dim"]), generator=generator)
        with torch.no_grad():
            out = network(x, torch.full((batch,), sigma), context, torch.full((batch,), guidance))
        tensors.update({f"{name}.x": x, f"{name}.context": context, f"{name}.output": out.contiguous()})
        cases[name] = {"batch": batch, "height": height, "width": width, "text_tokens": length, "sigma": sigma,
                       "guidance": guidance, "max_abs_output": float(out.abs().max())}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(OUT) + ".safetensors")
    Path(str(OUT) + ".json").write_text(json.dumps(
        {"source": "ComfyUI 0.3.64 comfy.ldm.chroma.model.Chroma, CPU float32, weights from make_chroma_files.py",
         "config": make_chroma_files.CONFIG, "cases": cases}, indent=1) + "\n")
    print(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
