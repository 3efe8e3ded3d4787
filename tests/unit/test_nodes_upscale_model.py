"""comfy_extras/nodes_upscale_model.py and comfy.utils.tiled_scale: loading through spandrel, clear errors for
files that are not upscale models, ComfyUI's tiling, and the out-of-memory fallback to smaller tiles."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

import comfy.utils
import folder_paths
from comfy import model_management
from comfy_extras.nodes_upscale_model import ImageUpscaleWithModel, UpscaleModelLoader, load_upscale_model


@pytest.fixture
def upscale_folder(tmp_path, monkeypatch):
    monkeypatch.setitem(folder_paths.folder_names_and_paths, "upscale_models",
                        ([str(tmp_path)], folder_paths.folder_names_and_paths["upscale_models"][1]))
    folder_paths.filename_list_cache.clear()
    yield tmp_path
    folder_paths.filename_list_cache.clear()


def test_a_checkpoint_that_is_not_an_upscale_model_is_a_clear_error(upscale_folder):
    save_file({"first_stage_model.decoder.conv_in.weight": torch.zeros(4, 4, 3, 3),
               "model.diffusion_model.input_blocks.0.0.weight": torch.zeros(8, 4, 3, 3)},
              str(upscale_folder / "vae-ish.safetensors"))

    with pytest.raises(ValueError, match="vae-ish.safetensors is not an upscale model that spandrel recognises"):
        UpscaleModelLoader.execute("vae-ish.safetensors")


def test_a_damaged_file_is_a_clear_error_naming_it(upscale_folder):
    (upscale_folder / "broken.pth").write_bytes(b"not a pickle")

    with pytest.raises(ValueError, match="cannot read broken.pth"):
        UpscaleModelLoader.execute("broken.pth")


class _Doubler(torch.nn.Module):
    """A stand-in upscale model: nearest 2x, refusing inputs wider than `max_tile` with an out-of-memory error."""

    scale = 2

    def __init__(self, max_tile: int):
        super().__init__()
        self.model = torch.nn.Conv2d(3, 3, 1)
        self.max_tile = max_tile
        self.tile_sizes: list[int] = []

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        self.tile_sizes.append(pixels.shape[-1])
        if pixels.shape[-1] > self.max_tile:
            raise model_management.OOM_EXCEPTION("out of memory (test)")
        return torch.nn.functional.interpolate(pixels, scale_factor=2, mode="nearest")


def test_out_of_memory_halves_the_tile_until_it_fits():
    image = torch.rand(1, 40, 700, 3)
    model = _Doubler(max_tile=200)

    (result,) = ImageUpscaleWithModel.execute(model, image)

    assert 512 in model.tile_sizes and 256 in model.tile_sizes and max(model.tile_sizes[-3:]) <= 128
    expected = torch.nn.functional.interpolate(image.movedim(-1, 1), scale_factor=2, mode="nearest").movedim(1, -1)
    assert result.shape == (1, 80, 1400, 3)
    assert torch.allclose(result, expected, atol=1e-6)


def test_out_of_memory_below_the_smallest_tile_is_raised():
    with pytest.raises(model_management.OOM_EXCEPTION):
        ImageUpscaleWithModel.execute(_Doubler(max_tile=100), torch.rand(1, 8, 300, 3))


def test_tiled_scale_blends_overlapping_tiles_into_the_whole_result():
    samples = torch.rand(2, 3, 20, 75)

    def function(tile: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.interpolate(tile, scale_factor=3, mode="nearest") * 0.5

    tiled = comfy.utils.tiled_scale(samples, function, tile_x=32, tile_y=16, overlap=4, upscale_amount=3)

    assert comfy.utils.get_tiled_scale_steps(75, 20, 32, 16, 4) == 3 * 2
    assert torch.allclose(tiled, function(samples), atol=1e-5)


def test_swinir_keys_saved_from_data_parallel_load_without_their_prefix():
    spandrel_swinir = pytest.importorskip("spandrel.architectures.SwinIR.__arch.SwinIR")
    network = spandrel_swinir.SwinIR(img_size=16, embed_dim=12, depths=[1], num_heads=[2], window_size=4,
                                     mlp_ratio=2.0, upscale=2, upsampler="pixelshuffle", img_range=1.0)
    state_dict = {f"module.{key}": value for key, value in network.state_dict().items()}

    model = load_upscale_model(state_dict, "swinir.pth")

    assert model.architecture.name == "SwinIR" and model.scale == 2
