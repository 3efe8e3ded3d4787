"""The demo model's world: 64x64 pictures of one coloured shape on a plain background, with their captions.

Every picture is drawn from its index and a seed alone (no files, no network), so the training set is the same
on every machine. The same palette classifies colours in generated images: `dominant_colours(image)` returns the
background colour (most common palette colour on the border) and the shape colour (most common palette colour
among the remaining pixels), which is what the demo model's semantic test checks.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 64
# Drawn this many times larger, then box-filtered down: anti-aliased edges like a real picture's.
SUPERSAMPLE = 4

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 25, 25),
    "green": (30, 170, 40),
    "blue": (30, 60, 230),
    "yellow": (250, 225, 20),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
    "purple": (140, 40, 180),
    "orange": (250, 130, 10),
}
SHAPES = ("circle", "square", "triangle", "star")
# Centre of the shape as fractions of the picture; caption words as they appear after "at the" / "in the".
POSITIONS: dict[str, tuple[float, float]] = {
    "centre": (0.5, 0.5),
    "left": (0.28, 0.5),
    "right": (0.72, 0.5),
    "top": (0.5, 0.28),
    "bottom": (0.5, 0.72),
    "top left": (0.28, 0.28),
    "top right": (0.72, 0.28),
    "bottom left": (0.28, 0.72),
    "bottom right": (0.72, 0.72),
}
# Radius of the shape's circumscribed circle, in pixels of the 64x64 picture.
SIZES: dict[str, float] = {"small": 12.0, "large": 19.0}


@dataclass(frozen=True)
class ShapeScene:
    """What one picture shows: shape and colours by name, position and size by name, plus small jitter."""

    shape: str
    colour: str
    background: str
    position: str
    size: str
    jitter: tuple[float, float, float, float]  # dx, dy (pixels), radius scale, rotation (degrees)


# How people phrase such a picture. Each form names the shape's colour and the background's colour, in different
# orders and word positions ("red circle, blue background", "a blue background with a red circle", "circle, red,
# on blue"), so that the model learns which colour belongs to what from the sentence's meaning rather than from
# where a colour word stands. {c}/{b}: shape and background colour, {a_c}/{a_b}: their articles, {s}: shape,
# {size}: "small"/"large", {where}: "in the centre", "at the top left", ...
CAPTION_TEMPLATES = (
    "{a_c} {c} {s} on {a_b} {b} background",
    "a {size} {c} {s} on {a_b} {b} background",
    "{a_c} {c} {s} {where} on {a_b} {b} background",
    "a {size} {c} {s} {where} on {a_b} {b} background",
    "{c} {s}, {b} background",
    "{a_b} {b} background with {a_c} {c} {s}",
    "{s}, {c}, on {b}",
    "a {s} in {c} on {a_b} {b} background",
    "{b} background, {c} {s}",
    "{a_c} {c} {s} on {b}",
    "a {size} {s}, {c}, {where}, {b} background",
    "{a_b} {b} background with a {size} {c} {s} {where}",
)
CAPTION_FORMS = len(CAPTION_TEMPLATES)
# The forms the demo model's semantic test asks for (the original sentence first): the phrasings of issue 22.
TEST_FORMS = (0, 4, 5, 6)


def caption(scene: ShapeScene, form: int) -> str:
    """The scene in words, phrased as `CAPTION_TEMPLATES[form]`."""
    where = "in the centre" if scene.position == "centre" else f"at the {scene.position}"
    return phrase(form, scene.colour, scene.shape, scene.background, size=scene.size, where=where)


def phrase(form: int, colour: str, shape: str, background: str, size: str = "small",
           where: str = "in the centre") -> str:
    """A caption of form `form` from its words."""
    return CAPTION_TEMPLATES[form].format(c=colour, b=background, s=shape, a_c=article(colour),
                                          a_b=article(background), size=size, where=where)


def article(word: str) -> str:
    """"an" before a vowel ("an orange circle"), else "a"."""
    return "an" if word[0] in "aeiou" else "a"


def semantic_prompts() -> list[tuple[str, str, str, str]]:
    """What the demo model's semantic test asks for: (shape colour, shape, background colour, prompt) for 32
    colour pairs (every colour with every shape) in each of the `TEST_FORMS` phrasings."""
    colours = list(COLOURS)
    prompts = []
    for form in TEST_FORMS:
        for index in range(32):
            colour = colours[index % len(colours)]
            shape = SHAPES[index // len(colours) % len(SHAPES)]
            background = colours[(index + 1 + 2 * (index // len(colours))) % len(colours)]
            prompts.append((colour, shape, background, phrase(form, colour, shape, background)))
    return prompts


def scene(index: int, seed: int = 0) -> ShapeScene:
    """The scene of picture `index` of the data set made from `seed`."""
    rng = random.Random(seed * 1_000_003 + index)
    colour = rng.choice(list(COLOURS))
    background = rng.choice([name for name in COLOURS if name != colour])
    jitter = (rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(0.85, 1.15), rng.uniform(-12, 12))
    return ShapeScene(rng.choice(SHAPES), colour, background, rng.choice(list(POSITIONS)), rng.choice(list(SIZES)),
                      jitter)


def sample(index: int, seed: int = 0) -> tuple[np.ndarray, str]:
    """Picture `index` (uint8 [64, 64, 3]) and its caption (the caption form also follows from index and seed)."""
    picture = scene(index, seed)
    form = random.Random(seed * 7_919 + index * 31 + 5).randrange(CAPTION_FORMS)
    return draw(picture), caption(picture, form)


def _polygon(cx: float, cy: float, radius: float, corners: int, rotation: float, inner: float | None = None
             ) -> list[tuple[float, float]]:
    points = []
    steps = corners * 2 if inner else corners
    for step in range(steps):
        angle = np.deg2rad(rotation - 90 + step * 360 / steps)
        r = radius * (inner if inner and step % 2 else 1.0)
        points.append((cx + r * np.cos(angle), cy + r * np.sin(angle)))
    return points


def draw(picture: ShapeScene) -> np.ndarray:
    """Render a scene to uint8 RGB [64, 64, 3]."""
    big = IMAGE_SIZE * SUPERSAMPLE
    canvas = Image.new("RGB", (big, big), COLOURS[picture.background])
    pen = ImageDraw.Draw(canvas)
    dx, dy, scale, rotation = picture.jitter
    fx, fy = POSITIONS[picture.position]
    cx, cy = (fx * IMAGE_SIZE + dx) * SUPERSAMPLE, (fy * IMAGE_SIZE + dy) * SUPERSAMPLE
    radius = SIZES[picture.size] * scale * SUPERSAMPLE
    fill = COLOURS[picture.colour]
    if picture.shape == "circle":
        pen.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)
    elif picture.shape == "square":
        pen.polygon(_polygon(cx, cy, radius * 1.05, 4, 45 + rotation), fill=fill)
    elif picture.shape == "triangle":
        pen.polygon(_polygon(cx, cy + radius * 0.15, radius * 1.15, 3, rotation), fill=fill)
    elif picture.shape == "star":
        pen.polygon(_polygon(cx, cy, radius * 1.15, 5, rotation, inner=0.45), fill=fill)
    else:
        raise ValueError(f"Unknown shape {picture.shape!r}; expected one of {', '.join(SHAPES)}.")
    small = canvas.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.uint8)


def batch(indices: range | list[int], seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Pictures (uint8 [N, 64, 64, 3]) and captions for `indices`."""
    pictures, captions = zip(*(sample(index, seed) for index in indices), strict=True)
    return np.stack(pictures), list(captions)


