"""The sigma and scheduler nodes give ComfyUI 0.3.64's numbers (to 1e-6) on the cases of
tests/fixtures/comfyui_sampling_nodes (recorded by tools/oracle/record_sampling_nodes.py); they and the sampler nodes
have ComfyUI's /object_info entries; each sampler node hands the sampler its options."""

from __future__ import annotations

import importlib.util
import json
import types
from pathlib import Path

import pytest
import torch

import comfy.model_sampling as model_sampling
import nodes
from comfy.k_diffusion import sampling as k_sampling
from comfy_api.latest import io as comfy_io
from comfy_execution import node_loading
from comfy_execution.node_info import node_info

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_sampling_nodes"
_spec = importlib.util.spec_from_file_location("kiln_sigma_cases", FIXTURES / "cases.py")
CASES = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(CASES)
RECORDED = json.loads((FIXTURES / "outputs.json").read_text())
OBJECT_INFO = json.loads((FIXTURES / "object_info.json").read_text())


class SD15Sampling(model_sampling.ModelSamplingDiscrete, model_sampling.EPS):
    pass


class SD3Sampling(model_sampling.ModelSamplingDiscreteFlow, model_sampling.CONST):
    pass


SAMPLINGS = {"sd15": SD15Sampling(None), "sd3": SD3Sampling(types.SimpleNamespace(sampling_settings={"shift": 3.0}))}


class Model:
    def __init__(self, sampling):
        self.sampling = sampling

    def get_model_object(self, name):
        assert name == "model_sampling"
        return self.sampling


@pytest.fixture(scope="module")
def registry():
    """The core nodes plus every comfy_extras module, as the server loads them; restored afterwards."""
    saved_classes, saved_names = dict(nodes.NODE_CLASS_MAPPINGS), dict(nodes.NODE_DISPLAY_NAME_MAPPINGS)
    assert node_loading.init_builtin_extra_nodes() == []
    yield nodes.NODE_CLASS_MAPPINGS
    nodes.NODE_CLASS_MAPPINGS.clear()
    nodes.NODE_CLASS_MAPPINGS.update(saved_classes)
    nodes.NODE_DISPLAY_NAME_MAPPINGS.clear()
    nodes.NODE_DISPLAY_NAME_MAPPINGS.update(saved_names)


def _value(spec):
    if isinstance(spec, dict) and "model" in spec:
        return Model(SAMPLINGS[spec["model"]])
    if isinstance(spec, dict) and "karras" in spec:
        return k_sampling.get_sigmas_karras(n=spec["karras"], sigma_min=0.0291675, sigma_max=14.614642)
    return spec


def _run(node_class, inputs):
    if issubclass(node_class, comfy_io.ComfyNode):
        return node_class.PREPARE_CLASS_CLONE({}).EXECUTE_NORMALIZED(**inputs).result[0]
    return getattr(node_class(), node_class.FUNCTION)(**inputs)[0]


def test_every_case_was_recorded():
    assert {case["id"] for case in CASES.all_cases()} == set(RECORDED)
    assert set(OBJECT_INFO) == set(CASES.OBJECT_INFO_NODES)


@pytest.mark.parametrize("case", CASES.all_cases(), ids=lambda case: case["id"])
def test_the_node_gives_comfyuis_numbers(registry, case):
    result = _run(registry[case["class"]], {name: _value(spec) for name, spec in case["inputs"].items()})
    expected = RECORDED[case["id"]]
    if isinstance(expected, float):
        assert isinstance(result, float) and result == pytest.approx(expected, rel=1e-6, abs=1e-9)
        return
    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
    assert result.shape == (len(expected),)
    torch.testing.assert_close(result, torch.tensor(expected, dtype=torch.float32), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", CASES.OBJECT_INFO_NODES)
def test_object_info_entry_equals_comfyui(registry, name):
    assert json.loads(json.dumps(node_info(name))) == OBJECT_INFO[name]


@pytest.mark.parametrize(("class_name", "inputs", "function", "options"), [
    ("SamplerEulerAncestral", {"eta": 0.5, "s_noise": 0.9}, "sample_euler_ancestral", {"eta": 0.5, "s_noise": 0.9}),
    ("SamplerLMS", {"order": 3}, "sample_lms", {"order": 3}),
    ("SamplerDPMPP_3M_SDE", {"eta": 0.7, "s_noise": 1.1, "noise_device": "cpu"}, "sample_dpmpp_3m_sde",
     {"eta": 0.7, "s_noise": 1.1}),
    ("SamplerDPMPP_3M_SDE", {"eta": 0.7, "s_noise": 1.1, "noise_device": "gpu"}, "sample_dpmpp_3m_sde_gpu",
     {"eta": 0.7, "s_noise": 1.1}),
    ("SamplerDPMPP_2M_SDE", {"solver_type": "heun", "eta": 1.0, "s_noise": 1.0, "noise_device": "cpu"},
     "sample_dpmpp_2m_sde", {"eta": 1.0, "s_noise": 1.0, "solver_type": "heun"}),
    ("SamplerDPMPP_SDE", {"eta": 1.0, "s_noise": 1.0, "r": 0.3, "noise_device": "cpu"}, "sample_dpmpp_sde",
     {"eta": 1.0, "s_noise": 1.0, "r": 0.3}),
    ("SamplerER_SDE", {"solver_type": "ODE", "max_stage": 2, "eta": 1.0, "s_noise": 1.0}, "sample_er_sde",
     {"s_noise": 0, "max_stage": 2}),
])
def test_a_sampler_node_hands_its_options_to_its_sampler(registry, class_name, inputs, function, options):
    node_class = registry[class_name]
    (sampler,) = node_class().get_sampler(**inputs)
    assert sampler.sampler_function.__name__ == function
    assert {key: sampler.extra_options[key] for key in options} == options
    # positionally too, as ComfyUI's classes take them
    (again,) = node_class().get_sampler(*inputs.values())
    assert again.sampler_function is sampler.sampler_function


def test_er_sde_scales_noise_by_its_solver_type(registry):
    node = registry["SamplerER_SDE"]()
    assert node.get_sampler("ER-SDE", 3, 1.0, 1.0)[0].extra_options["noise_scaler"] is None
    reverse = node.get_sampler("Reverse-time SDE", 3, 0.5, 1.0)[0].extra_options
    assert reverse["noise_scaler"](torch.tensor(4.0)).item() == pytest.approx(4.0 ** 1.5)
    assert node.get_sampler("Reverse-time SDE", 3, 0.0, 1.0)[0].extra_options["s_noise"] == 0
