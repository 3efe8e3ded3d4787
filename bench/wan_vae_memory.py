"""Peak memory and time of decoding a Wan 2.1 video latent on the CPU, untiled and tiled (comfy/video_vae.py).

    OMP_NUM_THREADS=1 python bench/wan_vae_memory.py [--latent-frames 21] [--height 480] [--width 832]
                                                     [--dtype fp32|bf16] [--threads 1] [--keep DIR]

A full-size random Wan 2.1 VAE (the published layout, 127M parameters, weights from
tests/fixtures/comfyui_video/make_wan_vae_files.py) decodes a random latent [1, 16, T, H/8, W/8]: the defaults are
81 frames at 480x832 (latent [1, 16, 21, 60, 104]). Each mode runs in its own process so that its peak RSS is its
own: `untiled` (`VAE.decode`, what VAEDecode does) and `tiled` (`VAE.decode_tiled` with VAEDecodeTiled's defaults:
512-pixel tiles, 64 overlap, 64 frames at a time with 8 overlapping). Printed: peak RSS and seconds of each, and
the largest and mean difference of the tiled frames from the untiled ones.

Measured on the 2-core development machine (fp32, one thread, other work running) at 480x832 with 2 latent
frames (5 video frames): the full 81 frames take about an hour per decode on one core (~170 s per latent frame).
The numbers are in `MEASURED` below. Peak memory grows with the frame count only by the output video: diffusers
decodes one latent frame at a time through a causal cache of each conv's last two input frames, so from the
second latent frame on the working set is fixed; the output adds 3 x frames x H x W x 4 bytes (388 MB at 81
frames of 480x832) and its copies.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEASURED = """2026-12-08, the 2-core development machine (load about 3: other work running), fp32, one thread,
`--latent-frames 2` (latent [1, 16, 2, 60, 104] -> 5 frames of 480x832):
  untiled 8.69 GiB peak RSS, 305.7 s; tiled 5.88 GiB peak RSS, 290.2 s (1.11 GiB peak while loading);
  tiled - untiled: max 0.1335, mean 0.00656 (pixels 0..1). The random weights see the whole picture (and the
  mid-block attention is global), so tiles differ from the whole more than a trained VAE's would.
At 81 frames (not run: about an hour per mode) the output video and its copies add about 1.2-1.6 GB."""


def _vae(dtype: str):
    import torch

    sys.path.insert(0, str(REPO / "tests" / "fixtures" / "comfyui_video"))
    import make_wan_vae_files

    from comfy import video_vae
    from comfy.families import wan_vae

    config = wan_vae.WanVAEConfig("wan2.1", 96, 96, 16, (1, 2, 4, 4), 2, (False, True, True), 3)
    weights = make_wan_vae_files.weights(wan_vae.original_layout(config), make_wan_vae_files.SEEDS["wan2.1"])
    chosen = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    return video_vae.VideoVAE(wan_vae.load(weights, "wan_2.1_vae (random)", chosen), config, dtype=chosen)


def run_one(mode: str, options: argparse.Namespace) -> None:
    """In a child process: decode once in `mode`, save the frames, print one JSON line."""
    import torch
    from safetensors.torch import save_file

    import comfy  # noqa: F401  (Kiln first: it sets up the libraries)
    from core_nodes.vae_nodes import VAEDecode, VAEDecodeTiled

    torch.set_num_threads(options.threads)
    vae = _vae(options.dtype)
    latent = torch.randn((1, 16, options.latent_frames, options.height // 8, options.width // 8),
                         generator=torch.Generator().manual_seed(1))
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    start = time.perf_counter()
    if mode == "untiled":
        (frames,) = VAEDecode().decode(vae, {"samples": latent})
    else:
        (frames,) = VAEDecodeTiled().decode(vae, {"samples": latent}, tile_size=512, overlap=64, temporal_size=64,
                                            temporal_overlap=8)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    save_file({"frames": frames.contiguous()}, str(Path(options.keep) / f"{mode}.safetensors"))
    print(json.dumps({"mode": mode, "peak_rss_gib": round(peak, 2), "peak_rss_loading_gib": round(loaded, 2),
                      "seconds": round(seconds, 1), "frames": list(frames.shape)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latent-frames", type=int, default=21)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--width", type=int, default=832)
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--keep", help="a folder for the decoded frames (default: a temporary one)")
    parser.add_argument("--child", choices=("untiled", "tiled"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        run_one(options.child, options)
        return
    options.keep = options.keep or tempfile.mkdtemp(prefix="kiln-wan-vae-")
    Path(options.keep).mkdir(parents=True, exist_ok=True)
    results = {}
    for mode in ("untiled", "tiled"):
        command = [sys.executable, __file__, "--child", mode, "--keep", options.keep,
                   *(f"--{name.replace('_', '-')}={getattr(options, name)}"
                     for name in ("latent_frames", "height", "width", "dtype", "threads"))]
        environment = {**os.environ, "OMP_NUM_THREADS": str(options.threads),
                       "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        output = subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stdout
        results[mode] = json.loads(output.strip().splitlines()[-1])
        print(results[mode], flush=True)

    import torch
    from safetensors.torch import load_file

    untiled = load_file(str(Path(options.keep) / "untiled.safetensors"))["frames"]
    tiled = load_file(str(Path(options.keep) / "tiled.safetensors"))["frames"]
    difference = (tiled - untiled).abs()
    print(f"latent [1, 16, {options.latent_frames}, {options.height // 8}, {options.width // 8}] {options.dtype}: "
          f"untiled {results['untiled']['peak_rss_gib']} GiB peak, {results['untiled']['seconds']} s; "
          f"tiled {results['tiled']['peak_rss_gib']} GiB peak, {results['tiled']['seconds']} s; "
          f"tiled - untiled: max {difference.max().item():.4f}, mean {difference.mean().item():.5f} "
          f"(pixels 0..1; frames {list(untiled.shape)}, {torch.equal(tiled, untiled) and 'identical' or 'blended'})")


if __name__ == "__main__":
    main()
