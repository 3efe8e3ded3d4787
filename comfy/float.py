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

__all__ = ["stochastic_rounding", "string_to_seed"]

# exponent bits, mantissa bits, exponent bias of the fp8 formats
FP8_FORMATS: dict[torch.dtype, tuple[int, int, int]] = {
    torch.float8_e4m3fn: (4, 3, 7),
    torch.float8_e5m2: (5, 2, 15),
}
SLICE_VALUES = 4096 * 4096  # values per slice, about


def string_to_seed(data: str) -> int:
    """The seed ComfyUI derives from a weight's name: the CRC-32 of its UTF-8 bytes."""
    return zlib.crc32(data.encode("utf-8"))


def _round_slice(values: torch.Tensor, dtype: torch.dtype, generator: torch.Generator) -> torch.Tensor:
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
    return signed.clamp(-limit, limit).to(torch.float16).to(dtype)


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


# ComfyUI 0.3.64 names Kiln does not implement: faces that raise UnsupportedError when used
from comfy.unsupported import unsupported_function  # noqa: E402

_REASON = 'Kiln has no equivalent of this ComfyUI internal'

calc_mantissa = unsupported_function(__name__, 'calc_mantissa', 'abs_x, exponent, normal_mask, MANTISSA_BITS, EXPONENT_BIAS, generator=', _REASON)
manual_stochastic_round_to_float8 = unsupported_function(__name__, 'manual_stochastic_round_to_float8', 'x, dtype, generator=', _REASON)
