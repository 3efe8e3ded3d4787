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
    """`values` (float32) stochastically rounded into `dtype` with one float16 draw each from `generator`.

    The same arithmetic as `_round_half`, looked up instead of computed: a float16 value `h` has two fp8
    neighbours that the rule can give (`floor(m)` and `floor(m) + 1` mantissa steps), and since float16(m + u) grows
    with `u`, the upper one is taken exactly when the draw `u` reaches a threshold that depends on `h` alone. The
    three tables over all 65536 float16 bit patterns are made once per format (`_rounding_tables`)."""
    neighbours, threshold = _rounding_tables(dtype)
    patterns = values.to(torch.float16).view(torch.int16).to(torch.int32) & 0xFFFF
    uniform = torch.rand(values.shape, dtype=torch.float16, generator=generator)
    take_upper = uniform >= threshold[patterns]
    return neighbours[patterns * 2 + take_upper].view(dtype)


_TABLES: dict[torch.dtype, tuple[torch.Tensor, torch.Tensor]] = {}


def _rounding_tables(dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """For every float16 bit pattern `p`: its lower and upper stochastic neighbour in `dtype` (bytes, at 2p and
    2p + 1) and the smallest float16 draw that picks the upper one (+inf where no draw does)."""
    if dtype in _TABLES:
        return _TABLES[dtype]
    exponent_bits, mantissa_bits, bias = FP8_FORMATS[dtype]
    half = torch.arange(65536, dtype=torch.int32).to(torch.int16).view(torch.float16)
    magnitude = half.abs().double()
    with torch.no_grad():
        log2 = torch.log2(magnitude).to(torch.float16).double()
    biased = (torch.floor(log2) + bias).clamp(0, 2**exponent_bits - 1)
    normal = biased != 0
    power = torch.pow(2.0, biased - bias)
    mantissa = torch.where(normal, (magnitude / power - 1.0) * 2**mantissa_bits,
                           magnitude * 2.0 ** (bias - 1 + mantissa_bits))
    limit = float(torch.finfo(dtype).max)

    def value(steps: torch.Tensor) -> torch.Tensor:
        rounded = torch.where(normal, power * (1.0 + steps / 2**mantissa_bits),
                              2.0 ** (1 - bias) * (steps / 2**mantissa_bits))
        signed = torch.where(magnitude == 0, torch.zeros_like(rounded), torch.sign(half.double()) * rounded)
        return signed.clamp(-limit, limit).to(torch.float16).to(dtype).view(torch.uint8)

    def steps_for(draw: torch.Tensor) -> torch.Tensor:
        return torch.floor((mantissa + draw.double()).to(torch.float16).double())

    # every float16 draw in [0, 1), ascending; binary search for the first that gives floor(m) + 1 steps
    draws = torch.arange(0, 0x3C00, dtype=torch.int32).to(torch.int16).view(torch.float16)
    low_steps = steps_for(torch.zeros_like(half))
    low = torch.zeros(65536, dtype=torch.long)
    high = torch.full((65536,), len(draws), dtype=torch.long)
    while bool((low < high).any()):
        middle = (low + high) // 2
        reaches = steps_for(draws[middle.clamp(max=len(draws) - 1)]) > low_steps
        active = low < high
        high = torch.where(active & reaches, middle, high)
        low = torch.where(active & ~reaches, middle + 1, low)
    threshold = torch.where(low < len(draws), draws[low.clamp(max=len(draws) - 1)],
                            torch.tensor(float("inf"), dtype=torch.float16))
    tables = (torch.stack([value(low_steps), value(low_steps + 1)], dim=1).reshape(-1), threshold)
    _TABLES[dtype] = tables
    return tables


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

