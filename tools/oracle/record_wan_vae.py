"""Record ComfyUI 0.3.64's Wan 2.1 and Wan 2.2 VAE outputs for the reduced random VAEs of
tests/fixtures/comfyui_video/make_wan_vae_files.py.

    ORACLE=/root/.cache/kiln-oracle
    flock /tmp/kiln-heavy.lock $ORACLE/venv/bin/python tools/oracle/record_wan_vae.py --oracle $ORACLE

Runs in the oracle's interpreter with ComfyUI's folder on sys.path (CPU, one thread). ComfyUI builds its Wan VAEs
at the published widths whatever the file holds, so for the reduced files this script has `comfy.sd.VAE` build
ComfyUI's own `WanVAE` classes at the reduced widths (the only change; detection, loading, dtype choice and the
decode / encode paths are ComfyUI's). The file's layout is that network's state dict, filled from the seed.

Also `wan2.1_full`: a full-size Wan 2.1 VAE (96 wide, as ComfyUI builds it for wan_2.1_vae.safetensors).
For each, on a fixed latent (2 latent frames, 32x32 pixels) and fixed frames (5 frames, 32x32):
`VAE.decode` (a 5-D video), the VAEDecode node's IMAGE, `VAE.encode` and the VAEEncode node's latent, and the
VAE's attributes (dtype, latent channels, compression ratios). Writes tests/fixtures/comfyui_video/wan_vae/
outputs.safetensors and recording.json (with the weight files' SHA-256), and published_layouts.json: the
full-size networks' keys and shapes ({version: {key: shape}}) for the detection tests.
"""

from __future__ import annotations

import json
from pathlib import Path

from in_process import start_comfyui

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "comfyui_video"
OUT = FIXTURES / "wan_vae"
LATENT_SEED, FRAMES_SEED = 7, 8
FRAMES, SIZE, LATENT_FRAMES = 5, 32, 2


def inputs(z_dim: int, ratio: int):
    """The recorded inputs: a latent [1, z_dim, 2, 32/ratio, 32/ratio] and frames [5, 32, 32, 3] in 0..1."""
    import torch

    latent = torch.randn((1, z_dim, LATENT_FRAMES, SIZE // ratio, SIZE // ratio),
                         generator=torch.Generator().manual_seed(LATENT_SEED))
    frames = torch.rand((FRAMES, SIZE // 4, SIZE // 4, 3), generator=torch.Generator().manual_seed(FRAMES_SEED))
    frames = torch.nn.functional.interpolate(frames.movedim(-1, 1), size=(SIZE, SIZE), mode="bilinear").movedim(1, -1)
    return latent, frames.clamp(0, 1).contiguous()


def main() -> None:
    start_comfyui(FIXTURES, __doc__)
    import make_wan_vae_files
    import torch
    from safetensors.torch import save_file

    import comfy.ldm.wan.vae
    import comfy.ldm.wan.vae2_2
    import comfy.sd
    import nodes

    published = {"wan2.1": comfy.ldm.wan.vae.WanVAE, "wan2.2": comfy.ldm.wan.vae2_2.WanVAE}
    recorded, facts = {}, {}
    for version in make_wan_vae_files.SEEDS:
        network = published[version.removesuffix("_full")]
        width, decoder_width, z_dim, _ = make_wan_vae_files.REDUCED[version]
        sizes = {"dim": width, "dec_dim": decoder_width} if version == "wan2.2" else {"dim": width}

        def reduced(*args, network=network, sizes=sizes, **kwargs):
            return network(*args, **{**kwargs, **sizes})

        with torch.device("meta"):
            layout = {key: tuple(value.shape) for key, value in reduced(
                z_dim=z_dim, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                temperal_downsample=[False, True, True]).state_dict().items()}
        state = make_wan_vae_files.weights(layout, make_wan_vae_files.SEEDS[version])
        module = comfy.ldm.wan.vae2_2 if version == "wan2.2" else comfy.ldm.wan.vae
        module.WanVAE = reduced  # (for wan2.1_full the published width: ComfyUI's own network as it is)
        try:
            vae = comfy.sd.VAE(sd=dict(state))
        finally:
            module.WanVAE = network
        ratio = vae.spacial_compression_decode()
        latent, frames = inputs(z_dim, ratio)
        with torch.inference_mode():
            decoded = vae.decode(latent)
            (image,) = nodes.VAEDecode().decode(vae, {"samples": latent})
            encoded = vae.encode(frames)
            (node_latent,) = nodes.VAEEncode().encode(vae, frames)
        recorded.update({f"{version}/latent": latent, f"{version}/frames": frames,
                         f"{version}/decode": decoded.float(), f"{version}/vae_decode_node": image.float(),
                         f"{version}/encode": encoded.float(), f"{version}/vae_encode_node": node_latent["samples"].float()})
        facts[version] = {
            "sha256": make_wan_vae_files.sha256(state), "keys": len(state),
            "vae_dtype": str(vae.vae_dtype), "latent_channels": vae.latent_channels, "latent_dim": vae.latent_dim,
            "spacial_compression_decode": vae.spacial_compression_decode(),
            "spacial_compression_encode": vae.spacial_compression_encode(),
            "temporal_compression_decode": vae.temporal_compression_decode(),
            "upscale_frames_of_2": vae.upscale_ratio[0](2), "downscale_frames_of_5": vae.downscale_ratio[0](5),
            "upscale_index_formula": list(vae.upscale_index_formula),
            "downscale_index_formula": list(vae.downscale_index_formula),
            "decode_shape": list(decoded.shape), "vae_decode_node_shape": list(image.shape),
            "encode_shape": list(encoded.shape),
        }
        print(version, facts[version])
    full = {}  # the published networks' layouts, as ComfyUI builds them for wan_2.1_vae / wan2.2_vae files
    with torch.device("meta"):
        for version, (network, width, z_dim) in {"wan2.1": (published["wan2.1"], 96, 16),
                                                 "wan2.2": (published["wan2.2"], 160, 48)}.items():
            model = network(dim=width, z_dim=z_dim, dim_mult=[1, 2, 4, 4], num_res_blocks=2, attn_scales=[],
                            temperal_downsample=[False, True, True])
            full[version] = {key: list(value.shape) for key, value in model.state_dict().items()}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "published_layouts.json").write_text(json.dumps(full, separators=(",", ":")) + "\n")
    save_file({key: value.contiguous() for key, value in recorded.items()}, str(OUT / "outputs.safetensors"))
    (OUT / "recording.json").write_text(json.dumps({"comfyui": "0.3.64 (a125cd84)", "device": "cpu",
                                                    "threads": 1, "versions": facts}, indent=1) + "\n")


if __name__ == "__main__":
    main()
