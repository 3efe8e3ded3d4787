"""comfy.utils.load_safetensors_mapped: safetensors files read through a private memory map, checked strictly."""

import json
import os
import struct

import pytest
import torch
from safetensors.torch import load_file, save_file

import comfy.sd
import comfy.utils
from tests import model_factory


def mapped_ranges(path) -> list[tuple[int, int]]:
    """Address ranges of this process's memory maps of `path` (from /proc/self/maps)."""
    real = os.path.realpath(path)
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].strip() == real:
                start, end = (int(value, 16) for value in fields[0].split("-"))
                ranges.append((start, end))
    return ranges


def anonymous_memory() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def test_every_dtype_loads_as_safetensors_itself_loads_it(tmp_path):
    path = tmp_path / "all.safetensors"
    tensors = {
        "f32": torch.randn(3, 5), "f16": torch.randn(7).half(), "bf16": torch.randn(2, 3).bfloat16(),
        "f64": torch.randn(4, dtype=torch.float64), "e4m3": torch.randn(9).to(torch.float8_e4m3fn),
        "e5m2": torch.randn(9).to(torch.float8_e5m2), "i64": torch.arange(5), "i8": torch.arange(-3, 4).char(),
        "u8": torch.arange(11).byte(), "bool": torch.tensor([True, False, True]), "empty": torch.zeros(0, 4),
        "scalar": torch.tensor(2.5),
    }
    save_file(tensors, path)
    loaded = comfy.utils.load_torch_file(str(path))
    expected = load_file(path)
    assert loaded.keys() == expected.keys()
    for key, value in expected.items():
        assert loaded[key].dtype == value.dtype and loaded[key].shape == value.shape
        assert torch.equal(loaded[key].reshape(-1).view(torch.uint8), value.reshape(-1).view(torch.uint8)), key


def test_tensors_are_views_of_the_file_and_cost_no_anonymous_memory(tmp_path):
    path = tmp_path / "big.safetensors"
    save_file({f"w{index}": torch.full((1024, 1024), float(index)) for index in range(16)}, path)  # 64 MiB
    before = anonymous_memory()
    loaded = comfy.utils.load_torch_file(str(path))
    total = sum(float(tensor.sum()) for tensor in loaded.values())  # touches every page
    grown = anonymous_memory() - before
    assert total == sum(index * 1024 * 1024 for index in range(16))
    assert grown < 16 * 1024 * 1024, f"loading a 64 MiB file grew anonymous memory by {grown / 2**20:.1f} MiB"
    (start, end), *_ = mapped_ranges(path)
    assert all(start <= tensor.data_ptr() < end for tensor in loaded.values())


def test_writing_to_a_loaded_tensor_leaves_the_file_alone(tmp_path):
    path = tmp_path / "w.safetensors"
    save_file({"w": torch.zeros(4096)}, path)
    loaded = comfy.utils.load_torch_file(str(path))
    loaded["w"].add_(1)
    assert float(loaded["w"].sum()) == 4096
    assert float(load_file(path)["w"].sum()) == 0


def test_a_file_replaced_while_mapped_keeps_the_loaded_tensors(tmp_path):
    path = tmp_path / "r.safetensors"
    save_file({"w": torch.ones(100_000)}, path)
    loaded = comfy.utils.load_torch_file(str(path))
    replacement = tmp_path / "new.safetensors"
    save_file({"other": torch.zeros(3)}, replacement)
    os.replace(replacement, path)  # how CheckpointSave writes
    assert float(loaded["w"].sum()) == 100_000


def test_a_misaligned_tensor_is_copied_and_still_correct(tmp_path):
    path = tmp_path / "odd.safetensors"
    save_file({"a_bytes": torch.arange(3).byte(), "b_floats": torch.arange(5.0)}, path)  # b starts at byte 3
    loaded = comfy.utils.load_torch_file(str(path))
    assert torch.equal(loaded["b_floats"], torch.arange(5.0))
    assert torch.equal(loaded["a_bytes"], torch.arange(3).byte())


def raw_safetensors(path, header: dict, data: bytes) -> None:
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)


