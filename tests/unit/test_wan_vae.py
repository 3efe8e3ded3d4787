"""The Wan 2.1 / 2.2 VAEs (comfy/families/wan_vae.py, comfy/video_vae.py, the VAE nodes on videos) give ComfyUI
0.3.64's outputs. Reduced random VAEs in the original Wan layout (16 wide; Wan 2.2's decoder 24), rebuilt from a
seed by tests/fixtures/comfyui_video/make_wan_vae_files.py, decoded and encoded by ComfyUI on the CPU and recorded
by tools/oracle/record_wan_vae.py (2 latent frames -> 5 frames of 32x32); and a full-size Wan 2.1 VAE. Tolerances: pixels within 1e-4 (the
measured difference is about 1e-6), latents within 1e-4 of their largest value; detection on the published
full-size layouts (ComfyUI's own networks' keys and shapes) with `meta` tensors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import comfy.sd
from comfy import video_vae
from comfy.families import wan_vae
from comfy.families.base import WeightLoadError
from core_nodes.vae_nodes import VAEDecode, VAEDecodeTiled, VAEEncode, VAEEncodeTiled

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_video"
sys.path.insert(0, str(FIXTURES))
import make_wan_vae_files  # noqa: E402

RECORDED = load_file(FIXTURES / "wan_vae" / "outputs.safetensors")
FACTS = json.loads((FIXTURES / "wan_vae" / "recording.json").read_text())["versions"]
PUBLISHED = json.loads((FIXTURES / "wan_vae" / "published_layouts.json").read_text())
VERSIONS = ("wan2.1", "wan2.2")


def _reduced_config(version: str) -> wan_vae.WanVAEConfig:
    width, decoder_width, z_dim, channels = make_wan_vae_files.REDUCED[version]
    return wan_vae.WanVAEConfig(version.removesuffix("_full"), width, decoder_width, z_dim, (1, 2, 4, 4), 2,
                                (False, True, True), channels)


def _reduced_weights(version: str, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    layout = wan_vae.original_layout(_reduced_config(version))
    return make_wan_vae_files.weights(layout, make_wan_vae_files.SEEDS[version], dtype)


@pytest.fixture(scope="module")
def vae_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("wan_vae")
    files = {}
    for version in VERSIONS:
        weights = _reduced_weights(version)
        assert make_wan_vae_files.sha256(weights) == FACTS[version]["sha256"], "not the recorded weights"
        files[version] = folder / f"{version}_vae.safetensors"
        save_file(weights, str(files[version]))
    return files


@pytest.fixture(scope="module")
def vaes(vae_files) -> dict[str, video_vae.VideoVAE]:
    torch.set_num_threads(1)
    loaded = {version: comfy.sd.load_vae(str(path)) for version, path in vae_files.items()}
    full = _reduced_weights("wan2.1_full")  # the published size, 0.5 GB: loaded without writing a file
    assert make_wan_vae_files.sha256(full) == FACTS["wan2.1_full"]["sha256"], "not the recorded weights"
    loaded["wan2.1_full"] = video_vae.load(full, "wan_2.1_vae.safetensors")
    return loaded


def _meta(layout: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return {key: torch.empty(shape) for key, shape in layout.items()}


def _assert_close(value: torch.Tensor, expected: torch.Tensor, relative: float = 1e-4) -> float:
    assert value.shape == expected.shape
    difference = (value.float() - expected).abs().max().item()
    assert difference <= relative * expected.abs().max().item(), difference
    return difference


@pytest.mark.parametrize("version, width, decoder_width, z_dim, channels, spatial",
                         [("wan2.1", 96, 96, 16, 3, 8), ("wan2.2", 160, 256, 48, 12, 16)])
def test_published_wan_vae_layouts_are_detected_from_their_shapes(version, width, decoder_width, z_dim, channels,
                                                                   spatial):
    state = _meta(PUBLISHED[version])
    assert wan_vae.is_wan_vae(state)
    config = wan_vae.detect(state)
    assert (config.version, config.base_dim, config.decoder_base_dim, config.z_dim, config.in_channels) == (
        version, width, decoder_width, z_dim, channels)
    assert (config.dim_mult, config.num_res_blocks, config.temporal_downsample) == ((1, 2, 4, 4), 2,
                                                                                    (False, True, True))
    assert (config.spatial_ratio, config.temporal_ratio) == (spatial, 4)
    layout = {key: list(shape) for key, shape in wan_vae.original_layout(config).items()}
    assert layout == PUBLISHED[version]
    network = wan_vae.load(state, f"{version}_vae.safetensors", dtype=None)  # every key converted and checked
    assert type(network).__name__ == "AutoencoderKLWan" and network.config.z_dim == z_dim
    assert len(wan_vae.key_table(config)) == len(layout)


@pytest.mark.parametrize("version", [*VERSIONS, "wan2.1_full"])
def test_wan_vae_decodes_and_encodes_as_comfyui(vaes, version):
    vae, facts = vaes[version], FACTS[version]
    assert isinstance(vae, video_vae.VideoVAE)
    assert str(vae.vae_dtype) == facts["vae_dtype"]
    assert (vae.latent_channels, vae.latent_dim) == (facts["latent_channels"], facts["latent_dim"])
    assert vae.spacial_compression_decode() == facts["spacial_compression_decode"]
    assert vae.spacial_compression_encode() == facts["spacial_compression_encode"]
    assert vae.temporal_compression_decode() == facts["temporal_compression_decode"]
    assert (vae.upscale_ratio[0](2), vae.downscale_ratio[0](5)) == (facts["upscale_frames_of_2"],
                                                                     facts["downscale_frames_of_5"])
    assert list(vae.upscale_index_formula) == facts["upscale_index_formula"]
    latent, frames = RECORDED[f"{version}/latent"], RECORDED[f"{version}/frames"]

    _assert_close(vae.decode(latent), RECORDED[f"{version}/decode"])  # [1, 5, 32, 32, 3]
    (image,) = VAEDecode().decode(vae, {"samples": latent})
    _assert_close(image, RECORDED[f"{version}/vae_decode_node"])  # the frames as one IMAGE batch [5, 32, 32, 3]
    _assert_close(vae.encode(frames), RECORDED[f"{version}/encode"])  # [1, C, 2, 32/r, 32/r], the posterior mean
    (encoded,) = VAEEncode().encode(vae, frames)
    _assert_close(encoded["samples"], RECORDED[f"{version}/vae_encode_node"])
    # One frame more than 1 + 4k is dropped; a picture not a multiple of the ratio is centre-cropped.
    padded = torch.nn.functional.pad(frames.movedim(-1, 1), (3, 4, 2, 2), value=0.3).movedim(1, -1)
    _assert_close(vae.encode(torch.cat([padded, padded[:1]])), RECORDED[f"{version}/encode"])


def test_half_precision_wan_vae_files_load_and_decode_close_to_float32(tmp_path):
    latent = RECORDED["wan2.1/latent"]
    for dtype in (torch.float16, torch.bfloat16):
        path = tmp_path / f"wan_{dtype}.safetensors"
        save_file(_reduced_weights("wan2.1", dtype), str(path))
        vae = comfy.sd.load_vae(str(path))
        assert vae.vae_dtype == torch.float32  # ComfyUI's choice on the CPU, whatever the file holds
        difference = (vae.decode(latent) - RECORDED["wan2.1/decode"]).abs().max().item()
        assert 0 < difference < 0.05, (dtype, difference)  # the rounded weights' drift, not a different network


def test_get_sd_gives_back_the_file_in_the_original_layout(vaes, vae_files):
    written = load_file(str(vae_files["wan2.2"]))
    saved = vaes["wan2.2"].get_sd()
    assert set(saved) == set(written)
    assert all(torch.equal(saved[key], written[key]) for key in written)


def test_tiled_video_blending_reassembles_a_pointwise_function_exactly():
    samples = torch.randn(2, 4, 5, 12, 10, generator=torch.Generator().manual_seed(3))

    def upscale(tile: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.interpolate(tile, scale_factor=(1, 8, 8), mode="nearest")[:, :3]

    space = video_vae._Scale(lambda start: start * 8, lambda size: size * 8)
    time = video_vae._Scale(lambda start: start, lambda size: size)
    tiled = video_vae._tiled_video(samples, upscale, (3, 4, 4), (1, 2, 1), (time, space, space), 3,
                                   torch.device("cpu"))
    assert (tiled - upscale(samples)).abs().max().item() < 1e-6


def test_tiled_decode_and_encode_match_untiled(vaes):
    vae = vaes["wan2.1"]
    latent = RECORDED["wan2.1/latent"]
    whole = vae.decode(latent)
    # A tile that holds the whole latent is the untiled decode, bit for bit.
    assert torch.equal(vae.decode_tiled(latent, tile_x=8, tile_y=8, overlap=2), whole)
    # Real tiles: the same frames; random weights see the whole picture (and the mid-block attention is global),
    # so tiles differ from the whole more than a trained VAE's do. Measured: max 0.30, mean 0.03.
    wide = torch.randn(1, 16, 2, 12, 12, generator=torch.Generator().manual_seed(5))
    untiled = vae.decode(wide)
    tiled = vae.decode_tiled(wide, tile_x=8, tile_y=8, overlap=4)
    assert tiled.shape == untiled.shape == (1, 5, 96, 96, 3)
    assert (tiled - untiled).abs().mean().item() < 0.08
    (image,) = VAEDecodeTiled().decode(vae, {"samples": wide}, tile_size=64, overlap=32, temporal_size=8,
                                       temporal_overlap=4)
    assert image.shape == (5, 96, 96, 3)
    frames = RECORDED["wan2.1/frames"]
    assert torch.equal(vae.encode_tiled(frames), vae.encode(frames))  # defaults: one tile
    (encoded,) = VAEEncodeTiled().encode(vae, untiled[0], tile_size=64, overlap=32, temporal_size=64,
                                         temporal_overlap=8)
    assert encoded["samples"].shape == (1, 16, 2, 12, 12)
    assert (encoded["samples"] - vae.encode(untiled[0])).abs().mean().item() < 0.2


def test_non_vae_and_incomplete_wan_vae_files_give_clear_errors(tmp_path):
    other = tmp_path / "not_a_vae.safetensors"
    save_file({"model.layers.0.weight": torch.zeros(4, 4)}, str(other))
    with pytest.raises(comfy.sd.ModelFileError, match="not_a_vae.safetensors holds no VAE weights.*Wan video VAE"):
        comfy.sd.load_vae(str(other))
    weights = _reduced_weights("wan2.1")
    del weights["decoder.upsamples.4.shortcut.weight"]
    broken = tmp_path / "broken_wan.safetensors"
    save_file(weights, str(broken))
    with pytest.raises(WeightLoadError, match="broken_wan.safetensors.*decoder.up_blocks.1.resnets.0.conv_shortcut"):
        comfy.sd.load_vae(str(broken))
