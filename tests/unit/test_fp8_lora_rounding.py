"""comfy.float and the ModelPatcher write a LoRA-patched fp8 weight back exactly as ComfyUI 0.3.64 does: seeded
stochastic rounding (seed = CRC-32 of ComfyUI's weight name), row slices of 4096 x 4096 values, and for a
`scaled_fp8` layer the scale applied before and removed after. Against the bytes ComfyUI produced
(tests/fixtures/comfyui_lora/fp8_lora_probe.*)."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import comfy.float
from comfy.model_patcher import ModelPatcher

PROBE = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_lora"
DTYPES = {"float8_e4m3fn": torch.float8_e4m3fn, "float8_e5m2": torch.float8_e5m2}


@pytest.fixture(scope="module")
def probe():
    return json.loads((PROBE / "fp8_lora_probe.json").read_text()), load_file(str(PROBE / "fp8_lora_probe.safetensors"))


def _bytes(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.contiguous().view(torch.uint8)


def test_the_seed_is_the_crc32_of_comfyuis_weight_name(probe):
    meta, _ = probe
    for name, seeds in meta["string_to_seed"].items():
        assert comfy.float.string_to_seed(name) == seeds["comfy"], name


@pytest.mark.parametrize("case", ["float8_e4m3fn_seed0", "float8_e4m3fn_seed1419240356", "float8_e5m2_seed0",
                                  "float8_e5m2_seed1419240356", "quirk_float8_e4m3fn_seed1419240356",
                                  "quirk_float8_e5m2_seed1419240356"])
def test_stochastic_rounding_gives_comfyuis_bytes(probe, case):
    meta, tensors = probe
    entry = meta["direct_stochastic_rounding"][case]
    dtype = DTYPES[case.removeprefix("quirk_").rsplit("_seed", 1)[0]]
    row = tensors["direct/quirk_values_f32" if case.startswith("quirk") else "direct/values_f32"]
    values = row.expand(entry["shape"][0], -1).contiguous()  # each value rounded in every row: many draws
    rounded = comfy.float.stochastic_rounding(values, dtype, entry["seed"])
    assert torch.equal(_bytes(rounded), tensors[f"direct/{case}_u8"])
    # not a plain cast: some values went to the other neighbour
    assert not torch.equal(_bytes(rounded), _bytes(values.to(torch.float16).to(dtype)))


@pytest.mark.parametrize("dtype", [torch.float8_e4m3fn, torch.float8_e5m2])
def test_the_lookup_tables_give_the_rules_arithmetic_for_every_float16_value(dtype):
    """stochastic_rounding looks the rule up in tables over all float16 bit patterns; the rule computed value by
    value (manual_stochastic_round_to_float8, with the same draws) agrees on every value, subnormals, the largest
    values, zeros, infinities and NaN included, each drawn 8 times."""
    every = torch.arange(65536, dtype=torch.int32).to(torch.int16).view(torch.float16).float()
    values = every.repeat(8).reshape(8, -1)
    generator = torch.Generator().manual_seed(comfy.float.string_to_seed("probe.weight"))
    computed = comfy.float.manual_stochastic_round_to_float8(values, dtype, generator).to(dtype)
    looked_up = comfy.float.stochastic_rounding(values, dtype, comfy.float.string_to_seed("probe.weight"))
    assert torch.equal(_bytes(looked_up), _bytes(computed))


def test_other_dtypes_are_a_plain_cast():
    values = torch.randn(5, 7)
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        assert torch.equal(comfy.float.stochastic_rounding(values, dtype, 3), values.to(dtype))


def _holder(key: str, weight: torch.Tensor, scale: float | None) -> torch.nn.Module:
    """A module tree in which `key` names `weight` (and its layer holds `scale_weight` when scaled)."""
    root = torch.nn.Module()
    parent = root
    *path, name = key.split(".")
    for part in path:
        child = torch.nn.Module()
        parent.add_module(part, child)
        parent = child
    parent.register_parameter(name, torch.nn.Parameter(weight.clone(), requires_grad=False))
    if scale is not None:
        parent.register_buffer("scale_weight", torch.tensor(scale, dtype=torch.float32))
    return root


@pytest.mark.parametrize("case", ["e4m3fn_plain", "e5m2_plain", "e4m3fn_no_alpha_negative_strength",
                                  "e4m3fn_scaled", "e5m2_scaled", "e4m3fn_two_loras"])
def test_a_patched_fp8_weight_is_written_back_with_comfyuis_bytes(probe, case):
    meta, tensors = probe
    entry = meta["probes"][case]
    dtype = DTYPES[entry["dtype"]]
    weight = tensors[f"{case}/weight_u8"].view(dtype).reshape(entry["shape"])
    holder = _holder(entry["key"], weight, entry["scale_weight"])
    patcher = ModelPatcher(holder, torch.device("cpu"), torch.device("cpu"))
    for index, lora in enumerate(entry["loras"]):
        up, down = tensors[f"{case}/lora{index}_up"], tensors[f"{case}/lora{index}_down"]
        patcher.add_patches({entry["key"]: (up, down, lora["alpha"])}, lora["strength"])
    patcher.patch_model()
    patched = holder.get_parameter(entry["key"]).detach().clone()
    assert torch.equal(_bytes(patched), tensors[f"{case}/patched_u8"])
    patcher.unpatch_model()
    assert torch.equal(_bytes(holder.get_parameter(entry["key"])), _bytes(weight))


@pytest.mark.parametrize("case", ["e4m3fn_large_wo_shape", "e4m3fn_scaled_large_wo_shape"])
def test_a_full_size_weight_is_rounded_in_comfyuis_row_slices(probe, case):
    """T5-XXL's `wo` [4096, 10240] spans 2.5 slices of 4096 x 4096 values: rows 0, 1638 and 3276 start slices."""
    meta, tensors = probe
    entry = meta["probes"][case]
    dtype = DTYPES[entry["dtype"]]
    seeds = {"e4m3fn_large_wo_shape": (106, 1060, 0.02), "e4m3fn_scaled_large_wo_shape": (107, 1070, 1.0)}
    weight_seed, lora_seed, weight_std = seeds[case]
    out_features, in_features = entry["shape"]
    weight = (torch.randn(entry["shape"], generator=torch.Generator().manual_seed(weight_seed)) * weight_std).to(dtype)
    rows = entry["stored_rows"]  # rows at the slice boundaries, their first 512 values
    columns = tensors[f"{case}/weight_rows_u8"].shape[1]
    assert torch.equal(_bytes(weight[rows, :columns]), tensors[f"{case}/weight_rows_u8"])
    holder = _holder(entry["key"], weight, entry["scale_weight"])
    patcher = ModelPatcher(holder, torch.device("cpu"), torch.device("cpu"))
    for index, lora in enumerate(entry["loras"]):
        generator = torch.Generator().manual_seed(lora_seed + index)
        down = (torch.randn([lora["rank"], in_features], generator=generator) / in_features**0.5).half()
        up = (torch.randn([out_features, lora["rank"]], generator=generator) * 0.25).half()
        patcher.add_patches({entry["key"]: (up, down, lora["alpha"])}, lora["strength"])
    patcher.patch_model()
    patched = holder.get_parameter(entry["key"]).detach()
    assert torch.equal(_bytes(patched[rows, :columns]), tensors[f"{case}/patched_rows_u8"])
