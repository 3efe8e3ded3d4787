"""The sigma and scheduler nodes give ComfyUI 0.3.64's numbers (to 1e-6) and its /object_info entries, on the
cases of tests/fixtures/comfyui_sigma_nodes (recorded by tools/oracle/record_sigma_nodes.py)."""

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

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "comfyui_sigma_nodes"
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
    assert set(OBJECT_INFO) == set(CASES.NODES)


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


@pytest.mark.parametrize("name", CASES.NODES)
def test_object_info_entry_equals_comfyui(registry, name):
    assert json.loads(json.dumps(node_info(name))) == OBJECT_INFO[name]