@pytest.mark.parametrize(("header", "data", "message"), [
    ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8, "truncated"),
    ({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 12]}}, b"\0" * 16, "does not fit"),
    ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "expected 0"),
    ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
      "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\0" * 12, "expected 8"),
    ({"w": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}, b"\0", "malformed"),
    ({"w": {"shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4, "malformed"),
])
def test_a_malformed_file_is_refused_with_the_reason(tmp_path, header, data, message):
    path = tmp_path / "bad.safetensors"
    raw_safetensors(path, header, data)
    with pytest.raises(ValueError, match=message):
        comfy.utils.load_torch_file(str(path))


def test_a_header_longer_than_the_file_is_refused(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(ValueError, match="header claims"):
        comfy.utils.load_torch_file(str(path))


def test_a_float32_checkpoint_loads_into_models_that_share_the_files_pages(tmp_path):
    """No copy before the device: with the file's dtype equal to the compute dtype (here fp32 on the CPU), the
    loaded UNet's weights are the mapped file itself."""
    path = tmp_path / "fp32.safetensors"
    state_dict, _ = model_factory.tiny_checkpoint_state_dict("SD15", 0)
    model_factory.write_safetensors(path, {key: value.float() for key, value in state_dict.items()})
    patcher, _, _, _ = comfy.sd.load_checkpoint_guess_config(str(path), output_vae=False, output_clip=False)
    ranges = mapped_ranges(path)
    weights = list(patcher.model.diffusion_model.parameters())
    assert ranges and weights
    inside = [any(start <= weight.data_ptr() < end for start, end in ranges) for weight in weights]
    assert sum(inside) >= 0.9 * len(weights), f"only {sum(inside)} of {len(weights)} weights are file-backed"


def _raw_safetensors(path, entries: dict[str, tuple[str, list[int], bytes]]) -> None:
    """A safetensors file written byte by byte: {name: (dtype string, shape, data)}."""
    header, data, offset = {}, b"", 0
    for name, (dtype, shape, payload) in entries.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(payload)]}
        data += payload
        offset += len(payload)
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)


def test_every_dtype_the_format_defines_with_a_torch_type_loads_bit_for_bit(tmp_path):
    """U16/U32/U64, the fnuz fp8s, F8_E8M0 (microscaling exponents), complex and F4 (two fp4 values a byte, so
    torch's packed type halves the last dimension)."""
    payload = bytes(range(1, 65))
    entries = {"u16": ("U16", [4], payload[:8]), "u32": ("U32", [2, 2], payload[8:24]),
               "u64": ("U64", [1], payload[24:32]), "e8m0": ("F8_E8M0", [4], payload[32:36]),
               "e4m3fnuz": ("F8_E4M3FNUZ", [2], payload[36:38]), "e5m2fnuz": ("F8_E5M2FNUZ", [2], payload[38:40]),
               "c64": ("C64", [1], payload[40:48]), "fp4": ("F4", [2, 4], payload[48:52])}
    _raw_safetensors(tmp_path / "rare.safetensors", entries)
    loaded = comfy.utils.load_torch_file(str(tmp_path / "rare.safetensors"))
    expected = {"u16": (torch.uint16, (4,)), "u32": (torch.uint32, (2, 2)), "u64": (torch.uint64, (1,)),
                "e8m0": (torch.float8_e8m0fnu, (4,)), "e4m3fnuz": (torch.float8_e4m3fnuz, (2,)),
                "e5m2fnuz": (torch.float8_e5m2fnuz, (2,)), "c64": (torch.complex64, (1,)),
                "fp4": (torch.float4_e2m1fn_x2, (2, 2))}
    for name, (dtype, shape) in expected.items():
        assert (loaded[name].dtype, tuple(loaded[name].shape)) == (dtype, shape), name
        assert loaded[name].reshape(-1).view(torch.uint8).numpy().tobytes() == entries[name][2], name


def test_a_dtype_torch_has_no_type_for_names_the_file_and_the_tensor(tmp_path):
    _raw_safetensors(tmp_path / "fp6.safetensors", {"ok": ("F32", [1], b"\0" * 4), "w": ("F6_E2M3", [4], b"\0" * 3)})
    with pytest.raises(comfy.sd.ModelFileError, match="fp6.safetensors.*'w' is stored as F6_E2M3"):
        comfy.sd.read_model_file(str(tmp_path / "fp6.safetensors"))
    _raw_safetensors(tmp_path / "odd.safetensors", {"w": ("F9", [1], b"\0")})
    with pytest.raises(comfy.sd.ModelFileError, match="odd.safetensors.*'w' has a malformed header entry: the unknown dtype 'F9'"):
        comfy.sd.read_model_file(str(tmp_path / "odd.safetensors"))
