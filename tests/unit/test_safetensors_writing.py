"""comfy.utils.write_safetensors: a state dict streamed to a safetensors file that the safetensors library and
Kiln's own reader load back exactly, tensors that share memory included."""

import torch
from safetensors import safe_open

import comfy.utils


def test_written_tensors_load_back_exactly_with_their_metadata(tmp_path):
    block = torch.arange(24, dtype=torch.float32)
    tensors = {
        "first_half": block[:12].reshape(3, 4),  # views of one block, which safetensors.torch.save_file refuses
        "second_half": block[12:],
        "tied": block[:12].reshape(3, 4),
        "transposed": torch.randn(4, 3).T,
        "half": torch.randn(5, dtype=torch.float16),
        "bfloat": torch.randn(2, 2, dtype=torch.bfloat16),
        "fp8": torch.randn(8).to(torch.float8_e4m3fn),
        "ids": torch.arange(77, dtype=torch.int64).reshape(1, 77),
        "flag": torch.tensor([True, False]),
        "scalar": torch.tensor(4.6055),
        "empty": torch.tensor([]),
    }
    path = tmp_path / "written.safetensors"
    comfy.utils.write_safetensors(str(path), tensors, {"prompt": "{}", "format": "pt"})

    with safe_open(str(path), framework="pt") as written:
        assert written.metadata() == {"prompt": "{}", "format": "pt"}
        assert set(written.keys()) == set(tensors)
        for key, value in tensors.items():
            loaded = written.get_tensor(key)
            assert loaded.dtype == value.dtype and loaded.shape == value.shape, key
            assert torch.equal(loaded.reshape(-1).view(torch.uint8), value.reshape(-1).view(torch.uint8)), key
    mapped = comfy.utils.load_torch_file(str(path))
    assert all(torch.equal(mapped[key].float(), value.float()) for key, value in tensors.items())
