"""Rounding float32 weights into fp8 the way ComfyUI does when it writes a patched weight back (ComfyUI's
`comfy.float`): stochastic rounding from a generator seeded by the weight's name, so a LoRA on an fp8 model gives
ComfyUI's numbers.

The rule (recorded and checked bit for bit on ComfyUI 0.3.64: tests/fixtures/comfyui_lora/README.md, "fp8 rule"):
the tensor is cut into row slices of about 4096 x 4096 values; for each slice in turn, every value `x` is first
rounded to float16 `h`; with `e = floor(log2|h|)` (log2 rounded to float16) and the fp8 format's biased exponent
`b = clamp(e + bias, 0, 2^E - 1)`, its mantissa in units of the fp8 mantissa's last bit is
`m = (|h| / 2^(b - bias) - 1) * 2^M` (or `|h| * 2^(bias - 1 + M)` when `b` is 0, subnormal); one float16 uniform
`u` per value is drawn (`torch.rand(..., dtype=float16)`, one generator for all slices), `k = floor(float16(m + u))`,
and the value becomes `sign(h) * 2^(b - bias) * (1 + k / 2^M)` (subnormal: `2^(1 - bias) * k / 2^M`), clamped to
the format's range. Other dtypes are cast as usual.
"""

from __future__ import annotations

import zlib

import torch

__all__ = ["calc_mantissa", "manual_stochastic_round_to_float8", "stochastic_rounding", "string_to_seed"]

# exponent bits, mantissa bits, exponent bias of the fp8 formats
FP8_FORMATS: dict[torch.dtype, tuple[int, int, int]] = {
    torch.float8_e4m3fn: (4, 3, 7),
    torch.float8_e5m2: (5, 2, 15),
}
SLICE_VALUES = 4096 * 4096  # values per slice, about


def string_to_seed(data: str) -> int:
    """The seed ComfyUI derives from a weight's name: the CRC-32 of its UTF-8 bytes."""
    return zlib.crc32(data.encode("utf-8"))


def calc_mantissa(abs_x: torch.Tensor, exponent: torch.Tensor, normal_mask: torch.Tensor, MANTISSA_BITS: int,  # noqa: N803
                  EXPONENT_BIAS: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """The fp8 mantissa fraction of `abs_x` (|x|, with its biased fp8 `exponent`; `normal_mask` False where it is
    0, subnormal), rounded stochastically: one uniform draw in `abs_x`'s dtype per value is added to the mantissa in
    units of its last bit, floored, and divided back into a fraction of 1."""
    units = 2**MANTISSA_BITS
    in_units = torch.where(normal_mask, (abs_x / 2.0 ** (exponent - EXPONENT_BIAS) - 1.0) * units,
                           abs_x * 2.0 ** (EXPONENT_BIAS - 1 + MANTISSA_BITS))
    uniform = torch.rand(in_units.shape, dtype=in_units.dtype, device=in_units.device, generator=generator)
    return torch.floor(in_units + uniform) / units


def manual_stochastic_round_to_float8(x: torch.Tensor, dtype: torch.dtype,
                                      generator: torch.Generator | None = None) -> torch.Tensor:
    """`x` stochastically rounded to the values of the fp8 `dtype` (see the module docstring), returned in float16
    (every fp8 value is one), clamped to the format's range. ValueError for a dtype that is not fp8."""
    if dtype not in FP8_FORMATS:
        raise ValueError(f"stochastic rounding is for float8_e4m3fn and float8_e5m2, not {dtype}")
    return _round_half(x.float(), dtype, generator)


def _round_slice(values: torch.Tensor, dtype: torch.dtype, generator: torch.Generator) -> torch.Tensor:
    return _round_half(values, dtype, generator).to(dtype)


def _round_half(values: torch.Tensor, dtype: torch.dtype, generator: torch.Generator | None) -> torch.Tensor:
    exponent_bits, mantissa_bits, bias = FP8_FORMATS[dtype]
    half = values.to(torch.float16)
    magnitude = half.abs().double()  # exact
    with torch.no_grad():
        log2 = torch.log2(magnitude).to(torch.float16).double()  # -inf at 0, as float16 arithmetic gives
    biased = (torch.floor(log2) + bias).clamp(0, 2**exponent_bits - 1)
    normal = biased != 0
    power = torch.pow(2.0, biased - bias)
    mantissa = torch.where(normal, (magnitude / power - 1.0) * 2**mantissa_bits,
                           magnitude * 2.0 ** (bias - 1 + mantissa_bits))
    uniform = torch.rand(half.shape, dtype=torch.float16, generator=generator)
    steps = torch.floor((mantissa + uniform.double()).to(torch.float16).double())
    rounded = torch.where(normal, power * (1.0 + steps / 2**mantissa_bits),
                          2.0 ** (1 - bias) * (steps / 2**mantissa_bits))
    signed = torch.where(magnitude == 0, torch.zeros_like(rounded), torch.sign(half.double()) * rounded)
    limit = float(torch.finfo(dtype).max)
    return signed.clamp(-limit, limit).to(torch.float16)


def stochastic_rounding(value: torch.Tensor, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """`value` (float32) in `dtype`: fp8 by ComfyUI's seeded stochastic rounding (see the module docstring),
    any other dtype by a plain cast."""
    if dtype not in FP8_FORMATS:
        return value.to(dtype=dtype)
    generator = torch.Generator(device=value.device)
    generator.manual_seed(seed)
    rows = value.shape[0] if value.ndim else 1
    flat = value.reshape(rows, -1) if value.ndim else value.reshape(1, 1)
    slices = max(1, value.numel() / SLICE_VALUES)
    step = max(1, round(rows / slices))
    output = torch.empty(flat.shape, dtype=dtype, device=value.device)
    for start in range(0, rows, step):
        output[start:start + step] = _round_slice(flat[start:start + step].float(), dtype, generator)
    return output.reshape(value.shape)

