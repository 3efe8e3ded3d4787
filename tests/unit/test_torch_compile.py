"""TorchCompileModel and comfy_api.torch_helpers' set_torch_compile_wrapper: the compiled diffusion model is swapped
in for each model call and back afterwards, so the loaded model and its other clones stay uncompiled. The tests
compile one layer with torch's "eager" backend (the graph capture without code generation): inductor's first compile
of even the tiny UNet takes minutes on this CPU (measured: 6.4 min, then the same latent within 2.4e-6 relative), and
capturing the whole UNet still about a minute."""

from __future__ import annotations

import pytest
import torch

import comfy.sd
import nodes
from comfy_api.torch_helpers import set_torch_compile_wrapper
from comfy_api.torch_helpers.torch_compile import TORCH_COMPILE_KWARGS
from comfy_extras.nodes_torch_compile import TorchCompileModel
from tests import model_factory


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    path = tmp_path_factory.mktemp("torch-compile") / "tiny-sd15.safetensors"
    model_factory.write_tiny_checkpoint(path, "SD15", 0)
    model, clip, _, _ = comfy.sd.load_checkpoint_guess_config(str(path))
    encode = nodes.CLIPTextEncode()
    return model, encode.encode(clip, "a cat")[0], encode.encode(clip, "")[0]


def _sample(model, positive, negative) -> torch.Tensor:
    latent = {"samples": torch.zeros((1, 4, 8, 8))}
    return nodes.KSampler().sample(model, 1, 2, 5.0, "euler", "normal", positive, negative, latent)[0]["samples"]


def test_the_compiled_model_runs_inside_the_call_and_gives_the_same_latent(loaded):
    model, positive, negative = loaded
    layer = model.model.diffusion_model.conv_out
    compiled = model.clone()
    set_torch_compile_wrapper(compiled, backend="eager", keys=["diffusion_model.conv_out"])
    calls = []
    layer.register_forward_hook(lambda module, args, output: calls.append(torch.compiler.is_compiling()))

    assert torch.equal(_sample(compiled, positive, negative), _sample(model, positive, negative))
    assert compiled.model_options[TORCH_COMPILE_KWARGS]["backend"] == "eager"
    assert model.model.diffusion_model.conv_out is layer  # swapped back after every call
    assert calls.count(True) == 2 and calls.count(False) == 2  # 2 steps (cond and uncond batched) each way


def test_a_second_wrapper_replaces_the_first(loaded):
    model = loaded[0].clone()
    set_torch_compile_wrapper(model, backend="eager")
    set_torch_compile_wrapper(model, backend="aot_eager")
    assert len(model.get_all_wrappers("apply_model")) == 1
    assert model.model_options[TORCH_COMPILE_KWARGS]["backend"] == "aot_eager"


def test_cudagraphs_without_cuda_is_a_clear_error(loaded):
    with pytest.raises(ValueError, match="cudagraphs backend needs a CUDA device"):
        TorchCompileModel.execute(loaded[0], "cudagraphs")


def test_the_node_registers_the_wrapper_on_a_clone(loaded):
    model = loaded[0]
    compiled = TorchCompileModel.execute(model, "inductor").result[0]
    assert compiled is not model and compiled.model_options[TORCH_COMPILE_KWARGS]["backend"] == "inductor"
    assert TORCH_COMPILE_KWARGS not in model.model_options
