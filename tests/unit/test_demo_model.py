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
PASS_BAR = 0.95


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
    """Share of `shapes_dataset.semantic_prompts()` (32 colour pairs in 4 phrasings; with `empty_prompt`, the 32
    pairs once, as the phrasing is not used) whose picture has the asked shape and background colours, and the
    misses."""
    misses = []
    prompts = shapes_dataset.semantic_prompts()[:32] if empty_prompt else shapes_dataset.semantic_prompts()
    for index, (colour, _shape, background, text) in enumerate(prompts):
        seen = shapes_dataset.dominant_colours(generate(demo_model, "" if empty_prompt else text, SEED + index, cfg))
        if seen != (colour, background):
            misses.append(f"{text!r}: got shape {seen[0]}, background {seen[1]}")
    return 1 - len(misses) / len(prompts), misses


def test_the_semantic_prompts_are_four_phrasings_of_32_colour_pairs_the_original_sentence_among_them():
    prompts = shapes_dataset.semantic_prompts()
    pairs = {(colour, background) for colour, _shape, background, _text in prompts}
    assert len(pairs) == 32 and len(prompts) == 4 * 32
    texts = {text for *_, text in prompts}
    assert {"a red circle on a green background", "red circle, green background",
            "a green background with a red circle", "circle, red, on green"} <= texts


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


def test_the_prompt_decides_the_colours_of_shape_and_background_however_it_is_phrased(demo_model):
    score, misses = colour_agreement(demo_model, cfg=5.0, empty_prompt=False)
    print(f"demo model colour agreement at cfg 5: {score:.3f} over {len(shapes_dataset.semantic_prompts())} prompts")
    assert score >= PASS_BAR, f"colour agreement {score:.2f} < {PASS_BAR}; misses:\n" + "\n".join(misses)


def test_without_the_prompt_the_colours_are_not_those_asked_for(demo_model):
    score, _ = colour_agreement(demo_model, cfg=1.0, empty_prompt=True)
    assert score < 0.5, f"an empty prompt at cfg 1 still matched {score:.2f} of the prompts' colours"