# --- reading colours back out of a picture ---------------------------------------------------------------

_PALETTE_NAMES = list(COLOURS)
_PALETTE = np.array([COLOURS[name] for name in _PALETTE_NAMES], dtype=np.float32)


def nearest_colours(pixels: np.ndarray) -> np.ndarray:
    """Index into `COLOURS` of the nearest palette colour (RGB distance) of each pixel of `pixels` [..., 3] 0..255."""
    distances = ((pixels[..., None, :].astype(np.float32) - _PALETTE) ** 2).sum(-1)
    return distances.argmin(-1)


def dominant_colours(image: np.ndarray, border: int = 3) -> tuple[str | None, str]:
    """(shape colour, background colour) names of an RGB picture [64, 64, 3] (uint8 0..255, or float 0..1).

    Background: the most common palette colour in the `border`-pixel frame. Shape: the most common palette colour
    among all pixels whose nearest palette colour is not the background's; None when there are fewer than 12 such
    pixels (no shape drawn).
    """
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        pixels = np.clip(pixels * 255.0, 0, 255)
    labels = nearest_colours(pixels)
    frame = np.ones(labels.shape, dtype=bool)
    frame[border:-border, border:-border] = False
    background = int(np.bincount(labels[frame], minlength=len(_PALETTE_NAMES)).argmax())
    others = labels[labels != background]
    if others.size < 12:
        return None, _PALETTE_NAMES[background]
    shape = int(np.bincount(others, minlength=len(_PALETTE_NAMES)).argmax())
    return _PALETTE_NAMES[shape], _PALETTE_NAMES[background]
