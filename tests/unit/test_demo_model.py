"""The shipped demo checkpoint draws what it is told: colours of shape and background follow the prompt.

Images come from Kiln's own nodes (CheckpointLoaderSimple's loader, CLIPTextEncode, EmptyLatentImage, KSampler
with euler for 20 steps, VAEDecode) and are judged with plain colour statistics (`tools/shapes_dataset.py`):
background = most common palette colour on the border, shape = most common palette colour among the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import comfy.sd
import nodes
from comfy.model_detection import model_family
from tools import shapes_dataset

CHECKPOINT = Path(__file__).resolve().parents[2] / "models" / "checkpoints" / "kiln-demo-shapes.safetensors"
STEPS = 20
SEED = 1234
PASS_BAR = 0.9


def prompts() -> list[tuple[str, str, str]]:
    """32 (shape colour, shape, background colour): every colour with every shape, 32 distinct colour pairs."""
    colours = list(shapes_dataset.COLOURS)
    chosen = []
    for index in range(32):
        colour = colours[index % len(colours)]
        shape = shapes_dataset.SHAPES[index // len(colours) % len(shapes_dataset.SHAPES)]
        background = colours[(index + 1 + 2 * (index // len(colours))) % len(colours)]
        chosen.append((colour, shape, background))
    return chosen


def prompt_text(colour: str, shape: str, background: str) -> str:
    return (f"{shapes_dataset.article(colour)} {colour} {shape} on "
            f"{shapes_dataset.article(background)} {background} background")


@pytest.fixture(scope="module")
def demo_model():
    assert CHECKPOINT.is_file(), f"{CHECKPOINT} is missing; make it with tools/train_demo_model.py"
    model, clip, vae, _ = comfy.sd.load_checkpoint_guess_config(str(CHECKPOINT))
    return model, clip, vae


def generate(demo_model, text: str, seed: int, cfg: float) -> np.ndarray:
    """One 64x64 picture (float RGB 0..1, [64, 64, 3]) through Kiln's txt2img nodes, negative prompt ""."""
    model, clip, vae = demo_model
    encode = nodes.NODE_CLASS_MAPPINGS["CLIPTextEncode"]()
    positive, negative = encode.encode(clip, text)[0], encode.encode(clip, "")[0]
    latent = nodes.NODE_CLASS_MAPPINGS["EmptyLatentImage"]().generate(64, 64, 1)[0]
    with torch.inference_mode():
        samples = nodes.NODE_CLASS_MAPPINGS["KSampler"]().sample(model, seed, STEPS, cfg, "euler", "normal",
                                                                 positive, negative, latent)[0]
        return nodes.NODE_CLASS_MAPPINGS["VAEDecode"]().decode(vae, samples)[0][0].numpy()


def colour_agreement(demo_model, cfg: float, empty_prompt: bool) -> tuple[float, list[str]]:
    """Share of `prompts()` whose picture has the asked shape and background colours, and the misses."""
    misses = []
    for index, (colour, shape, background) in enumerate(prompts()):
        text = "" if empty_prompt else prompt_text(colour, shape, background)
        seen = shapes_dataset.dominant_colours(generate(demo_model, text, SEED + index, cfg))
        if seen != (colour, background):
            misses.append(f"{prompt_text(colour, shape, background)!r}: got shape {seen[0]}, background {seen[1]}")
    return 1 - len(misses) / len(prompts()), misses


def test_the_colour_classifier_reads_the_drawn_training_pictures_correctly():
    pictures, _ = shapes_dataset.batch(range(300), seed=99)
    for index, picture in enumerate(pictures):
        scene = shapes_dataset.scene(index, seed=99)
        assert shapes_dataset.dominant_colours(picture) == (scene.colour, scene.background), scene


def test_the_demo_checkpoint_is_a_small_sd1_file_that_says_how_it_was_made():
    assert CHECKPOINT.stat().st_size <= 30 * 1024 * 1024
    with safe_open(str(CHECKPOINT), "pt") as handle:
        info = handle.metadata()
    assert info["kiln.training_script"] == "tools/train_demo_model.py"
    assert "licen" in json.dumps(info).lower()
    state_dict = load_file(str(CHECKPOINT))
    assert {key.split(".")[0] for key in state_dict} == {"model", "first_stage_model", "cond_stage_model"}
    assert all(tensor.dtype == torch.float16 for tensor in state_dict.values() if tensor.is_floating_point())
    assert model_family(state_dict).name == "SD15"


def test_the_prompt_decides_the_colours_of_shape_and_background(demo_model):
    score, misses = colour_agreement(demo_model, cfg=5.0, empty_prompt=False)
    assert score >= PASS_BAR, f"colour agreement {score:.2f} < {PASS_BAR}; misses:\n" + "\n".join(misses)


def test_without_the_prompt_the_colours_are_not_those_asked_for(demo_model):
    score, _ = colour_agreement(demo_model, cfg=1.0, empty_prompt=True)
    assert score < 0.5, f"an empty prompt at cfg 1 still matched {score:.2f} of the prompts' colours"
