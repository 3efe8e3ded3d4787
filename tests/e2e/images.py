"""Small in-memory images for upload and /view tests."""

from __future__ import annotations

import io

from PIL import Image


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def gradient_rgba(width: int, height: int, seed: int) -> Image.Image:
    """An RGBA image whose every pixel differs, with a varying alpha channel; `seed` changes all the colours."""
    image = Image.new("RGBA", (width, height))
    image.putdata([((seed + 7 * x) % 256, (seed * 3 + 11 * y) % 256, (x * y + seed) % 256, (40 + 9 * x + y) % 256)
                   for y in range(height) for x in range(width)])
    return image


def solid_png(seed: int, size: int = 4) -> bytes:
    """A small opaque PNG whose colour depends on `seed`."""
    return png_bytes(Image.new("RGB", (size, size), (seed % 256, (seed // 256) % 256, 20)))
